"""FGSM (Goodfellow, Shlens, Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015).

``x_adv = clip(x + eps * sign(grad_x CE(f(x), y)), 0, 1)``: one signed-gradient step of size eps
(the clean input is kept where the step does not fool the classifier but x already is misclassified).
"""

from __future__ import annotations

import torch

from reproflow.attacks.base import Attack, AttackResult, project


class FGSM(Attack):
    """Single-step l_inf attack; deterministic (no randomness)."""

    name = "fgsm"

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        best = self._start_worst_case(x, y, None)
        grad, _, _ = self._input_grad(x, y)
        x_adv = project(x, x + self.eps * grad.sign(), self.eps)
        with torch.no_grad():
            loss, logits = self._loss(x_adv, y)
        best.update(x_adv, x, None, loss, logits, y)
        return best.result()
