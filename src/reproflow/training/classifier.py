"""Standard (clean) training of the SPA classifiers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.data.store import Split
from reproflow.errors import UserError
from reproflow.logs import progress
from reproflow.models.classifiers import build_classifier
from reproflow.settings.sections import PretrainClassifier, PretrainSgd
from reproflow.training.loop import (
    EpochHook,
    ResumableTraining,
    accuracy,
    cosine_lr,
    curve_rows,
    epoch_generator,
    minibatches,
)

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam")
AUGMENTS = ("none", "flip", "crop_flip")


# Hyper-parameters of clean training: params.yaml ``pretrain.classifier.<dataset>`` (arch, epochs, batch_size;
# optimizer sgd (momentum and Nesterov from pretrain.sgd) | adam; lr = peak, cosine-decayed to 0; weight_decay; augment none | flip
# | crop_flip = 4-pixel random shifts with zero fill and horizontal flips).
ClassifierSettings = PretrainClassifier


def augment_batch(x: torch.Tensor, mode: str, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flips and/or integer shifts of up to 4 pixels (zero fill) per image."""
    return augment_batch_flips(x, mode, gen)[0]


def augment_batch_flips(x: torch.Tensor, mode: str, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`augment_batch` that also returns which images were flipped (bool ``[B]``, on CPU): a
    horizontal flip turns a rotation by +theta into one by -theta, so a caller that trains with the
    rotation attribute maps it to ``1 - a`` for those images. Same random draws as :func:`augment_batch`."""
    b = x.shape[0]
    if mode == "none":
        return x, torch.zeros(b, dtype=torch.bool)
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip.to(x.device)[:, None, None, None], x.flip(3), x)
    if mode == "crop_flip":
        shifts = torch.randint(-4, 5, (b, 2), generator=gen)
        pad = F.pad(x, (4, 4, 4, 4))
        h, w = x.shape[2], x.shape[3]
        x = torch.stack([pad[i, :, 4 + dy : 4 + dy + h, 4 + dx : 4 + dx + w] for i, (dy, dx) in enumerate(shifts.tolist())])
    return x, flip


def make_optimizer(params: Any, name: str, lr: float, weight_decay: float, sgd: PretrainSgd) -> torch.optim.Optimizer:
    """``name`` (sgd | adam) at learning rate ``lr`` with L2 ``weight_decay``; SGD's momentum from ``sgd``."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=sgd.momentum, nesterov=sgd.nesterov, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise UserError(f"unknown optimizer '{name}'; choose one of {', '.join(OPTIMIZERS)}")


def train_classifier(
    train: Split, test: Split, settings: ClassifierSettings, sgd: PretrainSgd, seed: int, device: torch.device,
    checkpoint: str | Path | None, dataset: str, eval_batch_size: int,
    on_epoch_end: EpochHook | None = None,
) -> tuple[nn.Module, list[dict[str, Any]], dict[str, float]]:
    """Train ``settings.arch`` with cross-entropy on ``train``; returns (model in eval mode, curve rows, metrics).

    Curve metrics per epoch: train_loss, train_accuracy, test_accuracy. Final metrics: test_accuracy,
    train_accuracy (on the whole training split), num_params. The caller seeds the model initialisation
    (``seed_everything``); every random draw inside an epoch comes from :func:`epoch_generator`.
    """
    if settings.augment not in AUGMENTS:
        raise UserError(f"unknown augment '{settings.augment}'; choose one of {', '.join(AUGMENTS)}")
    c, size = train.images.shape[1], train.images.shape[-1]
    model = build_classifier(settings.arch, c, train.num_classes, size).to(device)
    opt = make_optimizer(model.parameters(), settings.optimizer, settings.lr, settings.weight_decay, sgd)
    sched = cosine_lr(opt, settings.epochs)
    state = ResumableTraining(checkpoint, {"model": model, "opt": opt, "sched": sched}, settings.epochs)
    start = state.start()
    n = len(train)
    for epoch in range(start, settings.epochs):
        gen = epoch_generator(seed, "classifier", epoch)
        model.train()
        sums = {"loss": 0.0, "correct": 0.0}
        batches = state.batches(epoch, list(minibatches(n, settings.batch_size, gen)), gen, sums)
        for idx in progress(batches, desc=f"classifier epoch {epoch + 1}/{settings.epochs}"):
            x = augment_batch(train.images[idx], settings.augment, gen).to(device)
            y = train.labels[idx].to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums["loss"] += float(loss.detach()) * len(idx)
            sums["correct"] += int((logits.argmax(1) == y).sum())
        sched.step()
        model.eval()
        test_acc = accuracy(model, test.images, test.labels, eval_batch_size, device)
        values = {"train_loss": sums["loss"] / n, "train_accuracy": sums["correct"] / n, "test_accuracy": test_acc}
        log.info("classifier epoch %d/%d: %s", epoch + 1, settings.epochs, {k: round(v, 4) for k, v in values.items()})
        state.end_epoch(epoch + 1, curve_rows(dataset, "classifier", epoch + 1, seed, values))
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    model.eval()
    metrics = {
        "test_accuracy": accuracy(model, test.images, test.labels, eval_batch_size, device),
        "train_accuracy": accuracy(model, train.images, train.labels, eval_batch_size, device),
        "num_params": float(sum(p.numel() for p in model.parameters())),
    }
    return model, state.rows, metrics
