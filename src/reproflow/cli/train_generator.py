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
from reproflow.settings import derived
from reproflow.settings.sections import AttackEps, PretrainGenerator, PretrainSubset
from reproflow.training.generator import step_size, train_generator
from reproflow.training.loop import TrainingJob, finish_training, start_training


@dataclass(frozen=True, kw_only=True)
class Config(TrainingJob):
    """Train the diverse noise generator with random attribute values through a frozen manipulator."""

    classifier: Path
    manipulator: Path
    generator: PretrainGenerator  # pretrain.generator.<dataset>
    eps: AttackEps  # attack.eps_grid (this dataset's): the training eps is its largest (derived.generator_eps)
    subset: PretrainSubset  # pretrain (its subset group): the first max_train training images (0 = all)


def run(cfg: Config) -> None:
    started, device, train, test = start_training(cfg)
    train = train.subset(cfg.subset.max_train) if cfg.subset.max_train else train
    classifier = load_classifier(cfg.classifier, device)
    manipulator = load_manipulator(cfg.manipulator, device)
    settings, eps = cfg.generator, derived.generator_eps(cfg.eps, cfg.dataset)
    gen, rows, metrics = train_generator(
        train, test, classifier, manipulator, settings, eps, cfg.seed, device, cfg.checkpoint, cfg.dataset,
        cfg.evaluation.eval_batch_size,
    )
    meta = {
        "dataset": cfg.dataset, "seed": cfg.seed, "eps": eps, "steps": settings.steps, "step_size": step_size(settings, eps),
        # its optimiser, which advtrain's refit and SPA-AT's refresh continue with
        "adam_beta1": settings.adam_beta1, "adam_beta2": settings.adam_beta2, "grad_clip": settings.grad_clip,
        "manipulator": str(cfg.manipulator), **metrics,
    }
    save_generator(cfg.output, gen, meta)
    finish_training(cfg, rows, metrics, device, started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
