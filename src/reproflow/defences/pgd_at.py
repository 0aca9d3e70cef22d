"""PGD adversarial training (Madry et al., "Towards deep learning models resistant to adversarial
attacks", ICLR 2018): min_theta E max_{||delta||_inf <= eps} CE(f(x + delta), y).

The inner maximisation is the project's own :class:`reproflow.attacks.pgd.PGD` (random start,
``steps`` signed steps of ``step_factor * eps / steps``) with ``early_stop=False`` so every sample
gets its highest-loss iterate; the classifier is trained on the adversarial batch only (Madry).
"""

from __future__ import annotations

import torch
from torch import nn

from reproflow.attacks.base import AttackResult
from reproflow.attacks.registry import build_attack
from reproflow.defences.base import Defence, StepOutput, acc, ce


class PGDAT(Defence):
    """loss = CE(f(x_pgd), y) with x_pgd from a ``steps``-step PGD against the current classifier."""

    name = "pgd_at"

    def __init__(self, eps: float, *, steps: int, step_factor: float, seed: int = 0) -> None:
        super().__init__(eps, seed=seed)
        if steps < 1:
            raise ValueError(f"PGD-AT needs steps >= 1, got {steps}")
        self.steps = int(steps)
        self.step_factor = float(step_factor)

    def craft(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, keys: torch.Tensor) -> AttackResult:
        """PGD examples against the current ``model`` (highest-loss iterate per sample)."""
        attack = build_attack(
            "pgd", model, self.eps, steps=self.steps, step_factor=self.step_factor, restarts=1,
            early_stop=False, seed=self.seed, device=x.device,
        )
        return attack.attack(x, y, keys=keys)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        x_adv = self.craft(model, x, y, keys).x_adv
        loss, logits = ce(model, x_adv, y)
        return StepOutput(loss, {"adv_accuracy": acc(logits, y)})
