"""Worst-of-k attribute + PGD adversarial training (Engstrom, Tran, Tsipras, Schmidt, Madry, "Exploring the
landscape of spatial robustness", ICML 2019): the existing defence for a rotation-plus-l_inf threat (issue 21).

Per sample, ``k`` target attributes ``a'_j ~ U(0, 1)`` (the whole normalised range; seeded by the sample's key)
are edited in, ``x_j = AM(x, a, a'_j)``, and the one with the highest loss under the current classifier is kept
(Engstrom et al.'s worst-of-k: random search, since first-order steps on a rotation find poor optima); PGD
(:class:`reproflow.attacks.pgd.PGD`, ``steps`` signed steps of ``step_factor * eps / steps``, random start,
highest-loss iterate, no early stop) then adds l_inf noise to it, and the classifier trains on the result
only (Madry): ``loss = CE(f(PGD(x_j*)), y)``. The paper combines worst-of-10 with PGD on the pixels the same
way; its k 10 is ours by default too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.attacks.registry import build_attack
from reproflow.defences.base import Defence, StepOutput, acc, ce
from reproflow.seeding import derive_seed

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class WorstOfK(Defence):
    """loss = CE(f(x_adv), y), x_adv = PGD on the worst of ``k`` random attribute edits (per sample)."""

    name = "worst_of_k"
    needs_manipulator = True

    def __init__(self, eps: float, manipulator: AttributeManipulator, *, k: int, steps: int, step_factor: float,
                 seed: int = 0) -> None:
        super().__init__(eps, seed=seed)
        if k < 1 or steps < 1:
            raise ValueError(f"worst-of-k training needs k >= 1 and steps >= 1, got {k}, {steps}")
        self.manipulator = manipulator
        self.k, self.steps, self.step_factor = int(k), int(steps), float(step_factor)

    def targets(self, keys: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``[k, B]`` attribute targets in [0, 1): ``k`` uniform draws per key (independent of the batch)."""
        rows = [torch.rand(self.k, generator=torch.Generator().manual_seed(derive_seed(self.seed, "worst-of-k", int(kk))))
                for kk in keys.tolist()]
        return torch.stack(rows, 1).to(like.device, like.dtype)

    @torch.no_grad()
    def worst_edit(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor,
                   keys: torch.Tensor) -> torch.Tensor:
        """The highest-loss edit ``[B, C, H, W]`` of ``k`` random ones under ``model`` (evaluated in eval mode)."""
        was = model.training
        model.eval()
        try:
            tg = self.targets(keys, a)
            b = x.shape[0]
            x_all = self.manipulator.edit(x.repeat(self.k, 1, 1, 1), a.repeat(self.k), tg.reshape(-1)).clamp(0.0, 1.0)
            loss = F.cross_entropy(model(x_all), y.repeat(self.k), reduction="none").view(self.k, b)
            pick = loss.argmax(0)
            return x_all.view(self.k, b, *x.shape[1:])[pick, torch.arange(b, device=x.device)]
        finally:
            model.train(was)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        x_w = self.worst_edit(model, x, y, a, keys)
        attack = build_attack("pgd", model, self.eps, steps=self.steps, step_factor=self.step_factor, restarts=1,
                              early_stop=False, seed=self.seed, device=x.device)
        x_adv = attack.attack(x_w, y, keys=keys).x_adv
        loss, logits = ce(model, x_adv, y)
        return StepOutput(loss, {"adv_accuracy": acc(logits, y)})
