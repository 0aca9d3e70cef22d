"""PGD (Madry et al., "Towards deep learning models resistant to adversarial attacks", ICLR 2018).

Random start ``delta_0 ~ U[-eps, eps]``, then ``steps`` signed-gradient ascent steps of size
``step_factor * eps / steps`` (evaluation default: 20 steps, step 2.5 eps / 20, spec section 5), each
followed by the projection onto the l_inf ball and [0, 1]. The worst case per sample over every
iterate of every restart is kept. With ``early_stop`` (evaluation default) a sample leaves the
optimisation once misclassified (same accuracy, less compute; its example is the first success);
adversarial training passes ``early_stop=False`` to get the highest-loss iterate.
"""

from __future__ import annotations

from typing import Any

import torch

from reproflow.attacks.base import Attack, AttackResult, project


class PGD(Attack):
    """l_inf PGD with random start and restarts; per-sample seeded."""

    name = "pgd"

    def __init__(self, classifier: torch.nn.Module, eps: float, *, steps: int, step_factor: float,
                 restarts: int, random_start: bool = True, early_stop: bool = True, **base: Any):
        super().__init__(classifier, eps, **base)
        self._schedule(steps, restarts, early_stop=early_stop)
        self.step_size = float(step_factor) * self.eps / self.steps
        self.random_start = bool(random_start)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        best = self._start_worst_case(x, y, None)
        for r, idx in self._restarts(best):
            x0 = x[idx]
            if self.random_start:
                noise = self._rand(keys[idx.cpu()], f"pgd-start-{r}", tuple(x.shape[1:]), "uniform", x)
                x_adv = project(x0, x0 + self.eps * (2 * noise - 1), self.eps)
            else:
                x_adv = x0.clone()
            for t in range(self.steps + 1):
                if t == self.steps:  # the last iterate is only evaluated: no backward pass
                    with torch.no_grad():
                        loss, logits = self._loss(x_adv, y[idx])
                    best.update(x_adv, x0, None, loss, logits, y[idx], idx=idx)
                    break
                grad, loss, logits = self._input_grad(x_adv, y[idx])
                best.update(x_adv, x0, None, loss, logits, y[idx], idx=idx)
                x_adv = project(x0, x_adv + self.step_size * grad.sign(), self.eps)
                if self.early_stop:
                    keep = ~best.fooled[idx]
                    if not keep.any():
                        break
                    idx, x0, x_adv = idx[keep], x0[keep], x_adv[keep]
        return AttackResult(best.x_adv, x, None)
