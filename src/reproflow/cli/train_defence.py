"""Rule train_defence: train defended classifiers of one dataset and seed, each resumable per epoch.

One job trains the defences it is given in turn (``--roster`` with paired ``--output``, ``--metrics``,
``--curve`` and ``--checkpoint`` lists): one per job at the paper scale, every defence of the seed at the
CPU scales (params.yaml ``advtrain.train_jobs``), where a job's start-up (Python, torch, the splits, the
pretrained models) costs as much as a short defence. Each defence gets its own model file, tables,
sidecar and checkpoint, and starts from the same initialisation of its seed.

The classifier starts from the pretrained clean classifier of the same seed (``advtrain.init`` pretrained:
its weights) or from a fresh initialisation of the same architecture (scratch); attribute
augmentation and SPA-AT edit with the frozen manipulator, SPA-AT starts from the pretrained generator of
the same seed and refreshes it. Each defence with a params.yaml section (``advtrain.<defence>``;
``reproflow.vocab.DefenceSpec.settings``) has its own flag named as the defence (``--pgd-at``, ``--spa-at``, ...):
its section as JSON for the job's own defences, ``none`` for the others.

    python -m reproflow.cli.train_defence --train .../train.pt --test .../test.pt --classifier .../classifier.pt \
        --roster '{"defences": ["pgd_at", "spa_at"]}' --output .../pgd_at/.../classifier.pt .../spa_at/.../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reproflow.cli._base import check_paired, exit_with, main_entry
from reproflow.device import resolve_device
from reproflow.errors import UserError
from reproflow.io import load_torch
from reproflow.seeding import seed_everything
from reproflow.settings import derived
from reproflow.settings.sections import (
    AdvtrainFit,
    AdvtrainPgdAt,
    AdvtrainPlateau,
    AdvtrainRoster,
    AdvtrainSpaAt,
    AdvtrainTrades,
    AdvtrainTraining,
    AdvtrainWorstOfK,
    AttackEps,
    PretrainClassifier,
    PretrainSgd,
)


@dataclass(frozen=True)
class Config:
    """Train defences of one dataset and seed against the attacks of the SPA reproduction."""

    train: Path
    test: Path
    classifier: Path
    manipulator: Path | None
    generator: Path | None
    output: tuple[Path, ...]
    metrics: tuple[Path, ...]
    curve: tuple[Path, ...]
    checkpoint: tuple[Path, ...]
    dataset: str
    seed: int
    device: str
    # the defences this job trains, in turn: advtrain.defences, or the job's own one (advtrain.train_jobs per_defence)
    roster: AdvtrainRoster
    eps: AttackEps  # attack.eps_grid (this dataset's): the defences train at its headline eps (derived.headline_eps)
    fit: AdvtrainFit  # advtrain (its fit group): init (pretrained | scratch), max_train, eval_batch_size
    training: AdvtrainTraining  # advtrain.training.<dataset>
    sgd: PretrainSgd  # pretrain.sgd: SGD's momentum, as in standard training
    plateau: AdvtrainPlateau  # advtrain.plateau: the per-epoch robust accuracy T2's training-adequacy rule reads
    clean: PretrainClassifier  # pretrain.classifier.<dataset>: the clean classifier's data augmentation
    # each defence's own section (params.yaml advtrain.<defence>), given for the defences of this job that have one
    # (reproflow.vocab: DefenceSpec.settings) and none otherwise, so a job records only its own defences' settings
    pgd_at: AdvtrainPgdAt | None
    trades: AdvtrainTrades | None
    spa_at: AdvtrainSpaAt | None
    worst_of_k: AdvtrainWorstOfK | None

    def __post_init__(self) -> None:
        check_paired(defences=self.roster.defences, output=self.output, metrics=self.metrics, curve=self.curve,
                     checkpoint=self.checkpoint)


@dataclass(frozen=True)
class _One:
    """What ``finish_training`` and the sidecar need of one defence of the job."""

    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    seed: int
    defence: str
    job: Config


def run(cfg: Config) -> None:
    from reproflow.data.store import load_split

    train, test = load_split(cfg.train), load_split(cfg.test)
    train = train.subset(cfg.fit.max_train) if cfg.fit.max_train else train
    for defence, output, metrics, curve, checkpoint in zip(cfg.roster.defences, cfg.output, cfg.metrics, cfg.curve,
                                                           cfg.checkpoint, strict=True):
        _train_one(cfg, _One(output, metrics, curve, checkpoint, cfg.seed, defence, cfg), train, test)


def _train_one(cfg: Config, one: _One, train: Any, test: Any) -> None:
    from reproflow.attacks.suite import generator_optimizer, generator_recursion
    from reproflow.defences.base import DefenceName
    from reproflow.defences.registry import DEFENCES, build_defence, defence_kwargs, parse_defence_name
    from reproflow.defences.train import TrainSettings, train_defence
    from reproflow.models import build_classifier, load_classifier, load_generator, load_manipulator, save_classifier
    from reproflow.settings import dump
    from reproflow.training.loop import finish_training

    started = time.time()
    device = resolve_device(cfg.device)
    eps, init, eval_batch_size = derived.headline_eps(cfg.eps, cfg.dataset), cfg.fit.init, cfg.fit.eval_batch_size
    name = parse_defence_name(one.defence)
    # every defence of one seed starts from the same initialisation (pairs the comparison by seed)
    seed_everything(cfg.seed)
    # the pretrained checkpoint fixes the architecture; its weights are the start only with --init pretrained
    arch = dict(load_torch(cfg.classifier)["kwargs"])
    if init == "pretrained":
        model = load_classifier(cfg.classifier, device, frozen=False)
    else:
        model = build_classifier(**arch).to(device)
    for p in model.parameters():
        p.requires_grad_(True)
    manipulator = generator = None
    recursion: dict[str, Any] = {}
    optimizer: dict[str, Any] = {}
    if DEFENCES[name].needs_manipulator or cfg.plateau.val_samples:
        if cfg.manipulator is None:
            raise UserError(f"defence '{one.defence}' needs --manipulator (its own edits or the plateau probe)")
        manipulator = load_manipulator(cfg.manipulator, device)
    if name is DefenceName.SPA_AT:
        if cfg.generator is None:
            raise UserError("defence 'spa_at' needs --generator")
        generator = load_generator(cfg.generator, device)
        recursion, optimizer = generator_recursion(generator), generator_optimizer(generator)
    section = getattr(cfg, one.defence, None)  # its own section: a field named as the defence (None: it has none)
    defence = build_defence(name, eps, seed=cfg.seed, manipulator=manipulator, generator=generator, train=train,
                            **defence_kwargs(name, section, eps, recursion, optimizer))
    settings = TrainSettings(**dump(cfg.training), sgd=cfg.sgd, augment=cfg.clean.augment)
    probe = None
    if cfg.plateau.val_samples:
        assert manipulator is not None
        probe = robust_probe(test.subset(cfg.plateau.val_samples), manipulator, eps, cfg.plateau, cfg.seed,
                             eval_batch_size)
    model, rows, metrics = train_defence(model, defence, train, test, settings, cfg.seed, device, one.checkpoint,
                                         cfg.dataset, eval_batch_size, robust_probe=probe)
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, "defence": one.defence, "eps": eps, "init": init,
            **metrics}
    save_classifier(one.output, model, arch["arch"], arch["in_channels"], arch["num_classes"], arch["image_size"], meta)
    finish_training(one, rows, metrics, device, started)


def robust_probe(val: Any, manipulator: Any, eps: float, s: AdvtrainPlateau, seed: int, batch_size: int) -> Any:
    """The per-epoch probe of T2's training-adequacy rule (issue 21): accuracy of the model under grid-PGD (PGD with
    ``s.steps`` steps of ``s.step_factor`` x eps / steps, best of ``s.restarts`` starts, at each of ``s.grid_size``
    attribute values, the joint threat every defence is judged under)
    on the ``val`` images at the training eps; the same probe, seed and images for every defence and epoch. Returns
    the per-image correctness (bool, in ``val``'s order), which the plateau rule pairs across epochs and seeds."""
    from reproflow.attacks.evaluate import run_attack
    from reproflow.attacks.registry import build_attack

    def probe(model: Any) -> list[bool]:
        atk = build_attack("grid_pgd", model, eps, manipulator=manipulator, grid_size=s.grid_size, steps=s.steps,
                           step_factor=s.step_factor, restarts=s.restarts, seed=seed)
        out = run_attack(atk, val, batch_size)
        return (out.pred_adv == val.labels).cpu().tolist()

    return probe


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
