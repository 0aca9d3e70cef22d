"""The project's vocabulary, declared once: attacks, defences, datasets and activations, with what each needs.

Torch-free and import-free (stdlib only), so the schema loader, the settings layer, the table and plot code and
the tests can all read it. What derives from it:
- the schema's closed sets: a schema node ``{type: string, x-vocab: <selector>}`` becomes ``enum: [...]``
  (:func:`enum_of`, applied by :func:`reproflow.config.load_schema`), so the generated ``Literal`` types of
  ``settings/sections.py`` follow too;
- the attack labels' roles (``attacks/labels.py``), which attacks need the editor or the generator
  (``attacks/registry.py``), the plot order and colours (:func:`plot_colours`, read by ``report/plotdata.py``
  and ``plots/attack.py``), the defences whose sections T2 quotes (``workflow/rules/advtrain.smk``);
- test parametrisation, through those.
``tests/unit/test_vocab.py`` checks that the hand-written enums (``AttackName``, ``DefenceName``) and the schema
files agree with this module. Adding an attack or a defence: ``docs/recipes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AttackSpec:
    """One attack of the evaluation (the ``attack`` column of the tidy tables)."""

    name: str
    colour: str  # matplotlib colour of its curves; the plot order is the order of ATTACKS
    editor: bool = False  # edits the attribute through an editor (needs the manipulator; may run learned)
    generator: bool = False  # runs through the pretrained noise generator
    role: Literal["baseline", "joint"] = "baseline"  # T1: a baseline, or a joint (semantic + noise) attack
    oracle_ablation: bool = False  # has a run with the exact rotation oracle (attack.oracle_attacks)
    editor_label: bool = False  # its tidy label carries the editor's suffix (_oracle, _learned)
    composed: bool = False  # composes existing attacks in the joint threat (T1's composed reading, issue 21)
    oracle_colour: str | None = None  # colour of its oracle-ablation curve (dotted), if not its own colour
    # its settings: the subsection attack.<settings> of params.yaml, whose keys are its constructor's keyword arguments
    # (same names; a field of the generated AttackSuite); None: it has no settings of its own
    settings: str | None = None


@dataclass(frozen=True)
class DefenceSpec:
    """One defence of the advtrain phase (the ``defence`` column)."""

    name: str
    settings: bool = False  # has a params.yaml section advtrain.<name>


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    attributed: bool  # has the semantic attribute the SPA phases attack (a rotated set, or CelebA)


ATTACKS: tuple[AttackSpec, ...] = (
    AttackSpec("fgsm", "C9"),
    AttackSpec("pgd", "C0", settings="pgd"),
    AttackSpec("autoattack", "C0", settings="autoattack"),
    AttackSpec("attribute", "C2", editor=True, oracle_ablation=True, editor_label=True, settings="attribute"),
    AttackSpec("generator", "C1", editor=True, generator=True, oracle_ablation=True, editor_label=True),
    AttackSpec("spa", "C3", editor=True, generator=True, role="joint", oracle_ablation=True, editor_label=True,
               settings="spa"),
    AttackSpec("joint_pgd", "black", editor=True, role="joint", oracle_ablation=True, editor_label=True, composed=True,
               oracle_colour="0.4", settings="joint_pgd"),
    AttackSpec("joint_apgd", "C4", editor=True, role="joint", editor_label=True, composed=True,
               settings="joint_apgd"),
    AttackSpec("recon_pgd", "C5", editor=True, editor_label=True, settings="pgd"),
    AttackSpec("grid_pgd", "C6", editor=True, role="joint", editor_label=True, composed=True, settings="pgd"),
)

# Labels of the tidy attack table besides the attack names (the figures draw them too).
# pyautoattack's APGD-CE run alone, the library reference for the PGD cross-check (plotted after PGD)
CROSSCHECK_LABEL = "apgd_ce"
CROSSCHECK_COLOUR = "C7"
# the per-image worst case over attack.reference (issue 21): the joint threat's reference
REFERENCE_LABEL = "reference"
REFERENCE_COLOUR = "C8"
# suffix of a semantic attack's label when it runs with the analytic rotation oracle
ORACLE_SUFFIX = "_oracle"
# suffix of a semantic attack's label when it runs with the learned (MSP) editor beside the exact rotation, the
# primary editor on the rotation sets (issue #11); its curves take the attack's colour
LEARNED_SUFFIX = "_learned"


def plot_colours() -> dict[str, str]:
    """Every label the attack figures draw, in plot order, with its colour: the attacks (the cross-check right
    after PGD), then the joint threat's reference, then the oracle ablations."""
    out: dict[str, str] = {}
    for a in ATTACKS:
        out[a.name] = a.colour
        if a.name == "pgd":
            out[CROSSCHECK_LABEL] = CROSSCHECK_COLOUR
    out[REFERENCE_LABEL] = REFERENCE_COLOUR
    out.update({a.name + ORACLE_SUFFIX: a.oracle_colour or a.colour for a in ATTACKS if a.oracle_ablation})
    return out


DEFENCES: tuple[DefenceSpec, ...] = (
    DefenceSpec("standard"),
    DefenceSpec("pgd_at", settings=True),
    DefenceSpec("trades", settings=True),
    DefenceSpec("attribute_augmentation"),
    DefenceSpec("spa_at", settings=True),
    DefenceSpec("worst_of_k", settings=True),
)

DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec("digits", False),
    DatasetSpec("digits_rot", True),
    DatasetSpec("mnist", False),
    DatasetSpec("mnist_rot", True),
    DatasetSpec("fashion_mnist", False),
    DatasetSpec("fashion_mnist_rot", True),
    DatasetSpec("cifar10", False),
    DatasetSpec("cifar10_rot", True),
    DatasetSpec("celeba", True),
)

# the mean-field activations (reproflow.meanfield.theory implements each)
ACTIVATIONS: tuple[str, ...] = ("linear", "tanh", "relu", "hardtanh", "erf")


def attack_names(**where: object) -> tuple[str, ...]:
    """Names of the attacks whose fields equal ``where`` (``attack_names(editor=True)``), in plot order."""
    return tuple(a.name for a in ATTACKS if all(getattr(a, k) == v for k, v in where.items()))


# selector of a schema node's ``x-vocab`` -> its closed set, in declaration order
_SELECTORS = {
    "attacks": lambda: attack_names(),
    "attacks.editor": lambda: attack_names(editor=True),
    "attacks.oracle_ablation": lambda: attack_names(oracle_ablation=True),
    "attacks.baseline": lambda: attack_names(role="baseline"),
    "attacks.composed": lambda: attack_names(composed=True),
    "attacks.joint": lambda: attack_names(role="joint"),
    "defences": lambda: tuple(d.name for d in DEFENCES),
    "datasets": lambda: tuple(d.name for d in DATASETS),
    "datasets.attributed": lambda: tuple(d.name for d in DATASETS if d.attributed),
    "activations": lambda: ACTIVATIONS,
}


def enum_of(selector: str) -> list[str]:
    """The closed set a schema's ``x-vocab: <selector>`` stands for."""
    try:
        return list(_SELECTORS[selector]())
    except KeyError:
        raise ValueError(f"unknown x-vocab selector {selector!r} (known: {', '.join(_SELECTORS)})") from None
