"""Helpers shared by the pretraining loops: per-epoch resumable state, minibatches, evaluation, SSIM."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.checkpoint import Checkpointer
from reproflow.errors import UserError
from reproflow.seeding import derive_seed

log = logging.getLogger(__name__)

EpochHook = Callable[[int], None]


class ResumableTraining:
    """Per-epoch checkpoint of every stateful object (modules, optimisers, schedulers) and the curve rows.

    ``objects`` maps names to things with ``state_dict``/``load_state_dict``. ``start()`` restores the last
    saved epoch (0 on a fresh start); ``end_epoch(epoch, rows)`` appends rows and saves. Randomness inside
    an epoch must come from :func:`epoch_generator`, so a resumed run replays exactly the same draws.
    """

    def __init__(self, path: str | Path | None, objects: dict[str, Any], total_epochs: int) -> None:
        self.ckpt = Checkpointer(path, every=1)
        self.objects = objects
        self.total_epochs = total_epochs
        self.rows: list[dict[str, Any]] = []

    def start(self) -> int:
        state = self.ckpt.load()
        if state is None:
            return 0
        if state.get("total_epochs") != self.total_epochs or set(state.get("objects", {})) != set(self.objects):
            raise UserError(
                f"{self.ckpt.path}: checkpoint from a different configuration "
                f"({state.get('total_epochs')} epochs, expected {self.total_epochs}); delete it to start afresh"
            )
        for name, obj in self.objects.items():
            obj.load_state_dict(state["objects"][name])
        self.rows = list(state["rows"])
        return int(state["step"])

    def end_epoch(self, epoch: int, rows: list[dict[str, Any]]) -> None:
        """Record the rows of ``epoch`` (1-based count of finished epochs) and checkpoint."""
        self.rows.extend(rows)
        self.ckpt.maybe_save(
            epoch,
            lambda: {
                "total_epochs": self.total_epochs,
                "objects": {k: v.state_dict() for k, v in self.objects.items()},
                "rows": list(self.rows),
            },
        )

    def finish(self) -> None:
        self.ckpt.remove()


def epoch_generator(seed: int, model: str, epoch: int) -> torch.Generator:
    """The CPU generator for everything random in one epoch (shuffles, attribute and z draws)."""
    return torch.Generator().manual_seed(derive_seed(seed, model, epoch))


def minibatches(n: int, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches covering ``n`` samples once (the last batch may be smaller)."""
    perm = torch.randperm(n, generator=gen)
    for s in range(0, n, batch_size):
        yield perm[s : s + batch_size]


def curve_rows(dataset: str, model: str, epoch: int, seed: int, values: dict[str, float]) -> list[dict[str, Any]]:
    """Tidy rows ``phase, dataset, model, epoch, seed, metric, value`` for one epoch."""
    return [
        {"phase": "pretrain", "dataset": dataset, "model": model, "epoch": epoch, "seed": seed, "metric": k, "value": float(v)}
        for k, v in values.items()
    ]


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """Predicted labels [N] (on CPU) for images [N, C, H, W]."""
    out = [model(images[s : s + batch_size].to(device)).argmax(1).cpu() for s in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int, device: torch.device) -> float:
    """Top-1 accuracy in [0, 1]."""
    return float((predict(model, images, batch_size, device) == labels).float().mean())


def _gaussian_window(size: int, sigma: float, channels: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, win_size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-image SSIM [B] (Wang et al. 2004) with a Gaussian window, averaged over channels and valid pixels.

    Matches ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1)`` (an 11x11 window) up to float error (K1 = 0.01, K2 = 0.03).
    """
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim needs two [B, C, H, W] tensors of one shape, got {tuple(x.shape)}, {tuple(y.shape)}")
    c = x.shape[1]
    w = _gaussian_window(win_size, sigma, c, x.device, x.dtype)
    mu_x, mu_y = F.conv2d(x, w, groups=c), F.conv2d(y, w, groups=c)
    sxx = F.conv2d(x * x, w, groups=c) - mu_x**2
    syy = F.conv2d(y * y, w, groups=c) - mu_y**2
    sxy = F.conv2d(x * y, w, groups=c) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.mean(dim=(1, 2, 3))


def cosine_lr(optimizer: torch.optim.Optimizer, epochs: int) -> torch.optim.lr_scheduler.LRScheduler:
    """Cosine decay of the learning rate to 0 over ``epochs`` (stepped once per epoch)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 0.5 * (1 + math.cos(math.pi * min(e, epochs) / epochs)))


def write_training_outputs(
    curve_path: str | Path, rows: list[dict[str, Any]], metrics_path: str | Path, metrics: dict[str, float],
) -> None:
    """Write the tidy curve CSV and the flat metrics JSON (both atomically)."""
    import pandas as pd

    from reproflow.io import write_json, write_table

    cols = ["phase", "dataset", "model", "epoch", "seed", "metric", "value"]
    write_table(curve_path, pd.DataFrame(rows, columns=cols))
    write_json(metrics_path, {k: float(v) for k, v in metrics.items()})


@dataclass(frozen=True, kw_only=True)
class TrainingJob:
    """The part of every pretraining CLI's config they share: the prepared splits, the model file with its
    metrics, curve and checkpoint, and the job's dataset, seed and device."""

    train: Path
    test: Path
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    seed: int
    device: str
    eval_batch_size: int


def start_training(cfg: TrainingJob) -> tuple[float, torch.device, Any, Any]:
    """(start time, device, train split, test split) of a training job, the global RNG seeded."""
    import time

    from reproflow.data.store import load_split
    from reproflow.device import resolve_device
    from reproflow.seeding import seed_everything

    started = time.time()
    device = resolve_device(cfg.device)
    train, test = load_split(cfg.train), load_split(cfg.test)
    seed_everything(cfg.seed)
    return started, device, train, test


def finish_training(cfg: Any, rows: list[dict[str, Any]], metrics: dict[str, float], device: Any, started: float) -> None:
    """What every training CLI does once its model file is saved: the curve CSV and metrics JSON, the run
    sidecar beside ``cfg.output``, and the checkpoint removed (kept until now, so a crash before here
    resumes). ``cfg`` has ``output``, ``curve``, ``metrics``, ``checkpoint`` and ``seed``."""
    from reproflow.checkpoint import Checkpointer
    from reproflow.device import describe_device
    from reproflow.runinfo import write_sidecar

    write_training_outputs(cfg.curve, rows, cfg.metrics, metrics)
    write_sidecar(cfg.output, cfg, cfg.seed, describe_device(device), started)
    Checkpointer(cfg.checkpoint, 1).remove()
