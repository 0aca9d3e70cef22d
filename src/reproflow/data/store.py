"""The on-disk format of a prepared dataset split (see docs/design.md, "Data format")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from reproflow.errors import UserError
from reproflow.io import load_torch, save_torch

REQUIRED_KEYS = ("images", "labels", "attributes", "angles", "meta")


@dataclass(frozen=True)
class Split:
    """One prepared split.

    images: float32 [N, C, H, W] in [0, 1]; labels: int64 [N]; attributes: float32 [N] in [0, 1];
    angles: float32 [N] degrees; originals: float32 [N, C, H, W] or None; meta: dict.
    """

    images: torch.Tensor
    labels: torch.Tensor
    attributes: torch.Tensor
    angles: torch.Tensor
    originals: torch.Tensor | None
    meta: dict[str, Any]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.meta["num_classes"])

    def subset(self, n: int) -> Split:
        """The first ``n`` samples (the stored order is already shuffled/stratified)."""
        n = min(n, len(self))
        return Split(
            self.images[:n], self.labels[:n], self.attributes[:n], self.angles[:n],
            None if self.originals is None else self.originals[:n], dict(self.meta),
        )


def save_split(path: str | Path, payload: dict[str, Any]) -> None:
    """Validate and atomically save a split payload (uint8 images)."""
    for k in REQUIRED_KEYS:
        if k not in payload:
            raise ValueError(f"split payload lacks {k!r}")
    imgs = payload["images"]
    if imgs.dtype != torch.uint8 or imgs.ndim != 4:
        raise ValueError("images must be uint8 [N, C, H, W]")
    n = imgs.shape[0]
    for k in ("labels", "attributes", "angles"):
        if payload[k].shape[0] != n:
            raise ValueError(f"{k} has {payload[k].shape[0]} rows, images {n}")
    save_torch(path, payload)


def load_split(path: str | Path) -> Split:
    """Load a split written by the data phase; float images in [0, 1]."""
    raw = load_torch(path)
    if not isinstance(raw, dict) or any(k not in raw for k in REQUIRED_KEYS):
        raise UserError(f"{path}: not a dataset split written by the data phase; re-run prepare_dataset")
    orig = raw.get("originals")
    return Split(
        images=raw["images"].float().div_(255.0),
        labels=raw["labels"].long(),
        attributes=raw["attributes"].float(),
        angles=raw["angles"].float(),
        originals=None if orig is None else orig.float().div_(255.0),
        meta=dict(raw["meta"]),
    )
