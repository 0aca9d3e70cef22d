"""The closed set of defences and one constructor for all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reproflow.data.store import Split
from reproflow.defences.attribute_augmentation import AttributeAugmentation
from reproflow.defences.base import Defence, DefenceName
from reproflow.defences.pgd_at import PGDAT
from reproflow.defences.spa_at import SPAAT
from reproflow.defences.standard import Standard
from reproflow.defences.trades import TRADES
from reproflow.defences.worst_of_k import WorstOfK
from reproflow.errors import UserError, parse_choice
from reproflow.settings.sections import AdvtrainPgdAt, AdvtrainSpaAt, AdvtrainTrades, AdvtrainWorstOfK

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator

# defence -> the type of its params.yaml section ``advtrain.<defence>`` (defences without one take no settings)
SETTINGS: dict[DefenceName, type[AdvtrainPgdAt | AdvtrainTrades | AdvtrainSpaAt | AdvtrainWorstOfK]] = {
    DefenceName.PGD_AT: AdvtrainPgdAt,
    DefenceName.TRADES: AdvtrainTrades,
    DefenceName.SPA_AT: AdvtrainSpaAt,
    DefenceName.WORST_OF_K: AdvtrainWorstOfK,
}

DEFENCES: dict[DefenceName, type[Defence]] = {
    DefenceName.STANDARD: Standard,
    DefenceName.PGD_AT: PGDAT,
    DefenceName.TRADES: TRADES,
    DefenceName.ATTRIBUTE_AUGMENTATION: AttributeAugmentation,
    DefenceName.SPA_AT: SPAAT,
    DefenceName.WORST_OF_K: WorstOfK,
}


def parse_defence_name(name: str | DefenceName) -> DefenceName:
    """``"spa_at"`` -> ``DefenceName.SPA_AT``; a clear UserError for an unknown name."""
    return parse_choice(DefenceName, name, "defence")


def build_defence(
    name: str | DefenceName,
    eps: float,
    *,
    seed: int,
    manipulator: AttributeManipulator | None = None,
    generator: NoiseGenerator | None = None,
    train: Split | None = None,
    **kw: Any,
) -> Defence:
    """Construct defence ``name`` at training radius ``eps``; ``kw`` are its own settings (see each class).

    attribute_augmentation and worst_of_k need ``manipulator``; spa_at needs ``manipulator``, ``generator`` (a trainable copy:
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
    if key is DefenceName.WORST_OF_K:
        return WorstOfK(eps, manipulator, seed=seed, **kw)  # type: ignore[arg-type]
    return cls(eps, seed=seed, **kw)


def defence_kwargs(name: str | DefenceName, section: Any, eps: float, recursion: dict[str, Any],
                   optimizer: dict[str, Any]) -> dict[str, Any]:
    """Constructor settings of defence ``name`` from its params.yaml section (``advtrain.<defence>``, a mapping or
    its :data:`SETTINGS` type; None for defences without one). ``recursion`` is the noise generator's own
    ``gen_steps`` / ``gen_step_factor`` (checkpoint meta), used by SPA-AT where its section leaves them null;
    ``optimizer`` its pretraining's ``adam_beta1`` / ``adam_beta2`` / ``grad_clip`` (checkpoint meta), which SPA-AT's
    refresh continues with."""
    from reproflow.defences.refresh import RefreshSettings
    from reproflow.settings import dump, load

    key = parse_defence_name(name)
    if key not in SETTINGS:
        return {}
    if section is None:
        raise UserError(f"defence '{key.value}' needs its settings (params.yaml advtrain.{key.value})")
    s = load(SETTINGS[key], dump(section), f"advtrain.{key.value}")
    if not isinstance(s, AdvtrainSpaAt):
        return dict(dump(s))
    gen_steps = s.gen_steps if s.gen_steps is not None else recursion["gen_steps"]
    gen_step_factor = s.gen_step_factor if s.gen_step_factor is not None else recursion["gen_step_factor"]
    if len(s.loss_weights) != 3:
        raise UserError(f"advtrain.spa_at.loss_weights takes three numbers (clean, attribute, joint), got {s.loss_weights}")
    return {
        "steps": s.steps, "restarts": s.restarts, "lr": s.lr, "attr_lr": s.attr_lr, "grid_size": s.grid_size,
        "gen_steps": gen_steps,
        "gen_step_factor": gen_step_factor, "loss_weights": tuple(s.loss_weights), "refresh_every": s.refresh_every,
        # the refresh trains at SPA-AT's own radius and recursion, against the classifier being trained
        "refresh": RefreshSettings(
            batches=s.refresh_batches, batch_size=s.refresh_batch_size, lr=s.refresh_lr, eps=eps,
            gen_steps=gen_steps, gen_step_factor=gen_step_factor, div_weight=s.refresh_div_weight, **optimizer,
        ),
    }
