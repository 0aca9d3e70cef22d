"""The resumable training loop shared by every defence (one job per dataset x defence x seed).

Per epoch: shuffled minibatches (``reproflow.training.loop.minibatches``), the defence's loss
(:meth:`Defence.step`), one optimiser step; the first ``warmup_epochs`` epochs of an adversarial defence
use the clean cross-entropy (spec spa.md section 8: clean warm-up), and every adversarial epoch starts
with the defence's hook (SPA-AT: generator refresh). The classifier, optimiser, scheduler and the
defence's own state are checkpointed after every epoch (``reproflow.training.loop.ResumableTraining``);
all randomness of an epoch comes from ``epoch_generator(seed, defence, epoch)`` and the per-sample keys
``epoch * N + index``, so a killed job resumes and replays the same draws.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.data.store import Split
from reproflow.defences.base import Defence, StepOutput, acc
from reproflow.defences.matrix import probe_rows
from reproflow.device import take_batch, to_device_once
from reproflow.logs import progress
from reproflow.settings.sections import AdvtrainTraining, PretrainSgd
from reproflow.training.classifier import make_optimizer
from reproflow.training.loop import EpochHook, ResumableTraining, accuracy, cosine_lr, epoch_generator, minibatches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings(AdvtrainTraining):
    """Schedule shared by every defence: the generated ``advtrain.training.<dataset>`` (epochs, ``warmup_epochs``
    clean epochs before an adversarial defence starts crafting examples, batch size, optimizer sgd | adam, peak
    learning rate cosine-decayed to 0, weight decay), with what the defences share with the clean classifier."""

    sgd: PretrainSgd  # pretrain.sgd: SGD's momentum (the defences train like the clean classifier)
    # data augmentation of the clean classifier of the dataset (pretrain.classifier.<dataset>.augment), so every
    # defence sees the same data as standard training: none | flip | crop_flip (reproflow.training.classifier)
    augment: str

    def __post_init__(self) -> None:
        from reproflow.training.classifier import AUGMENTS

        if self.epochs < 1 or not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"need epochs >= 1 and 0 <= warmup_epochs < epochs, got {self.epochs}, {self.warmup_epochs}")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}, got {self.augment!r}")


def augment_with_attributes(
    x: torch.Tensor, a: torch.Tensor, mode: str, gen: torch.Generator, flip_negates_attribute: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """The clean classifier's augmentation of a batch ``x`` [B,C,H,W] with its attributes ``a`` [B] in [0, 1].

    A horizontal flip mirrors a rotation by +theta into one by -theta; on a symmetric rotation range
    [-r, r] that is ``a -> 1 - a`` (``flip_negates_attribute``). Other attributes (CelebA's) are
    unchanged by a flip; integer shifts change no attribute.
    """
    from reproflow.training.classifier import augment_batch_flips

    x_aug, flip = augment_batch_flips(x, mode, gen)
    if flip_negates_attribute and bool(flip.any()):
        a = torch.where(flip.to(a.device), 1.0 - a, a)
    return x_aug, a


def flip_negates(split: Split) -> bool:
    """True for the rotation sets (symmetric range in degrees, see reproflow.data.prepare)."""
    rng = split.meta.get("attribute_range")
    return split.meta.get("attribute_name") == "rotation_deg" and rng is not None and float(rng[0]) == -float(rng[1])


def _clean_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> StepOutput:
    logits = model(x)
    return StepOutput(F.cross_entropy(logits, y), {"clean_accuracy": acc(logits, y)})


def advtrain_rows(dataset: str, defence: str, epoch: int, seed: int, values: dict[str, float]) -> list[dict[str, Any]]:
    """Tidy curve rows ``phase, dataset, model, epoch, seed, metric, value`` (model = defence name)."""
    return [
        {"phase": "advtrain", "dataset": dataset, "model": defence, "epoch": epoch, "seed": seed, "metric": k,
         "value": float(v)}
        for k, v in values.items()
    ]


def train_defence(
    model: nn.Module,
    defence: Defence,
    train: Split,
    test: Split,
    settings: TrainSettings,
    seed: int,
    device: torch.device,
    checkpoint: str | Path | None = None,
    dataset: str = "",
    eval_batch_size: int = 512,
    on_epoch_end: EpochHook | None = None,
    robust_probe: Callable[[nn.Module], Sequence[bool]] | None = None,
) -> tuple[nn.Module, list[dict[str, Any]], dict[str, float]]:
    """Train ``model`` (already initialised and on ``device``) with ``defence``; returns
    (model in eval mode, curve rows, final metrics). ``robust_probe(model)`` (eval mode), when given, returns the
    per-image robust correctness on the probe's held-out images after every epoch; the curve records its mean as
    ``val_robust_accuracy`` and each image as ``val_robust_correct/<i>`` (:func:`reproflow.defences.matrix.probe_rows`; T2's
    training-adequacy rule pairs the last epochs image by image, :func:`reproflow.defences.matrix.training_plateau`).

    Curve metrics per epoch: ``train_loss``, the defence's batch diagnostics averaged over the epoch
    (``train_clean_accuracy``, ``train_adv_accuracy``, ...), ``test_accuracy`` (clean, whole test split),
    ``adversarial`` (1 after the warm-up), and SPA-AT's refresh diagnostics (no wall times: tables are
    byte-identical across reruns; times are in the log and the benchmark file). Final metrics: ``test_accuracy``.
    """
    opt = make_optimizer(model.parameters(), settings.optimizer, settings.lr, settings.weight_decay, settings.sgd)
    sched = cosine_lr(opt, settings.epochs)
    state = ResumableTraining(checkpoint, {"model": model, "opt": opt, "sched": sched, "defence": defence},
                              settings.epochs)
    start = state.start()
    n = len(train)
    flips_attr = flip_negates(train)
    # the data set moves to the device once per job; each step indexes its batch there
    images, labels, attrs = to_device_once(train.images, train.labels, train.attributes, device=device)
    for epoch in range(start, settings.epochs):
        t0 = time.monotonic()
        rng = epoch_generator(seed, defence.name, epoch)
        adversarial = defence.adversarial and epoch >= settings.warmup_epochs
        values: dict[str, float] = {}
        if adversarial and not state.resumes_mid_epoch(epoch):  # a mid-epoch checkpoint holds its refresh
            values.update(defence.begin_epoch(model, epoch - settings.warmup_epochs, rng))
        model.train()
        sums: dict[str, float] = {}
        for idx in progress(state.batches(epoch, list(minibatches(n, settings.batch_size, rng)), rng, values, sums),
                            desc=f"{defence.name} epoch {epoch + 1}/{settings.epochs}"):
            x, y, a = take_batch(images, idx), take_batch(labels, idx), take_batch(attrs, idx)
            if settings.augment != "none":
                x, a = augment_with_attributes(x, a, settings.augment, rng, flips_attr)
            out = defence.step(model, x, y, a, idx + epoch * n) if adversarial else _clean_step(model, x, y)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            opt.step()
            for k, v in {"loss": float(out.loss.detach()), **out.stats}.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
        sched.step()
        model.eval()
        values.update({f"train_{k}": v / n for k, v in sums.items()})
        values["test_accuracy"] = accuracy(model, test.images, test.labels, eval_batch_size, device)
        values["adversarial"] = float(adversarial)
        correct: list[bool] = []
        if robust_probe is not None:
            c0 = time.process_time()
            correct = [bool(c) for c in robust_probe(model)]
            values["val_robust_accuracy"] = sum(correct) / max(len(correct), 1)
            # its cost goes to the log (the params comment quotes it), never into the table
            log.info("%s epoch %d: plateau probe on %d images, %.1f CPU-s", defence.name, epoch + 1, len(correct),
                     time.process_time() - c0)
        # wall time goes to the log (and Snakemake's benchmark file), never into a result table
        log.info("%s epoch %d/%d (%.1fs): %s", defence.name, epoch + 1, settings.epochs, time.monotonic() - t0,
                 {k: round(v, 4) for k, v in values.items()})
        state.end_epoch(epoch + 1, advtrain_rows(dataset, defence.name, epoch + 1, seed, values)
                        + advtrain_rows(dataset, defence.name, epoch + 1, seed, probe_rows(correct)))
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    model.eval()
    metrics = {
        "test_accuracy": accuracy(model, test.images, test.labels, eval_batch_size, device),
    }
    # the caller removes the checkpoint once its outputs are written (a crash in between keeps it)
    return model, state.rows, metrics
