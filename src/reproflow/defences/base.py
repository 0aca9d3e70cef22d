"""The small base every defence builds on: a training loss over a batch, an epoch hook, resumable state.

A defence turns a clean batch ``(x, y, a)`` into the loss the classifier minimises (spec spa.md
section 6). ``x`` float ``[B, C, H, W]`` in [0, 1], ``y`` int64 ``[B]``, ``a`` float ``[B]`` the samples'
normalised attribute values in [0, 1], ``keys`` int64 ``[B]`` unique per (epoch, sample): they seed the
per-sample randomness of the attacks a defence crafts examples with (``reproflow.attacks``), so a
resumed run replays the same draws.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn


class DefenceName(str, enum.Enum):
    """Every defence the project trains (the ``model`` column of the advtrain tables)."""

    STANDARD = "standard"
    PGD_AT = "pgd_at"
    TRADES = "trades"
    ATTRIBUTE_AUGMENTATION = "attribute_augmentation"
    SPA_AT = "spa_at"
    WORST_OF_K = "worst_of_k"


@dataclass
class StepOutput:
    """What one training step reports.

    loss: the scalar to minimise (graph attached to the classifier's parameters);
    stats: per-batch means of diagnostics (e.g. ``adv_accuracy``), averaged over the epoch by the loop.
    """

    loss: torch.Tensor
    stats: dict[str, float] = field(default_factory=dict)


class Defence:
    """Base class. Subclasses set ``name``, ``adversarial`` (crafts examples, so the loop's clean warm-up
    epochs apply) and ``needs_manipulator`` / ``needs_generator`` and implement :meth:`step`."""

    name: ClassVar[str] = "defence"
    adversarial: ClassVar[bool] = True
    needs_manipulator: ClassVar[bool] = False
    needs_generator: ClassVar[bool] = False

    def __init__(self, eps: float, *, seed: int = 0) -> None:
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.eps = float(eps)
        self.seed = int(seed)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        """The training loss of one batch; ``model`` is in train mode on the batch's device."""
        raise NotImplementedError

    def begin_epoch(self, model: nn.Module, adv_epoch: int, rng: torch.Generator) -> dict[str, float]:
        """Called before every adversarial epoch (``adv_epoch`` counts from 0 after the warm-up);
        returns diagnostics for the training curve. Default: nothing to do."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Mutable state to checkpoint with the classifier (SPA-AT: the refreshed generator)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError(f"defence {self.name} has no state but the checkpoint holds {sorted(state)}")


def ce(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and the logits."""
    logits = model(x)
    return F.cross_entropy(logits, y), logits


def acc(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of correct predictions in the batch."""
    return float((logits.detach().argmax(1) == y).float().mean())
