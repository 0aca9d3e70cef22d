"""Adversarial attacks of the SPA reproduction (docs/spa_interfaces.md, spec spa.md sections 4-5).

One module per attack on the small :class:`~reproflow.attacks.base.Attack` base; ``build_attack``
constructs any of the closed set :class:`~reproflow.attacks.registry.AttackName`; ``evaluate`` runs
one attack over a split and returns its metrics. Names are imported lazily (PEP 562) so that the
table and plot code (``reproflow.attacks.tables``, ``.claims``) does not pay torch's start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Attack": "base",
    "AttackResult": "base",
    "WorstCase": "base",
    "LINF_TOL": "labels",
    "EvalOutput": "evaluate",
    "evaluate": "evaluate",
    "run_attack": "evaluate",
    "ATTACKS": "registry",
    "AttackName": "registry",
    "build_attack": "registry",
    "parse_attack_name": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"reproflow.attacks.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'reproflow.attacks' has no attribute {name!r}")
