"""TRADES (Zhang et al., "Theoretically principled trade-off between robustness and accuracy", ICML 2019).

loss = CE(f(x), y) + beta * KL(p(x) || p(x')) / B (batch mean), where
x' = argmax_{||x' - x||_inf <= eps} KL(p(x) || p(x')) is found by signed-gradient ascent from
x + 0.001 N(0, I), ``steps`` steps of ``step_factor * eps / steps``, the final iterate kept
(Zhang et al.'s reference code; beta = 6 is their headline value).

The project's PGD maximises the cross-entropy with the true label and keeps a per-sample worst case;
TRADES' inner problem maximises the KL to the clean prediction and keeps the last iterate, so it is a
small :class:`~reproflow.attacks.base.Attack` subclass here (the base owns device, eval mode during the
search, clamping and per-sample seeding) reusing the attacks' ``project``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.attacks.base import Attack, AttackResult, project
from reproflow.defences.base import Defence, StepOutput, acc


def kl_to_clean(logits_adv: torch.Tensor, logits_clean: torch.Tensor) -> torch.Tensor:
    """Per-sample KL(p_clean || p_adv) ``[B]`` with p = softmax(logits)."""
    return F.kl_div(F.log_softmax(logits_adv, 1), F.softmax(logits_clean, 1), reduction="none").sum(1)


class TradesKL(Attack):
    """TRADES' inner maximisation of KL(p(x) || p(x')) over the l_inf ball (last iterate)."""

    name = "trades_kl"

    def __init__(self, classifier: nn.Module, eps: float, *, steps: int, step_factor: float, seed: int = 0,
                 device: str | torch.device | None = None) -> None:
        super().__init__(classifier, eps, seed=seed, device=device)
        self.steps = int(steps)
        self.step_size = float(step_factor) * self.eps / self.steps

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        with torch.no_grad():
            logits_clean = self.classifier(x)
        start = self._rand(keys, "trades-start", tuple(x.shape[1:]), "normal", x)
        x_adv = project(x, x + 0.001 * start, self.eps)
        for _ in range(self.steps):
            x_adv = x_adv.detach().requires_grad_(True)
            kl = kl_to_clean(self.classifier(x_adv), logits_clean).sum()
            (grad,) = torch.autograd.grad(kl, [x_adv])
            x_adv = project(x, x_adv.detach() + self.step_size * grad.sign(), self.eps)
        return AttackResult(x_adv.detach(), x, None)


class TRADES(Defence):
    """loss = CE(f(x), y) + beta * mean KL(p(x) || p(x'))."""

    name = "trades"

    def __init__(self, eps: float, *, beta: float, steps: int, step_factor: float, seed: int = 0) -> None:
        super().__init__(eps, seed=seed)
        if steps < 1 or beta < 0:
            raise ValueError(f"TRADES needs steps >= 1 and beta >= 0, got {steps}, {beta}")
        self.beta = float(beta)
        self.steps = int(steps)
        self.step_factor = float(step_factor)

    def craft(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, keys: torch.Tensor) -> AttackResult:
        """TRADES' KL-maximising examples against the current ``model``."""
        inner = TradesKL(model, self.eps, steps=self.steps, step_factor=self.step_factor, seed=self.seed, device=x.device)
        return inner.attack(x, y, keys=keys)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        x_adv = self.craft(model, x, y, keys).x_adv
        logits = model(x)
        logits_adv = model(x_adv)
        robust = kl_to_clean(logits_adv, logits).mean()
        loss = F.cross_entropy(logits, y) + self.beta * robust
        return StepOutput(loss, {"clean_accuracy": acc(logits, y), "adv_accuracy": acc(logits_adv, y),
                                 "kl": float(robust.detach())})
