"""Rule train_classifier: clean training of one classifier (one dataset, one seed), resumable per epoch.

    python -m reproflow.cli.train_classifier --train .../train.pt --test .../test.pt --output .../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import resolve_device
from reproflow.models.classifiers import save_classifier
from reproflow.seeding import seed_everything
from reproflow.settings.sections import PretrainClassifier
from reproflow.training.classifier import train_classifier
from reproflow.training.loop import finish_training


@dataclass(frozen=True)
class Config:
    """Train a clean classifier on one prepared dataset."""

    train: Path
    test: Path
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    seed: int
    device: str
    classifier: PretrainClassifier  # pretrain.classifier.<dataset>
    eval_batch_size: int


def run(cfg: Config) -> None:
    started = time.time()
    device = resolve_device(cfg.device)
    train, test = load_split(cfg.train), load_split(cfg.test)
    seed_everything(cfg.seed)
    settings = cfg.classifier
    model, rows, metrics = train_classifier(
        train, test, settings, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.eval_batch_size
    )
    c, size = train.images.shape[1], train.images.shape[-1]
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, **metrics}
    save_classifier(cfg.output, model, settings.arch, c, train.num_classes, size, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
