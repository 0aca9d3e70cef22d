"""Standard training: cross-entropy on clean images (the undefended reference)."""

from __future__ import annotations

import torch
from torch import nn

from reproflow.defences.base import Defence, StepOutput, acc, ce


class Standard(Defence):
    """loss = CE(f(x), y)."""

    name = "standard"
    adversarial = False

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        loss, logits = ce(model, x, y)
        return StepOutput(loss, {"clean_accuracy": acc(logits, y)})
