"""One evaluation path for every classifier, standard or defended.

The attack phase's ``evaluate_attacks`` (the pretrained clean classifier, plus the semantic judge and the
image grid) and the advtrain phase's ``evaluate_defence`` (a defended classifier, after refitting the noise
generator against it) are the same job: load the test split and the frozen editors and generator, pick the
primary editor, run :func:`reproflow.attacks.suite.evaluate_suite` over the eps grid, and write the tidy
metric table. :class:`Evaluation` is the part of their configs they share; the CLIs add only their extras.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.suite import SuiteOutput, evaluate_suite, resolve_editors
from reproflow.data.store import Split, load_split
from reproflow.device import resolve_device
from reproflow.io import write_table
from reproflow.seeding import seed_everything
from reproflow.settings.sections import AttackSuite

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator

COLUMNS = ["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"]


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """What an evaluation job reads besides the attacked classifier(s): the test split, the learned editor,
    the noise generator and (rotation sets) the exact editor; the attacks over the eps grid, with their settings
    (the generated :class:`~reproflow.settings.sections.AttackSuite`). Each CLI builds it from its typed sections
    (the attack phase from ``attack``, the defence evaluations from ``attack`` and ``advtrain``)."""

    data: Path
    manipulator: Path
    generator: Path
    oracle: Path | None
    # the generator trained through the learned editor, for the generator and SPA among learned_attacks
    generator_learned: Path | None
    dataset: str
    seed: int
    device: str
    eps_grid: tuple[float, ...]
    attacks: tuple[str, ...]
    oracle_attacks: tuple[str, ...] | None
    max_samples: int
    # primary editor of the semantic attacks: oracle (exact rotation; the learned MSP editor runs beside it for
    # learned_attacks, labelled <attack>_learned) | learned (the MSP editor alone)
    editor: str
    learned_attacks: tuple[str, ...]
    suite: AttackSuite

    def __post_init__(self) -> None:
        if any(e < 0 or e > 1 for e in self.eps_grid):
            raise ValueError(f"eps grid values must lie in [0, 1], got {self.eps_grid}")


@dataclass
class Loaded:
    """The job's device, split (its first ``max_samples``) and frozen models; ``primary`` edits for the
    semantic attacks, ``learned`` (or None) is the MSP editor run beside an exact primary."""

    device: torch.device
    split: Split
    classifier: torch.nn.Module
    manipulator: AttributeManipulator
    generator: NoiseGenerator
    oracle: AttributeManipulator | None
    primary: AttributeManipulator
    learned: AttributeManipulator | None
    learned_generator: NoiseGenerator | None


def load(cfg: Evaluation, classifier: Path) -> Loaded:
    """The split and frozen models of one evaluation; ``classifier`` is the model attacked. A job that attacks
    several classifiers moves on to the next one with :func:`retarget`."""
    from reproflow.models import load_classifier, load_generator, load_manipulator

    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    split = load_split(cfg.data)
    if cfg.max_samples > 0:
        split = split.subset(cfg.max_samples)
    manipulator = load_manipulator(cfg.manipulator, device)
    oracle = load_manipulator(cfg.oracle, device) if cfg.oracle is not None else None
    primary, learned = resolve_editors(cfg.editor, manipulator, oracle)
    learned_generator = load_generator(cfg.generator_learned, device) if cfg.generator_learned is not None else None
    return Loaded(device, split, load_classifier(classifier, device), manipulator,
                  load_generator(cfg.generator, device), oracle, primary, learned, learned_generator)


def retarget(cfg: Evaluation, m: Loaded, classifier: Path) -> Loaded:
    """``m`` pointed at another attacked classifier: the split and editors are kept, the generators are read
    afresh (a refit against one classifier never carries over to the next) and the seed is reset as in :func:`load`,
    so each classifier's numbers equal those of a job of its own."""
    from reproflow.models import load_classifier, load_generator

    seed_everything(cfg.seed)
    learned_generator = load_generator(cfg.generator_learned, m.device) if cfg.generator_learned is not None else None
    return dataclasses.replace(m, classifier=load_classifier(classifier, m.device),
                               generator=load_generator(cfg.generator, m.device), learned_generator=learned_generator)


def evaluate(cfg: Evaluation, m: Loaded, labels: dict[str, Any], *, judge: torch.nn.Module | None = None,
             crosscheck: bool = False) -> SuiteOutput:
    """Every attack at every eps against ``m.classifier`` (rows labelled ``labels``)."""
    return evaluate_suite(
        m.split, m.classifier, attacks=cfg.attacks, eps_grid=cfg.eps_grid, settings=cfg.suite,
        seed=cfg.seed, device=m.device, manipulator=m.primary, generator=m.generator,
        oracle=None if m.learned is not None else m.oracle, oracle_attacks=tuple(cfg.oracle_attacks or ()),
        learned=m.learned, learned_attacks=cfg.learned_attacks, learned_generator=m.learned_generator, judge=judge, crosscheck=crosscheck, labels=labels,
    )


def job_row(labels: dict[str, Any], seed: int, metric: str, value: float, attack: str = "none") -> dict[str, Any]:
    """A per-job row of the tidy table (attack ``none`` at eps 0 unless named)."""
    return {**labels, "attack": attack, "eps": 0.0, "seed": seed, "metric": metric, "value": value}


def write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    write_table(path, pd.DataFrame(rows)[COLUMNS])
