"""Values derived from other settings, computed once here (never typed again in params.yaml or a rule).

Each takes the typed sections (:mod:`reproflow.settings.sections`) it derives from:
- the headline eps of a dataset (T1, the attribute histogram, the defences' training eps): its grid's median;
- the image-grid eps: its grid's smallest value (where the noise is least visible);
- the generator's training eps: its grid's largest value (the generator is trained once, for every eps);
- the judge seed of an attacked classifier (the next seed, cyclic) and the seed of the classifier the learned
  editor's label-preservation term is trained against (two seeds on: neither the attacked one nor the judge);
- the primary editor of a dataset's semantic attacks and defences, and the attacks the defence matrix runs;
- the measure_gradients job of each mean-field gradient run (one per role and activation) and a depth-sweep cell's
  runtime estimate for a scheduler;
- which pretrained noise generator a job uses: the one trained through the editor it attacks or trains with
  (``generator``, through ``pretrain.generator.<dataset>.manipulator``, or ``generator_learned``, through the
  learned MSP editor beside an exact-editor one), and which of them a dataset needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reproflow.errors import UserError
from reproflow.vocab import LEARNED_SUFFIX, REFERENCE_LABEL, attack_names

if TYPE_CHECKING:  # annotations only: a key added to a section then re-runs only the rules that load that section
    from reproflow.settings.sections import (  # (reproflow.deps counts names imported here for no digest)
        Advtrain,
        AdvtrainEvaluation,
        AdvtrainSeeds,
        Attack,
        AttackAblation,
        AttackEps,
        AttackSelection,
        AttackSuite,
        Data,
        DataPrepare,
        DepthSweep,
        Meanfield,
        Pretrain,
        PretrainSweep,
    )

ORACLE_SUFFIX = "_rot"  # datasets with an exact editor (the analytic rotation)


def rotation_deg(prepare: DataPrepare, dataset: str) -> float:
    """The half-range of a rotated dataset's angles (``data.rotation_deg.<dataset>``); 0 for a dataset that is not
    rotated (no key)."""
    return float(getattr(prepare.rotation_deg, dataset, 0.0))


def dataset_users(data: Data, pretrain: Pretrain, depth_sweep: DepthSweep) -> dict[str, list[str]]:
    """The phases that read each dataset of ``data.datasets``: the SPA phases read ``pretrain.datasets``, the depth
    sweep its panels' and its speed run's."""
    sweep = [p.dataset for p in depth_sweep.panels] + [depth_sweep.speed.dataset]
    uses = (("pretrain", pretrain.datasets), ("attack", pretrain.datasets), ("advtrain", pretrain.datasets),
            ("depth_sweep", sweep))
    return {d: [phase for phase, datasets in uses if d in datasets] for d in data.datasets}


def eps_grid(attack: Attack | AttackEps, dataset: str) -> tuple[float, ...]:
    """``attack.eps_grid.<dataset>``, with a clear error when a benchmark dataset has none."""
    try:
        return tuple(attack.eps_grid[dataset])
    except KeyError:
        raise UserError(
            f"config key 'attack.eps_grid.{dataset}' is missing: every dataset in pretrain.datasets needs an eps grid"
        ) from None


def headline_eps(attack: Attack | AttackEps, dataset: str) -> float:
    """The grid's median (the lower middle of an even grid)."""
    grid = sorted(eps_grid(attack, dataset))
    return grid[(len(grid) - 1) // 2]


def headline_eps_of(attack: Attack | AttackEps) -> dict[str, float]:
    """dataset -> its headline eps, for every dataset of the eps grid (the tables and figures over datasets)."""
    return {d: headline_eps(attack, d) for d in attack.eps_grid}


def advtrain_eps_grid(
    attack: Attack | AttackEps, advtrain: Advtrain | AdvtrainEvaluation, dataset: str
) -> tuple[float, ...]:
    """The radii the defence matrix evaluates: ``attack.eps_grid.<dataset>`` or, with ``advtrain.eps:
    headline``, its headline eps alone."""
    return (headline_eps(attack, dataset),) if advtrain.eps == "headline" else eps_grid(attack, dataset)


def examples_eps(attack: Attack | AttackEps, dataset: str) -> float:
    return min(eps_grid(attack, dataset))


def generator_eps(attack: Attack | AttackEps, dataset: str) -> float:
    """The noise generator's training budget: the largest eps it will be used at."""
    return max(eps_grid(attack, dataset))


def _cyclic(seeds: tuple[int, ...] | list[int], seed: int, offset: int) -> int:
    seeds = list(seeds)
    if int(seed) not in seeds:
        raise UserError(f"seed {seed} is not in pretrain.seeds {seeds}")
    return seeds[(seeds.index(int(seed)) + offset) % len(seeds)]


def judge_seed(seeds: tuple[int, ...] | list[int], seed: int) -> int:
    """The independent judge of seed ``seed``'s attacks: the next seed's clean classifier (cyclic)."""
    return _cyclic(seeds, seed, 1)


def editor_seed(seeds: tuple[int, ...] | list[int]) -> int:
    """The seed of the learned attribute editor, one per dataset like the paper's pretrained manipulator:
    ``max(pretrain.seeds) + 1``, outside the attacked seeds. The editor trains at this seed and preserves labels
    against this seed's clean classifier, which is neither an attacked classifier nor any seed's judge."""
    if not seeds:
        raise UserError("pretrain.seeds is empty")
    return max(int(s) for s in seeds) + 1


def has_oracle(dataset: str) -> bool:
    """The analytic rotation (an exact editor) exists for the rotated sets only."""
    return dataset.endswith(ORACLE_SUFFIX)


def editor(attack: Attack | AttackSelection, dataset: str) -> str:
    """``oracle`` (the exact rotation) where attack.editor asks for it and the dataset has one, else ``learned``."""
    return "oracle" if attack.editor == "oracle" and has_oracle(dataset) else "learned"


def advtrain_seeds(pretrain: Pretrain | PretrainSweep, advtrain: Advtrain | AdvtrainSeeds) -> tuple[int, ...]:
    """The seeds the defences are trained at: advtrain.seeds (each must be a pretrain seed: seed s starts from the
    pretrained models of seed s), or every pretrain seed when null."""
    if advtrain.seeds is None:
        return tuple(pretrain.seeds)
    missing = sorted(set(advtrain.seeds) - set(pretrain.seeds))
    if missing:
        raise UserError(f"advtrain.seeds {missing} are not in pretrain.seeds {list(pretrain.seeds)}: a defence of seed s "
                        "starts from the pretrained models of seed s")
    return tuple(advtrain.seeds)


def advtrain_attacks(attack: Attack | AttackSelection, advtrain: Advtrain | AdvtrainEvaluation) -> tuple[str, ...]:
    """The defence matrix's attacks: the attack phase's unless advtrain names a subset."""
    return tuple(attack.attacks if advtrain.attacks is None else advtrain.attacks)


def advtrain_max_samples(attack: Attack | AttackSelection, advtrain: Advtrain | AdvtrainEvaluation) -> int:
    """The test images a defence evaluation attacks: the attack phase's unless advtrain names its own number."""
    return attack.max_samples if advtrain.max_samples is None else advtrain.max_samples


def advtrain_oracle_attacks(attack: Attack | AttackSelection, advtrain: Advtrain | AdvtrainEvaluation) -> tuple[str, ...]:
    return tuple(attack.oracle_attacks if advtrain.oracle_attacks is None else advtrain.oracle_attacks)


def advtrain_learned_attacks(attack: Attack | AttackSelection, advtrain: Advtrain | AdvtrainEvaluation) -> tuple[str, ...]:
    return tuple(attack.learned_attacks if advtrain.learned_attacks is None else advtrain.learned_attacks)


def advtrain_attack_labels(attack: Attack | AttackSelection, advtrain: Advtrain | AdvtrainEvaluation,
                           ablation: Attack | AttackAblation, suite: Attack | AttackSuite, dataset: str) -> list[str]:
    """Every attack label the defence matrix must hold for ``dataset`` (its coverage check): the attacks, the exact
    editor's ablation (attack.oracle_ablation), the learned editor's reruns and the reference ensemble
    (attack.reference)."""
    labels = list(advtrain_attacks(attack, advtrain))
    if ablation.oracle_ablation and editor(attack, dataset) == "learned" and has_oracle(dataset):
        labels += [f"{a}_oracle" for a in advtrain_oracle_attacks(attack, advtrain)]
    if editor(attack, dataset) == "oracle":
        labels += [f"{a}_learned" for a in advtrain_learned_attacks(attack, advtrain)]
    return labels + reference_labels(tuple(suite.reference), labels)


def reference_labels(reference: tuple[str, ...], labels: list[str]) -> list[str]:
    """The reference ensemble's labels an evaluation with attack ``labels`` writes (``reference`` and
    ``reference_learned``): one per editor suffix whose run holds at least two members of ``reference``
    (:func:`reproflow.attacks.suite.evaluate_suite`)."""
    out = []
    for suffix in ("", LEARNED_SUFFIX):
        if sum(m + suffix in labels for m in reference) >= 2:
            out.append(REFERENCE_LABEL + suffix)
    return out


# the pretrained generator trained through the learned MSP editor beside one trained through the exact rotation
LEARNED_GENERATOR = "generator_learned"


def generator_editor(pretrain: Pretrain, dataset: str) -> str:
    """The editor the dataset's primary generator (``generator.pt``) is trained through: ``oracle`` or ``learned``
    (``pretrain.generator.<dataset>.manipulator``)."""
    try:
        kind = pretrain.generator[dataset].manipulator
    except KeyError:
        raise UserError(f"config key 'pretrain.generator.{dataset}' is missing") from None
    return "oracle" if kind == "oracle" else "learned"


def generator_model(pretrain: Pretrain, dataset: str, editor_kind: str) -> str:
    """The pretrained generator trained through ``editor_kind`` (``oracle`` | ``learned``), the editor the
    attack or defence that uses it edits with (issue #11): ``generator`` where the primary one is trained
    through it, else :data:`LEARNED_GENERATOR` (through the learned editor, beside an exact-editor one)."""
    if editor_kind == generator_editor(pretrain, dataset):
        return "generator"
    if editor_kind == "learned":
        return LEARNED_GENERATOR
    raise UserError(f"no noise generator is trained through the exact rotation for {dataset}: set "
                    f"pretrain.generator.{dataset}.manipulator to oracle")


def advtrain_editor(advtrain: Advtrain, dataset: str) -> str:
    """What attribute augmentation and SPA-AT edit with: ``oracle`` where advtrain.manipulator asks for it and the
    dataset has one, else ``learned``."""
    return "oracle" if advtrain.manipulator == "oracle" and has_oracle(dataset) else "learned"


def learned_generator_needed(attack: Attack, advtrain: Advtrain, dataset: str) -> tuple[bool, bool]:
    """Whether the attack phase and the defence evaluations run a generator attack through the learned editor
    beside the exact one (``generator`` or ``spa`` in their ``learned_attacks``): (attack phase, advtrain)."""
    if editor(attack, dataset) != "oracle":
        return False, False
    return (bool(set(attack.learned_attacks) & set(attack_names(generator=True))),
            bool(set(advtrain_learned_attacks(attack, advtrain)) & set(attack_names(generator=True))))


def generator_models(pretrain: Pretrain, attack: Attack, advtrain: Advtrain, dataset: str) -> list[str]:
    """Every pretrained generator the workflow uses for ``dataset`` (what pretrain_all builds)."""
    kinds = [editor(attack, dataset), advtrain_editor(advtrain, dataset)]
    if any(learned_generator_needed(attack, advtrain, dataset)):
        kinds.append("learned")
    return sorted({generator_model(pretrain, dataset, k) for k in kinds})


def gradient_groups(meanfield: Meanfield) -> dict[str, list[str]]:
    """``<role>_<activation>`` -> the names of its ``meanfield.gradients.runs``, in config order: one
    measure_gradients job per figure panel (its runs share a start-up; editing a run re-runs its group only)."""
    groups: dict[str, list[str]] = {}
    for run in meanfield.gradients.runs:
        groups.setdefault(f"{run.role}_{run.activation}", []).append(run.name)
    return groups


def depth_cell_minutes(depth_sweep: DepthSweep, panel: str, depth: int) -> int:
    """A scheduler's rough runtime (minutes) of one (panel, depth) cell: 6 flops per multiply-add over the stacked
    cell at an assumed sustained 5 TFLOP/s (a GPU), plus start-up; generous on purpose."""
    (p,) = [item for item in depth_sweep.panels if item.name == panel]
    nets = len(p.sw2_grid) * len(depth_sweep.seeds)
    flops = 6.0 * nets * p.batch * depth_sweep.width**2 * int(depth) * p.steps
    return int(10 + 3 * flops / 5e12 / 60)
