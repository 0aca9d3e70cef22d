"""Rule train_generator: the L2L-DA noise generator against the frozen clean classifier, resumable per epoch.

    python -m reproflow.cli.train_generator --train ... --test ... --classifier ... --manipulator .../oracle.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import resolve_device
from reproflow.models.classifiers import load_classifier
from reproflow.models.generator import save_generator
from reproflow.models.manipulator import load_manipulator
from reproflow.seeding import seed_everything
from reproflow.settings.sections import PretrainGenerator
from reproflow.training.generator import GeneratorSettings, train_generator
from reproflow.training.loop import finish_training


@dataclass(frozen=True)
class Config:
    """Train the diverse noise generator with random attribute values through a frozen manipulator."""

    train: Path
    test: Path
    classifier: Path
    manipulator: Path
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    seed: int
    device: str
    generator: PretrainGenerator  # pretrain.generator.<dataset>
    eps: float  # derived: the largest eps of attack.eps_grid.<dataset>
    eval_batch_size: int


def run(cfg: Config) -> None:
    started = time.time()
    device = resolve_device(cfg.device)
    train, test = load_split(cfg.train), load_split(cfg.test)
    classifier = load_classifier(cfg.classifier, device)
    manipulator = load_manipulator(cfg.manipulator, device)
    seed_everything(cfg.seed)
    settings = GeneratorSettings.of(cfg.generator, cfg.eps)
    gen, rows, metrics = train_generator(
        train, test, classifier, manipulator, settings, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.eval_batch_size
    )
    meta = {
        "dataset": cfg.dataset, "seed": cfg.seed, "eps": cfg.eps, "steps": settings.steps, "step_size": settings.step_size,
        "manipulator": str(cfg.manipulator), **metrics,
    }
    save_generator(cfg.output, gen, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
