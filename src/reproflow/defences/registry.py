"""The closed set of defences and one constructor for all of them."""

from __future__ import annotations

from typing import Any

from torch import nn

from reproflow.data.store import Split
from reproflow.defences.attribute_augmentation import AttributeAugmentation
from reproflow.defences.base import Defence, DefenceName
from reproflow.defences.pgd_at import PGDAT
from reproflow.defences.spa_at import SPAAT
from reproflow.defences.standard import Standard
from reproflow.defences.trades import TRADES
from reproflow.errors import UserError

DEFENCES: dict[DefenceName, type[Defence]] = {
    DefenceName.STANDARD: Standard,
    DefenceName.PGD_AT: PGDAT,
    DefenceName.TRADES: TRADES,
    DefenceName.ATTRIBUTE_AUGMENTATION: AttributeAugmentation,
    DefenceName.SPA_AT: SPAAT,
}


def parse_defence_name(name: str | DefenceName) -> DefenceName:
    """``"spa_at"`` -> ``DefenceName.SPA_AT``; a clear UserError for an unknown name."""
    try:
        return DefenceName(name)
    except ValueError:
        raise UserError(f"unknown defence '{name}'; choose from {', '.join(d.value for d in DefenceName)}") from None


def build_defence(
    name: str | DefenceName,
    eps: float,
    *,
    seed: int,
    manipulator: nn.Module | None = None,
    generator: nn.Module | None = None,
    train: Split | None = None,
    **kw: Any,
) -> Defence:
    """Construct defence ``name`` at training radius ``eps``; ``kw`` are its own settings (see each class).

    attribute_augmentation needs ``manipulator``; spa_at needs ``manipulator``, ``generator`` (a trainable copy:
    SPA-AT refreshes it) and the ``train`` split (the refresh draws its batches from it).
    """
    key = parse_defence_name(name)
    cls = DEFENCES[key]
    if cls.needs_manipulator and manipulator is None:
        raise UserError(f"defence '{key.value}' needs an attribute manipulator")
    if key is DefenceName.SPA_AT:
        if generator is None or train is None:
            raise UserError("defence 'spa_at' needs a noise generator and the training split")
        return SPAAT(eps, manipulator, generator, train, seed=seed, **kw)  # type: ignore[arg-type]
    if key is DefenceName.ATTRIBUTE_AUGMENTATION:
        return AttributeAugmentation(eps, manipulator, seed=seed, **kw)  # type: ignore[arg-type]
    return cls(eps, seed=seed, **kw)
