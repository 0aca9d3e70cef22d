"""Rule train_generator: the L2L-DA noise generator against the frozen clean classifier, resumable per epoch.

    python -m reproflow.cli.train_generator --train ... --test ... --classifier ... --manipulator .../oracle.pt ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.models.classifiers import load_classifier
from reproflow.models.generator import save_generator
from reproflow.models.manipulator import load_manipulator
from reproflow.settings.sections import PretrainGenerator
from reproflow.training.generator import GeneratorSettings, train_generator
from reproflow.training.loop import TrainingJob, finish_training, start_training


@dataclass(frozen=True, kw_only=True)
class Config(TrainingJob):
    """Train the diverse noise generator with random attribute values through a frozen manipulator."""

    classifier: Path
    manipulator: Path
    generator: PretrainGenerator  # pretrain.generator.<dataset>
    eps: float  # derived: the largest eps of attack.eps_grid.<dataset>
    max_train: int  # pretrain.max_train: first n training images (0 = all)


def run(cfg: Config) -> None:
    started, device, train, test = start_training(cfg)
    train = train.subset(cfg.max_train) if cfg.max_train else train
    classifier = load_classifier(cfg.classifier, device)
    manipulator = load_manipulator(cfg.manipulator, device)
    settings = GeneratorSettings.of(cfg.generator, cfg.eps)
    gen, rows, metrics = train_generator(
        train, test, classifier, manipulator, settings, cfg.seed, device, cfg.checkpoint, cfg.dataset, cfg.eval_batch_size
    )
    meta = {
        "dataset": cfg.dataset, "seed": cfg.seed, "eps": cfg.eps, "steps": settings.steps, "step_size": settings.step_size,
        # its optimiser, which advtrain's refit and SPA-AT's refresh continue with
        "adam_beta1": settings.adam_beta1, "adam_beta2": settings.adam_beta2, "grad_clip": settings.grad_clip,
        "manipulator": str(cfg.manipulator), **metrics,
    }
    save_generator(cfg.output, gen, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
