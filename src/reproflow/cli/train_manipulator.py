"""Rule train_manipulator: the MSP attribute manipulator of one dataset and seed, resumable per epoch.

    python -m reproflow.cli.train_manipulator --train ... --test ... --classifier .../classifier.pt --output .../manipulator.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import resolve_device
from reproflow.models.classifiers import load_classifier
from reproflow.models.manipulator import save_manipulator
from reproflow.seeding import seed_everything
from reproflow.settings.sections import PretrainManipulator
from reproflow.training.loop import finish_training
from reproflow.training.manipulator import train_manipulator


@dataclass(frozen=True)
class Config:
    """Train the MSP manipulator with the frozen clean classifier for label preservation."""

    train: Path
    test: Path
    classifier: Path
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    seed: int
    device: str
    manipulator: PretrainManipulator  # pretrain.manipulator.<dataset>
    eval_batch_size: int


def run(cfg: Config) -> None:
    started = time.time()
    device = resolve_device(cfg.device)
    train, test = load_split(cfg.train), load_split(cfg.test)
    classifier = load_classifier(cfg.classifier, device)
    seed_everything(cfg.seed)
    settings = cfg.manipulator
    m, rows, metrics = train_manipulator(
        train, test, classifier, settings, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.eval_batch_size
    )
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, "attribute_range": train.meta.get("attribute_range"), **metrics}
    save_manipulator(cfg.output, m, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
