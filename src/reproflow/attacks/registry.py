"""The closed set of attacks and one constructor for all of them."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.attribute import AttributeGrid
from reproflow.attacks.autoattack import AutoAttack
from reproflow.attacks.base import Attack
from reproflow.attacks.fgsm import FGSM
from reproflow.attacks.generator import GeneratorAttack
from reproflow.attacks.grid_pgd import GridPGD
from reproflow.attacks.joint_apgd import JointAPGD
from reproflow.attacks.joint_pgd import JointPGD
from reproflow.attacks.labels import GENERATOR_ATTACKS
from reproflow.attacks.pgd import PGD
from reproflow.attacks.recon_pgd import ReconPGD
from reproflow.attacks.spa import SPA
from reproflow.errors import UserError, parse_choice
from reproflow.vocab import attack_names

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator


class AttackName(str, enum.Enum):
    """Every attack the project evaluates (the ``attack`` column of the tidy tables)."""

    FGSM = "fgsm"
    PGD = "pgd"
    AUTOATTACK = "autoattack"
    ATTRIBUTE = "attribute"
    GENERATOR = "generator"
    SPA = "spa"
    JOINT_PGD = "joint_pgd"
    RECON_PGD = "recon_pgd"
    JOINT_APGD = "joint_apgd"
    GRID_PGD = "grid_pgd"


ATTACKS: dict[AttackName, type[Attack]] = {
    AttackName.FGSM: FGSM,
    AttackName.PGD: PGD,
    AttackName.AUTOATTACK: AutoAttack,
    AttackName.ATTRIBUTE: AttributeGrid,
    AttackName.GENERATOR: GeneratorAttack,
    AttackName.SPA: SPA,
    AttackName.JOINT_PGD: JointPGD,
    AttackName.RECON_PGD: ReconPGD,
    AttackName.JOINT_APGD: JointAPGD,
    AttackName.GRID_PGD: GridPGD,
}

# Which frozen models each attack needs besides the classifier.
NEEDS_MANIPULATOR = {AttackName(n) for n in attack_names(editor=True)}
NEEDS_GENERATOR = {AttackName(n) for n in GENERATOR_ATTACKS}


def parse_attack_name(name: str | AttackName) -> AttackName:
    """``"spa"`` -> ``AttackName.SPA``; a clear UserError for an unknown name."""
    return parse_choice(AttackName, name, "attack")


def build_attack(
    name: str | AttackName,
    classifier: torch.nn.Module,
    eps: float,
    manipulator: AttributeManipulator | None = None,
    generator: NoiseGenerator | None = None,
    **kw: Any,
) -> Attack:
    """Construct attack ``name`` against ``classifier`` at l_inf radius ``eps``.

    ``kw`` are the attack's own settings (e.g. ``steps``, ``restarts``, ``seed``, ``device``);
    see each attack class. Semantic attacks need ``manipulator``; generator/SPA need ``generator``.
    """
    key = parse_attack_name(name)
    cls = ATTACKS[key]
    args: list[Any] = [classifier, eps]
    if key in NEEDS_MANIPULATOR:
        if manipulator is None:
            raise UserError(f"attack '{key.value}' needs an attribute manipulator")
        args.append(manipulator)
    if key in NEEDS_GENERATOR:
        if generator is None:
            raise UserError(f"attack '{key.value}' needs a noise generator")
        args.append(generator)
    return cls(*args, **kw)
