"""Attribute augmentation: training on random attribute edits (the semantic analogue of data augmentation).

Each sample gets a target attribute a' ~ U(0, 1) (the whole normalised range seen in training) and the
frozen attribute manipulator makes x_a = AM(x, a, a'); loss = CE(f(x_a), y). No pixel noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from reproflow.defences.base import Defence, StepOutput, acc, ce
from reproflow.seeding import derive_seed

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class AttributeAugmentation(Defence):
    """loss = CE(f(AM(x, a, a')), y), a' ~ U(0, 1) per sample (seeded by the sample's key)."""

    name = "attribute_augmentation"
    needs_manipulator = True

    def __init__(self, eps: float, manipulator: AttributeManipulator, *, seed: int = 0) -> None:
        super().__init__(eps, seed=seed)
        self.manipulator = manipulator

    def targets(self, keys: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """a' ``[B]`` in [0, 1): one uniform draw per key (independent of the batch composition)."""
        rows = [torch.rand((), generator=torch.Generator().manual_seed(derive_seed(self.seed, "augment", int(k))))
                for k in keys.tolist()]
        return torch.stack(rows).to(like.device, like.dtype)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        with torch.no_grad():
            x_a = self.manipulator.edit(x, a, self.targets(keys, a)).clamp(0.0, 1.0)
        loss, logits = ce(model, x_a, y)
        return StepOutput(loss, {"adv_accuracy": acc(logits, y)})

