"""Rule train_classifier: clean training of one classifier (one dataset, one seed), resumable per epoch.

    python -m reproflow.cli.train_classifier --train .../train.pt --test .../test.pt --output .../classifier.pt ...
"""

from __future__ import annotations

from dataclasses import dataclass

from reproflow.cli._base import exit_with, main_entry
from reproflow.models.classifiers import save_classifier
from reproflow.settings.sections import PretrainClassifier, PretrainSgd
from reproflow.training.classifier import train_classifier
from reproflow.training.loop import TrainingJob, finish_training, start_training


@dataclass(frozen=True, kw_only=True)
class Config(TrainingJob):
    """Train a clean classifier on one prepared dataset."""

    classifier: PretrainClassifier  # pretrain.classifier.<dataset>
    sgd: PretrainSgd  # pretrain.sgd


def run(cfg: Config) -> None:
    started, device, train, test = start_training(cfg)
    settings = cfg.classifier
    model, rows, metrics = train_classifier(
        train, test, settings, cfg.sgd, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.evaluation.eval_batch_size
    )
    c, size = train.images.shape[1], train.images.shape[-1]
    meta = {"dataset": cfg.dataset, "seed": cfg.seed, **metrics}
    save_classifier(cfg.output, model, settings.arch, c, train.num_classes, size, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
