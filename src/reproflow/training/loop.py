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

from reproflow.checkpoint import Checkpointer, stop_requested
from reproflow.errors import UserError
from reproflow.seeding import derive_seed
from reproflow.settings.sections import PretrainEvaluation

log = logging.getLogger(__name__)

EpochHook = Callable[[int], None]


class ResumableTraining:
    """Checkpoint of every stateful object (modules, optimisers, schedulers), the curve rows and the global RNG,
    after every epoch and, on SIGTERM, at the next batch boundary.

    ``objects`` maps names to things with ``state_dict``/``load_state_dict``. ``start()`` restores the last
    saved state and returns the number of finished epochs (0 on a fresh start); ``end_epoch(epoch, rows)``
    appends rows and saves. Randomness inside an epoch must come from :func:`epoch_generator`, and the epoch's
    batches are iterated through :meth:`batches`, so a resumed run replays exactly the same draws: a
    checkpoint written mid-epoch (the SIGTERM handler of :mod:`reproflow.checkpoint` asked for it) holds the
    epoch's batch order, the batches done, the epoch generator's state and the loop's running sums.
    """

    def __init__(self, path: str | Path | None, objects: dict[str, Any], total_epochs: int) -> None:
        self.ckpt = Checkpointer(path, every=1)
        self.objects = objects
        self.total_epochs = total_epochs
        self.rows: list[dict[str, Any]] = []
        self._mid: dict[str, Any] | None = None

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
        _set_rng(state.get("rng"))
        self._mid = state.get("mid_epoch")
        return int(state["step"])

    def resumes_mid_epoch(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) continues from a mid-epoch checkpoint (work done before its first batch,
        such as a defence's per-epoch refresh, is then in the restored state and must not run again)."""
        return self._mid is not None and int(self._mid["epoch"]) == epoch

    def batches(
        self, epoch: int, batches: list[torch.Tensor], gen: torch.Generator, *sums: dict[str, float],
    ) -> _EpochBatches:
        """The batches of ``epoch`` (0-based) still to run. Before each one, a pending SIGTERM saves the state
        and exits (:class:`reproflow.checkpoint.Stopped`). ``sums`` are the loop's running totals, updated by
        the loop after each batch; on a mid-epoch resume they, ``gen`` and the batch order are restored."""
        done = 0
        if self.resumes_mid_epoch(epoch):
            assert self._mid is not None
            mid, self._mid = self._mid, None
            batches, done = list(mid["batches"]), int(mid["batch"])
            gen.set_state(mid["gen"])
            for acc, saved in zip(sums, mid["sums"], strict=True):
                acc.clear()
                acc.update(saved)
        return _EpochBatches(self, epoch, batches, done, gen, sums)

    def _save(self, epoch: int, mid: dict[str, Any] | None, force: bool = False) -> None:
        self.ckpt.maybe_save(
            epoch,
            lambda: {
                "total_epochs": self.total_epochs,
                "objects": {k: v.state_dict() for k, v in self.objects.items()},
                "rows": list(self.rows),
                "rng": _get_rng(),
                "mid_epoch": mid,
            },
            force=force,
        )

    def end_epoch(self, epoch: int, rows: list[dict[str, Any]]) -> None:
        """Record the rows of ``epoch`` (1-based count of finished epochs) and checkpoint."""
        self.rows.extend(rows)
        self._save(epoch, None)

    def finish(self) -> None:
        self.ckpt.remove()


class _EpochBatches:
    """One epoch's remaining batches (with a length, for progress lines); checks for SIGTERM between batches."""

    def __init__(self, state: ResumableTraining, epoch: int, batches: list[torch.Tensor], done: int,
                 gen: torch.Generator, sums: tuple[dict[str, float], ...]) -> None:
        self.state, self.epoch, self.all, self.done, self.gen, self.sums = state, epoch, batches, done, gen, sums

    def __len__(self) -> int:
        return len(self.all) - self.done

    def __iter__(self) -> Iterator[torch.Tensor]:
        for i in range(self.done, len(self.all)):
            if stop_requested():
                mid = {"epoch": self.epoch, "batch": i, "batches": self.all, "gen": self.gen.get_state(),
                       "sums": [dict(s) for s in self.sums]}
                self.state._save(self.epoch, mid, force=True)  # raises Stopped once saved
            yield self.all[i]


def _get_rng() -> dict[str, Any]:
    rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def _set_rng(rng: dict[str, Any] | None) -> None:
    if rng is None:
        return
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


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
    metrics, curve and checkpoint, the job's dataset, seed and device, and its held-out evaluation's settings."""

    train: Path
    test: Path
    output: Path
    metrics: Path
    curve: Path
    checkpoint: Path
    dataset: str
    seed: int
    device: str
    evaluation: PretrainEvaluation  # pretrain (its evaluation group: eval_batch_size)


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
