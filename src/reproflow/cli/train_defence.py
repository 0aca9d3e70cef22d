"""Rule train_defence: train one defended classifier (one dataset, defence and seed), resumable per epoch.

The classifier starts from the pretrained clean classifier of the same seed (``--init pretrained``: its
weights) or from a fresh initialisation of the same architecture (``--init scratch``); attribute
augmentation and SPA-AT edit with the frozen manipulator, SPA-AT starts from the pretrained generator of
the same seed and refreshes it. Settings a defence does not use are passed as ``none``.

    python -m reproflow.cli.train_defence --train .../train.pt --test .../test.pt --classifier .../classifier.pt \
        --defence spa_at --eps 0.1 ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reproflow.checkpoint import Checkpointer
from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import describe_device, resolve_device
from reproflow.errors import UserError
from reproflow.io import load_torch
from reproflow.runinfo import write_sidecar
from reproflow.seeding import seed_everything

INITS = ("pretrained", "scratch")


@dataclass(frozen=True)
class Config:
    """Train one defence against the attacks of the SPA reproduction."""

    train: Path
    test: Path
    classifier: Path
    manipulator: Path | None
    generator: Path | None
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    defence: str
    seed: int
    device: str
    eps: float
    init: str
    epochs: int
    warmup_epochs: int
    batch_size: int
    optimizer: str
    lr: float
    weight_decay: float
    eval_batch_size: int
    # the clean classifier's data augmentation of this dataset (none | flip | crop_flip)
    augment: str = "none"
    # defence-specific settings (params.yaml advtrain.<defence>); none where the defence has no such key
    steps: int | None = None
    step_factor: float | None = None
    beta: float | None = None
    restarts: int | None = None
    attack_lr: float | None = None
    gen_steps: int | None = None
    gen_step_factor: float | None = None
    loss_weights: tuple[float, ...] | None = None
    refresh_every: int | None = None
    refresh_batches: int | None = None
    refresh_batch_size: int | None = None
    refresh_lr: float | None = None
    refresh_div_weight: float | None = None

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"--init must be one of {', '.join(INITS)}, got {self.init!r}")
        if not 0 <= self.eps <= 1:
            raise ValueError(f"--eps must lie in [0, 1], got {self.eps}")


def _require(cfg: Config, *names: str) -> dict[str, Any]:
    missing = [n for n in names if getattr(cfg, n) is None]
    if missing:
        raise UserError(f"defence '{cfg.defence}' needs --{', --'.join(m.replace('_', '-') for m in missing)}")
    return {n: getattr(cfg, n) for n in names}


def defence_kwargs(cfg: Config, recursion: dict[str, Any]) -> dict[str, Any]:
    """The constructor settings of ``cfg.defence`` from the CLI flags; ``recursion`` is the generator's
    ``gen_steps`` / ``gen_step_factor`` (used when the flags are ``none``)."""
    from reproflow.defences import DefenceName, RefreshSettings, parse_defence_name

    name = parse_defence_name(cfg.defence)
    if name in (DefenceName.PGD_AT, DefenceName.TRADES):
        kw = _require(cfg, "steps", "step_factor")
        if name is DefenceName.TRADES:
            kw.update(_require(cfg, "beta"))
        return kw
    if name is DefenceName.SPA_AT:
        kw = _require(cfg, "steps", "restarts", "attack_lr", "loss_weights",
                      "refresh_every", "refresh_batches", "refresh_batch_size", "refresh_lr", "refresh_div_weight")
        # the generator's own recursion (checkpoint meta) unless SPA-AT sets a shorter one
        kw["gen_steps"] = cfg.gen_steps if cfg.gen_steps is not None else recursion["gen_steps"]
        kw["gen_step_factor"] = cfg.gen_step_factor if cfg.gen_step_factor is not None else recursion["gen_step_factor"]
        if len(kw["loss_weights"]) != 3:
            raise UserError(f"--loss-weights takes three numbers (clean, attribute, joint), got {kw['loss_weights']}")
        return {
            "steps": kw["steps"], "restarts": kw["restarts"], "lr": kw["attack_lr"], "gen_steps": kw["gen_steps"],
            "gen_step_factor": kw["gen_step_factor"], "loss_weights": tuple(kw["loss_weights"]),
            "refresh_every": kw["refresh_every"],
            # the refresh trains at SPA-AT's own radius and recursion, against the classifier being trained
            "refresh": RefreshSettings(
                batches=kw["refresh_batches"], batch_size=kw["refresh_batch_size"], lr=kw["refresh_lr"], eps=cfg.eps,
                gen_steps=kw["gen_steps"], gen_step_factor=kw["gen_step_factor"], div_weight=kw["refresh_div_weight"],
            ),
        }
    return {}


def run(cfg: Config) -> None:
    from reproflow.attacks.suite import generator_recursion
    from reproflow.defences import DefenceName, TrainSettings, build_defence, parse_defence_name, train_defence
    from reproflow.models import build_classifier, load_classifier, load_generator, load_manipulator, save_classifier
    from reproflow.training.loop import write_training_outputs

    started = time.time()
    device = resolve_device(cfg.device)
    name = parse_defence_name(cfg.defence)
    train, test = load_split(cfg.train), load_split(cfg.test)
    # every defence of one seed starts from the same initialisation (pairs the comparison by seed)
    seed_everything(cfg.seed)
    # the pretrained checkpoint fixes the architecture; its weights are the start only with --init pretrained
    arch = dict(load_torch(cfg.classifier)["kwargs"])
    if cfg.init == "pretrained":
        model = load_classifier(cfg.classifier, device, frozen=False)
    else:
        model = build_classifier(**arch).to(device)
    for p in model.parameters():
        p.requires_grad_(True)
    manipulator = generator = None
    recursion: dict[str, Any] = {}
    if name in (DefenceName.ATTRIBUTE_AUGMENTATION, DefenceName.SPA_AT):
        if cfg.manipulator is None:
            raise UserError(f"defence '{cfg.defence}' needs --manipulator")
        manipulator = load_manipulator(cfg.manipulator, device)
    if name is DefenceName.SPA_AT:
        if cfg.generator is None:
            raise UserError("defence 'spa_at' needs --generator")
        generator = load_generator(cfg.generator, device)
        recursion = generator_recursion(generator)
    defence = build_defence(name, cfg.eps, seed=cfg.seed, manipulator=manipulator, generator=generator, train=train,
                            **defence_kwargs(cfg, recursion))
    settings = TrainSettings(cfg.epochs, cfg.warmup_epochs, cfg.batch_size, cfg.optimizer, cfg.lr, cfg.weight_decay,
                             cfg.augment)
    model, rows, metrics = train_defence(model, defence, train, test, settings, cfg.seed, device, cfg.checkpoint,
                                         cfg.dataset, cfg.eval_batch_size)
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, "defence": cfg.defence, "eps": cfg.eps, "init": cfg.init,
            **metrics}
    save_classifier(cfg.output, model, arch["arch"], arch["in_channels"], arch["num_classes"], arch["image_size"], meta)
    write_training_outputs(cfg.curve, rows, cfg.metrics, metrics)
    write_sidecar(cfg.output, cfg, cfg.seed, describe_device(device), started)
    Checkpointer(cfg.checkpoint, 1).remove()


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
