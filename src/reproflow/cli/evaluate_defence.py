"""Rule evaluate_defence: every attack of the attack phase over its eps grid against the defended classifiers.

One job per (dataset, seed) evaluates every defence of that seed in turn (one start-up, the split and editors
read once; each defence gets its own table and a fresh copy of the generator), on the evaluation path of the attack phase
(``reproflow.attacks.job``: the same attacks, settings and test samples, params.yaml ``attack``). Before
attacking, the pretrained noise generator of the same seed is refitted against the defended classifier for
``--refit`` batches (spec spa.md section 8: a generator fitted to the clean model overstates the robustness
of a defended one; 0 = no refit), at the generator's own radius and recursion.

    python -m reproflow.cli.evaluate_defence --data .../test.pt --train .../train.pt --classifier .../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reproflow.attacks import job
from reproflow.attacks.outcomes import outcome_table, write_outcomes
from reproflow.cli._base import check_paired, exit_with, main_entry
from reproflow.device import describe_device
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived
from reproflow.settings.sections import (
    AdvtrainEvaluation,
    AdvtrainRefit,
    AdvtrainRoster,
    AttackEps,
    AttackSelection,
    AttackSuite,
)

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator


@dataclass(frozen=True, kw_only=True)
class Config:
    """Evaluate the attack list at every eps against each defended classifier (one tidy long table each)."""

    data: Path
    train: Path
    classifiers: tuple[Path, ...]
    manipulator: Path
    generator: Path
    generator_learned: Path | None
    oracle: Path | None
    metrics: tuple[Path, ...]
    outcomes: tuple[Path, ...]  # per defence: per-image correctness of every (attack, eps) (reproflow.attacks.outcomes)
    dataset: str
    seed: int
    device: str
    roster: AdvtrainRoster  # advtrain.defences, paired with --classifiers, --metrics and --outcomes
    eps: AttackEps  # attack.eps_grid (this dataset's)
    selection: AttackSelection  # attack (its selection group): what advtrain's evaluation group leaves null
    evaluation: AdvtrainEvaluation  # advtrain (its evaluation group: attacks, test samples, radii)
    suite: AttackSuite  # attack (its suite group: each attack's settings)
    refit: AdvtrainRefit

    def __post_init__(self) -> None:
        check_paired(defences=self.roster.defences, classifiers=self.classifiers, metrics=self.metrics,
                     outcomes=self.outcomes)


def plan(cfg: Config) -> job.Evaluation:
    """The evaluation every defence of this job gets: the attack phase's, with advtrain's subsets and radii
    (reproflow.settings.derived)."""
    s, e = cfg.selection, cfg.evaluation
    return job.Evaluation(
        data=cfg.data, manipulator=cfg.manipulator, generator=cfg.generator, oracle=cfg.oracle,
        generator_learned=cfg.generator_learned, dataset=cfg.dataset, seed=cfg.seed, device=cfg.device,
        eps_grid=derived.advtrain_eps_grid(cfg.eps, e, cfg.dataset), attacks=derived.advtrain_attacks(s, e),
        oracle_attacks=derived.advtrain_oracle_attacks(s, e) if cfg.oracle is not None else None,
        max_samples=derived.advtrain_max_samples(s, e), editor=derived.editor(s, cfg.dataset),
        learned_attacks=derived.advtrain_learned_attacks(s, e), suite=cfg.suite,
    )


def run(cfg: Config) -> None:
    import torch

    from reproflow.attacks.suite import generator_optimizer, generator_recursion
    from reproflow.data.store import load_split
    from reproflow.defences.refresh import GeneratorRefresher, RefreshSettings
    from reproflow.seeding import derive_seed

    evaluation = plan(cfg)
    train = load_split(cfg.train) if cfg.refit.batches > 0 else None
    m: job.Loaded | None = None
    for defence, classifier, metrics, outcomes in zip(cfg.roster.defences, cfg.classifiers, cfg.metrics, cfg.outcomes,
                                                      strict=True):
        started = time.time()
        m = job.load(evaluation, classifier) if m is None else job.retarget(evaluation, m, classifier)
        labels = {"phase": "advtrain", "dataset": cfg.dataset, "model": defence}
        refit: dict[str, float] = {}
        # each generator is refitted through the editor it is trained through and used with: the primary one through
        # the primary editor (the claims' SPA and generator attack), the learned-editor one through the learned editor
        fits: list[tuple[str, NoiseGenerator, AttributeManipulator, tuple[str, ...]]] = [("", m.generator, m.primary, ())]
        if m.learned_generator is not None and m.learned is not None:
            fits.append(("learned_", m.learned_generator, m.learned, ("learned",)))
        for prefix, gen, editor, tag in fits if train is not None else ():
            assert train is not None  # for the type checker: no refit without the train split
            settings = RefreshSettings(
                batches=cfg.refit.batches, batch_size=cfg.refit.batch_size, lr=cfg.refit.lr,
                eps=float(gen.meta["eps"]), **generator_recursion(gen), div_weight=cfg.refit.div_weight,
                **generator_optimizer(gen),
            )
            rng = torch.Generator().manual_seed(derive_seed(cfg.seed, defence, "refit", *tag))
            fitted = GeneratorRefresher(gen, settings).refresh(m.classifier, editor, train, rng)
            refit.update({prefix + k: v for k, v in fitted.items()})
        out = job.evaluate(evaluation, m, labels)
        extra = [job.job_row(labels, cfg.seed, "n_samples", float(len(m.split)))]
        extra += [job.job_row(labels, cfg.seed, k, v) for k, v in refit.items()]
        job.write_metrics(metrics, out.rows + extra)
        write_outcomes(outcomes, outcome_table(out.correct, out.clean, labels, cfg.seed))
        write_sidecar(metrics, cfg, cfg.seed, describe_device(m.device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
