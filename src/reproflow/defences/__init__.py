"""Defences of the SPA reproduction (spec spa.md section 6): standard training, PGD-AT (Madry), TRADES,
attribute augmentation and SPA-AT, one module each on the small :class:`~reproflow.defences.base.Defence`
base; ``build_defence`` constructs any of the closed set :class:`DefenceName`, ``train_defence`` runs the
shared resumable training loop, :mod:`reproflow.defences.matrix` builds the defence x attack matrix and
the T2 claim table.

Names are imported lazily so that the table CLIs (``reproflow.defences.matrix``: pandas only) do not pay
torch's start-up time.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Defence": "base",
    "DefenceName": "base",
    "StepOutput": "base",
    "GeneratorRefresher": "refresh",
    "RefreshSettings": "refresh",
    "DEFENCES": "registry",
    "build_defence": "registry",
    "parse_defence_name": "registry",
    "TrainSettings": "train",
    "train_defence": "train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"reproflow.defences.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'reproflow.defences' has no attribute {name!r}")
