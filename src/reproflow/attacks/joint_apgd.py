"""Joint APGD: the step-size schedule and momentum of APGD (Croce & Hein, "Reliable evaluation of adversarial
robustness with an ensemble of diverse parameter-free attacks", ICML 2020, Algorithm 1) applied jointly to
the pixel noise delta and the attribute a' through a differentiable editor (issue #11: a stronger white-box
joint attack beside joint-PGD, the upper bound of the joint threat model).

Per sample: steps eta_d (pixels, starts at 2 eps) and eta_a (normalised attribute, starts at ``attr_step``);
``z = P(v + eta sign(grad))``, ``v_next = P(v + alpha (z - v) + (1 - alpha)(v - v_prev))`` with alpha 0.75
(no momentum on the first step), for ``v`` = (delta, a'); at the checkpoints ``w_j`` of the paper
(p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)) both steps halve and the iterate
returns to the sample's best point if fewer than 75% of the steps since the last checkpoint raised the
loss, or if the step was not halved at the last checkpoint and the best loss did not improve since.
``x_adv = clip(AM(x, a, a') + delta, 0, 1)``; restart 0 starts at delta = 0 and the sample's own attribute,
later restarts at a uniform delta and attribute. Worst case per sample over every iterate and restart.
Grid start (issue 21; ``grid_size`` > 0, the evaluation setting): as joint-PGD's, restart 0 starts the
attribute at each sample's worst value of the scanned attribute grid (every grid image a candidate).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.attribute import check_grid_size, grid_start
from reproflow.attacks.base import Attack, AttackResult

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


def checkpoints(steps: int) -> list[int]:
    """APGD's checkpoint iterations ``ceil(p_j * steps)`` (Croce & Hein 2020, section 3.2), j >= 1."""
    p = [0.0, 0.22]
    while p[-1] < 1.0:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    return sorted({math.ceil(q * steps - 1e-9) for q in p[1:] if q <= 1.0})


class JointAPGD(Attack):
    """APGD-CE over (delta, a') through a differentiable manipulator."""

    name = "joint_apgd"
    semantic = True
    manipulator: AttributeManipulator  # the frozen editor it works through (required here)

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator, *, steps: int,
                 restarts: int, attr_step: float, grid_size: int, **base: Any):
        super().__init__(classifier, eps, manipulator=manipulator, **base)
        self._schedule(steps, restarts, min_steps=2)
        if attr_step <= 0:
            raise ValueError(f"attr_step must be > 0, got {attr_step}")
        self.attr_step = float(attr_step)
        self.alpha, self.rho = 0.75, 0.75
        self.grid_size = check_grid_size(grid_size)

    def _eval(self, x, y, a, delta, attr):
        attr = attr.detach().requires_grad_(True)
        delta = delta.detach().requires_grad_(True)
        x_a = self.manipulator.edit(x, a, attr).clamp(0.0, 1.0)
        x_adv = (x_a + delta).clamp(0.0, 1.0)
        loss, logits = self._loss(x_adv, y)
        g_attr, g_delta = torch.autograd.grad(loss.sum(), [attr, delta])
        return x_a.detach(), x_adv.detach(), loss.detach(), logits.detach(), g_delta, g_attr

    def _project(self, x_a: torch.Tensor, delta: torch.Tensor, attr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        delta = delta.clamp(-self.eps, self.eps)
        # keep x_a + delta in [0, 1] for the current x_a (the next x_a is clipped again)
        return (x_a + delta).clamp(0.0, 1.0) - x_a, attr.clamp(0.0, 1.0)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        assert a is not None
        best = self._start_worst_case(x, y, a)
        a_start = grid_start(self, x, y, a, self.grid_size, best)
        b = x.shape[0]
        view = (b,) + (1,) * (x.ndim - 1)
        marks = set(checkpoints(self.steps))
        for r in range(self.restarts):
            if r == 0:
                delta, attr = torch.zeros_like(x), a_start.clone()
            else:
                delta = self.eps * (2 * self._rand(keys, f"japgd-start-{r}", tuple(x.shape[1:]), "uniform", x) - 1)
                attr = self._rand(keys, f"japgd-attr-{r}", (), "uniform", a)
            eta_d = torch.full((b,), 2 * self.eps, device=x.device, dtype=x.dtype)
            eta_a = torch.full((b,), self.attr_step, device=x.device, dtype=x.dtype)
            x_a, x_adv, loss, logits, g_d, g_a = self._eval(x, y, a, delta, attr)
            best.update(x_adv, x_a, attr, loss, logits, y)
            delta, attr = self._project(x_a, delta, attr)
            run_best = loss.clone()
            run_best_d, run_best_a = delta.clone(), attr.clone()
            prev_d, prev_a = delta.clone(), attr.clone()
            increases = torch.zeros(b, device=x.device)
            last_mark, best_at_mark = 0, run_best.clone()
            halved_at_mark = torch.ones(b, dtype=torch.bool, device=x.device)
            for k in range(self.steps):
                with torch.no_grad():
                    z_d, z_a = self._project(x_a, delta + eta_d.view(view) * g_d.sign(), attr + eta_a * g_a.sign())
                    if k == 0:
                        new_d, new_a = z_d, z_a
                    else:
                        new_d = delta + self.alpha * (z_d - delta) + (1 - self.alpha) * (delta - prev_d)
                        new_a = attr + self.alpha * (z_a - attr) + (1 - self.alpha) * (attr - prev_a)
                    new_d, new_a = self._project(x_a, new_d, new_a)
                prev_d, prev_a = delta, attr
                x_a, x_adv, new_loss, logits, g_d, g_a = self._eval(x, y, a, new_d, new_a)
                best.update(x_adv, x_a, new_a, new_loss, logits, y)
                delta, attr = self._project(x_a, new_d, new_a)
                increases += (new_loss > loss).float()
                loss = new_loss
                improved = loss > run_best
                run_best = torch.where(improved, loss, run_best)
                run_best_d[improved], run_best_a[improved] = delta[improved], attr[improved]
                if k + 1 in marks:
                    span = k + 1 - last_mark
                    cond1 = increases < self.rho * span
                    cond2 = ~halved_at_mark & (run_best <= best_at_mark)
                    cut = cond1 | cond2
                    eta_d = torch.where(cut, eta_d / 2, eta_d)
                    eta_a = torch.where(cut, eta_a / 2, eta_a)
                    if cut.any():
                        # restart the cut samples from their best point (gradient recomputed there)
                        delta, attr = delta.clone(), attr.clone()
                        delta[cut], attr[cut] = run_best_d[cut], run_best_a[cut]
                        # no momentum out of the restored point (cut samples only: the others keep theirs)
                        prev_d, prev_a = prev_d.clone(), prev_a.clone()
                        prev_d[cut], prev_a[cut] = delta[cut], attr[cut]
                        x_a, _, loss, _, g_d, g_a = self._eval(x, y, a, delta, attr)
                    halved_at_mark, best_at_mark = cut, run_best.clone()
                    increases.zero_()
                    last_mark = k + 1
        return best.result()
