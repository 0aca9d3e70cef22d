"""Rule train_manipulator: the MSP attribute manipulator of one dataset and seed, resumable per epoch.

    python -m reproflow.cli.train_manipulator --train ... --test ... --classifier .../classifier.pt --output .../manipulator.pt ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.models.classifiers import load_classifier
from reproflow.models.manipulator import save_manipulator
from reproflow.settings.sections import PretrainManipulator, PretrainSubset
from reproflow.training.loop import TrainingJob, finish_training, start_training
from reproflow.training.manipulator import train_manipulator


@dataclass(frozen=True, kw_only=True)
class Config(TrainingJob):
    """Train the MSP manipulator with the frozen clean classifier for label preservation."""

    classifier: Path
    manipulator: PretrainManipulator  # pretrain.manipulator.<dataset>
    subset: PretrainSubset  # pretrain (its subset group): the first max_train training images (0 = all)


def run(cfg: Config) -> None:
    started, device, train, test = start_training(cfg)
    train = train.subset(cfg.subset.max_train) if cfg.subset.max_train else train
    classifier = load_classifier(cfg.classifier, device)
    settings = cfg.manipulator
    m, rows, metrics = train_manipulator(
        train, test, classifier, settings, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.evaluation.eval_batch_size
    )
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, "attribute_range": train.meta.get("attribute_range"), **metrics}
    save_manipulator(cfg.output, m, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
