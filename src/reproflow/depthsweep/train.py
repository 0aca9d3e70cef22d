"""Training loop for a :class:`~reproflow.depthsweep.batched.StackedMLP`, with checkpoints and resume.

Mini-batches are drawn without replacement per step from a generator seeded by
``derive_seed(data_seed, step)``, so the batch of any step is known without replaying the earlier
ones; together with the counter-based dropout masks this makes a resumed run identical to an
uninterrupted one. Networks whose loss becomes NaN/inf are recorded as diverged (with the step)
and dropped from the stack; with a ``target_accuracy`` the networks that reach it on the test set
are recorded and dropped too (Fig. 6, training speed).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from reproflow.checkpoint import Checkpointer
from reproflow.depthsweep.batched import NetSpec, StackedMLP
from reproflow.errors import UserError
from reproflow.logs import Progress
from reproflow.seeding import derive_seed
from reproflow.settings.sections import DepthSweepCell, DepthSweepPanelsItemCell

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Data:
    """Flattened train/test data on the training device: x float32 ``[n, D]`` in [0, 1], y int64 ``[n]``."""

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int

    @property
    def in_dim(self) -> int:
        return int(self.x.shape[1])


def load_data(train: str | Path, test: str | Path, train_size: int, test_size: int, device: torch.device) -> Data:
    """Read the data phase's splits, keep the first ``train_size`` / ``test_size`` samples (0 = all)
    and flatten the images to vectors."""
    from reproflow.data.store import load_split

    tr, te = load_split(train), load_split(test)
    if train_size > 0:
        tr = tr.subset(train_size)
    if test_size > 0:
        te = te.subset(test_size)
    if len(tr) == 0 or len(te) == 0:
        raise UserError(f"{train} / {test}: empty split; re-run the data phase")
    return Data(
        x=tr.images.flatten(1).to(device),
        y=tr.labels.to(device),
        x_test=te.images.flatten(1).to(device),
        y_test=te.labels.to(device),
        classes=tr.num_classes,
    )


def batch_indices(data_seed: int, step: int, n: int, batch: int) -> torch.Tensor:
    """The mini-batch of ``step``: ``min(batch, n)`` distinct indices in ``[0, n)`` (CPU int64)."""
    gen = torch.Generator().manual_seed(derive_seed(int(data_seed), int(step)))
    return torch.randperm(n, generator=gen)[: min(batch, n)]


@dataclass
class Records:
    """Per-network results (indexed like the original spec list) and learning curves."""

    n: int
    train_accuracy: list[float] = field(default_factory=list)
    final_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    diverged_step: list[int] = field(default_factory=list)
    target_step: list[int] = field(default_factory=list)
    curves: list[tuple[int, int, float, float]] = field(default_factory=list)  # (net, step, loss, acc)

    def __post_init__(self) -> None:
        if not self.train_accuracy:
            nan = float("nan")
            self.train_accuracy = [nan] * self.n
            self.final_loss = [nan] * self.n
            self.test_accuracy = [nan] * self.n
            self.diverged_step = [-1] * self.n
            self.target_step = [-1] * self.n

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def train_stack(
    model: StackedMLP,
    data: Data,
    steps: int,
    batch: int,
    curve_every: int,
    checkpointer: Checkpointer | None = None,
    eval_every: int = 0,
    target_accuracy: float | None = None,
    on_step: Callable[[int], None] | None = None,
    fine_eval_steps: int = 0,
) -> Records:
    """Train every network of ``model`` for ``steps`` SGD/RMSProp steps; return its :class:`Records`.

    - ``train_accuracy`` / ``final_loss``: last mini-batch, dropout active (as the authors stored it);
    - ``test_accuracy``: whole (given) test set, dropout off, after the last step (or when the
      network hit ``target_accuracy``); NaN for diverged networks;
    - ``diverged_step``: first step whose loss was not finite (-1 = never);
    - ``target_step``: with ``target_accuracy``, the first checked step at which the test accuracy
      reached it (-1 = never within ``steps``); checked at every step up to ``fine_eval_steps`` (where
      the fastest learning rates reach it) and at every multiple of ``eval_every`` after;
    - ``curves``: (network, step, batch loss, batch accuracy) every ``curve_every`` steps.

    A checkpoint (when given) is written every ``checkpointer.every`` steps and once more at the
    end with ``done=True``; re-running with the same checkpoint path resumes (or returns at once).
    ``on_step(step)`` is called after each completed step (progress, tests).
    """
    if target_accuracy is not None and eval_every < 1:
        raise ValueError("target_accuracy needs eval_every >= 1")
    rec = Records(n=len(model.specs))
    start = 0
    ckpt = checkpointer.load() if checkpointer is not None else None
    if ckpt is not None:
        model.load_state(ckpt["model"])
        rec = Records(**ckpt["records"])
        start = int(ckpt["step"])
        if ckpt.get("done"):
            return rec

    def snapshot(done: bool = False) -> Callable[[], dict[str, Any]]:
        return lambda: {"model": model.state(), "records": rec.as_dict(), "done": done}

    n = int(data.x.shape[0])
    prog = Progress(steps, f"{len(model)} networks, depth {model.depth}", unit="steps", initial=None)  # log lines every 30 s
    for step in range(start, steps):
        if len(model) == 0:
            break
        ids = model.ids.tolist()
        data_seeds = [model.specs[i].data_seed for i in ids]
        batches = {ds: batch_indices(ds, step, n, batch) for ds in dict.fromkeys(data_seeds)}
        if len(batches) == 1:  # one batch for all: broadcast instead of gathering S copies
            idx = next(iter(batches.values())).to(data.x.device)
            x, y = data.x[idx], data.y[idx]
            y_s = y.unsqueeze(0).expand(len(model), -1)
        else:
            idx = torch.stack([batches[ds] for ds in data_seeds]).to(data.x.device)
            x, y_s = data.x[idx], data.y[idx]
        logits = model.forward(x, step)
        loss = model.loss(logits, y_s)
        # Slices are independent: a NaN in network s only poisons network s's gradients.
        loss.sum().backward()
        model.update()
        with torch.no_grad():
            loss_c = loss.detach().cpu()
            acc_c = (logits.detach().argmax(-1) == y_s).float().mean(1).cpu()
        finite = torch.isfinite(loss_c)
        for j, i in enumerate(ids):
            rec.final_loss[i] = float(loss_c[j])
            rec.train_accuracy[i] = float(acc_c[j]) if finite[j] else float("nan")
            if not finite[j]:
                rec.diverged_step[i] = step + 1
                rec.test_accuracy[i] = float("nan")
        done = step + 1
        if done % curve_every == 0 or done == steps:
            rec.curves.extend((i, done, float(loss_c[j]), float(acc_c[j])) for j, i in enumerate(ids))
        if not bool(finite.all()):
            log.info("networks %s diverged at step %d; dropped", [ids[j] for j in (~finite).nonzero().flatten().tolist()], done)
            model.select(finite)
        checked = done % eval_every == 0 if eval_every >= 1 else False
        if target_accuracy is not None and (checked or done <= fine_eval_steps) and len(model) > 0:
            test_acc = model.accuracy(data.x_test, data.y_test)
            hit = test_acc >= target_accuracy
            for j, i in enumerate(model.ids.tolist()):
                if hit[j]:
                    rec.target_step[i] = done
                    rec.test_accuracy[i] = float(test_acc[j])
            if bool(hit.any()):
                model.select(~hit)
        if checkpointer is not None:
            checkpointer.maybe_save(done, snapshot())
        if on_step is not None:
            on_step(done)
        prog.set(done)
    prog.close()

    if len(model) > 0:
        test_acc = model.accuracy(data.x_test, data.y_test)
        for j, i in enumerate(model.ids.tolist()):
            rec.test_accuracy[i] = float(test_acc[j])
    if checkpointer is not None:
        checkpointer.maybe_save(steps, snapshot(done=True), force=True)
    return rec


def cell_specs(sw2_grid: list[float] | tuple[float, ...], seeds: list[int] | tuple[int, ...], depth: int, lr: float) -> list[NetSpec]:
    """The networks of one (panel, depth) cell: every (seed, sw2), seed-major.

    Init/mask seeds depend on (seed, sw2, depth) only and batch order on the seed only, so the same
    network appears identically in every panel that shares its settings.
    """
    return [
        NetSpec(
            sw2=float(sw2),
            seed=derive_seed("depth_sweep", int(seed), round(float(sw2), 10), int(depth)),
            data_seed=derive_seed("depth_sweep_data", int(seed)),
            lr=float(lr),
        )
        for seed in seeds
        for sw2 in sw2_grid
    ]


def train_chunked(
    specs: list[NetSpec],
    data: Data,
    *,
    width: int,
    depth: int,
    sb2: float,
    rho: float,
    init: str,
    optimizer: str,
    steps: int,
    batch: int,
    curve_every: int,
    max_stack: int,
    device: torch.device,
    checkpoint: str | Path | None,
    checkpoint_every: int,
    eval_every: int = 0,
    target_accuracy: float | None = None,
) -> Records:
    """Train ``specs`` in stacks of at most ``max_stack`` networks (0 = one stack) and merge the records.

    Chunk c checkpoints to ``<checkpoint>.chunk<c>``; finished chunks keep their final checkpoint
    until every chunk is done, so a killed job redoes only the unfinished part.
    """
    size = len(specs) if max_stack <= 0 else max_stack
    chunks = [list(range(i, min(i + size, len(specs)))) for i in range(0, len(specs), size)]
    merged = Records(n=len(specs))
    ckpts: list[Checkpointer] = []
    for c, members in enumerate(chunks):
        ck = Checkpointer(None if checkpoint is None else f"{checkpoint}.chunk{c}", checkpoint_every)
        ckpts.append(ck)
        model = StackedMLP(
            [specs[i] for i in members], data.in_dim, width, depth, data.classes, sb2, rho, init, optimizer, device
        )
        log.info("chunk %d/%d: %d networks, depth %d, width %d, %d steps", c + 1, len(chunks), len(members), depth, width, steps)
        rec = train_stack(model, data, steps, batch, curve_every, ck, eval_every, target_accuracy)
        for j, i in enumerate(members):
            merged.train_accuracy[i] = rec.train_accuracy[j]
            merged.final_loss[i] = rec.final_loss[j]
            merged.test_accuracy[i] = rec.test_accuracy[j]
            merged.diverged_step[i] = rec.diverged_step[j]
            merged.target_step[i] = rec.target_step[j]
        merged.curves.extend((members[j], s, l, a) for j, s, l, a in rec.curves)
    for ck in ckpts:
        ck.remove()
    return merged


def network_steps_per_second(n_networks: int, steps: int, seconds: float) -> float:
    """Throughput in network-steps per second (benchmarks, GPU-hour estimates)."""
    return n_networks * steps / seconds if seconds > 0 else math.inf


def train_cell(panel: DepthSweepPanelsItemCell, cell: DepthSweepCell, depth: int, data: Data, device: torch.device,
               checkpoint: Path) -> tuple[Any, Any]:
    """Train every (seed, sw2) network of one (panel, depth L) cell of the sweep as one stack (Huang et al. 2020,
    Fig. 7): ``panel``'s optimiser and grid, ``cell``'s width, bias variance, seeds and sizing. Returns the tidy
    (accuracy, curves) tables: train/test accuracy, final loss and divergence per network; loss and train accuracy
    every ``cell.curve_every`` steps."""
    import time

    import pandas as pd

    from reproflow.device import describe_device

    specs = cell_specs(panel.sw2_grid, cell.seeds, depth, panel.lr)
    log.info("panel %s, L=%d: %d networks on %s (%d train / %d test images)", panel.name, depth, len(specs),
             describe_device(device), data.x.shape[0], data.x_test.shape[0])
    t0 = time.time()
    rec = train_chunked(
        specs, data, width=cell.width, depth=depth, sb2=cell.sb2, rho=panel.rho, init=panel.init,
        optimizer=panel.optimizer, steps=panel.steps, batch=panel.batch, curve_every=cell.curve_every,
        max_stack=cell.max_stack, device=device, checkpoint=checkpoint, checkpoint_every=cell.checkpoint_every,
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
    log.info("trained in %.1fs: %.1f network-steps/s", time.time() - t0,
             network_steps_per_second(len(specs), panel.steps, time.time() - t0))
    base = {"phase": "depth_sweep", "panel": panel.name, "dataset": panel.dataset, "rho": panel.rho, "sb2": cell.sb2,
            "width": cell.width, "init": panel.init, "optimizer": panel.optimizer, "classes": data.classes,
            "depth": depth}
    rows: list[dict[str, object]] = []
    curves: list[dict[str, object]] = []
    n_sw2 = len(panel.sw2_grid)
    for i, spec in enumerate(specs):
        key = {**base, "sw2": spec.sw2, "seed": cell.seeds[i // n_sw2]}
        metrics = {
            "train_accuracy": rec.train_accuracy[i],
            "test_accuracy": rec.test_accuracy[i],
            "final_loss": rec.final_loss[i],
            "diverged": float(rec.diverged_step[i] > 0),
            "diverged_step": float(rec.diverged_step[i]) if rec.diverged_step[i] > 0 else float("nan"),
        }
        rows.extend({**key, "metric": m, "value": v} for m, v in metrics.items())
    for i, step, loss, acc in rec.curves:
        key = {**base, "sw2": specs[i].sw2, "seed": cell.seeds[i // n_sw2], "step": step}
        curves.append({**key, "metric": "loss", "value": loss})
        curves.append({**key, "metric": "train_accuracy", "value": acc})
    return pd.DataFrame(rows), pd.DataFrame(curves)
