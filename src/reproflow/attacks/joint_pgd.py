"""Joint-PGD: white-box signed-gradient ascent on the pixel noise and the attribute together
(spec section 5; an upper bound on what SPA's learned, restricted noise can achieve, and a sanity
check: SPA should not beat it by much).

``x_adv = clip(AM(x, a, a') + delta, 0, 1)``; each step ``delta += s * sign(grad_delta)`` projected on
the eps ball, ``a' += s_a * sign(grad_a')`` clipped to [0, 1], with ``s = step_factor * eps / steps``
and ``s_a = attr_step_factor / steps``. Random start (uniform delta and a'); restart 0 starts the
attribute at the sample's own value. Worst case per sample over iterates and restarts; with
``early_stop`` a sample leaves the optimisation once misclassified.

Grid start (issue 21; ``grid_size`` > 0, the evaluation setting): before the restarts the attribute grid
``linspace(0, 1, grid_size)`` is scanned with no noise (:func:`reproflow.attacks.attribute.scan_grid`, every
grid image a candidate) and restart 0 starts the attribute at each sample's worst grid value instead of its
own. Signed-gradient steps on a rotation find poor optima from the sample's own angle (Engstrom et al.,
ICML 2019): without the grid, joint-PGD was weaker than the grid alone at eps 0.01 on the cpu scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.attribute import check_grid_size, grid_start
from reproflow.attacks.base import Attack, AttackResult

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class JointPGD(Attack):
    """Signed-gradient PGD over (delta, a') through a differentiable manipulator."""

    name = "joint_pgd"
    semantic = True
    manipulator: AttributeManipulator  # the frozen editor it works through (required here)

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator, *, steps: int,
                 step_factor: float, attr_step_factor: float, restarts: int, grid_size: int,
                 early_stop: bool = True, **base: Any):
        super().__init__(classifier, eps, manipulator=manipulator, **base)
        self._schedule(steps, restarts, early_stop=early_stop)
        self.step_size = float(step_factor) * self.eps / self.steps
        self.attr_step = float(attr_step_factor) / self.steps
        self.grid_size = check_grid_size(grid_size)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        assert a is not None
        best = self._start_worst_case(x, y, a)
        a_start = grid_start(self, x, y, a, self.grid_size, best)
        for r, idx in self._restarts(best):
            k = keys[idx.cpu()]
            attr = a_start[idx].clone() if r == 0 else self._rand(k, f"jpgd-attr-{r}", (), "uniform", a)
            delta = self.eps * (2 * self._rand(k, f"jpgd-start-{r}", tuple(x.shape[1:]), "uniform", x) - 1)
            for t in range(self.steps + 1):
                x0, a0, y0 = x[idx], a[idx], y[idx]
                attr = attr.detach().requires_grad_(True)
                delta = delta.detach().requires_grad_(True)
                x_a = self.manipulator.edit(x0, a0, attr).clamp(0.0, 1.0)
                x_adv = (x_a + delta).clamp(0.0, 1.0)
                loss, logits = self._loss(x_adv, y0)
                best.update(x_adv, x_a, attr, loss, logits, y0, idx=idx)
                if t == self.steps:
                    break
                g_attr, g_delta = torch.autograd.grad(loss.sum(), [attr, delta])
                with torch.no_grad():
                    attr = (attr + self.attr_step * g_attr.sign()).clamp(0.0, 1.0)
                    delta = (delta + self.step_size * g_delta.sign()).clamp(-self.eps, self.eps)
                    # keep x_a + delta in [0, 1] for the current x_a (the next x_a is clipped again)
                    delta = (x_a.detach() + delta).clamp(0.0, 1.0) - x_a.detach()
                if self.early_stop:
                    keep = ~best.fooled[idx]
                    if not keep.any():
                        break
                    idx, attr, delta = idx[keep], attr[keep], delta[keep]
        return best.result()
