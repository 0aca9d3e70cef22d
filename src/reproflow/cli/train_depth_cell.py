"""Rule train_depth_cell: train every (seed, sw2) network of one (panel, depth L) cell as one stack.

    python -m reproflow.cli.train_depth_cell --panel a_mnist_gauss --depth 10 --sw2-grid 1.0 1.1 ... \
        --train results/data/dataset~mnist/train.pt --test ... --output .../accuracy.csv ...
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.depthsweep.batched import INITS, OPTIMIZERS
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Train one (panel, depth) cell of the depth sweep (Huang et al. 2020, Fig. 7)."""

    train: Path = field(metadata={"help": "training split (.pt) of the data phase"})
    test: Path = field(metadata={"help": "test split (.pt)"})
    output: Path = field(metadata={"help": "tidy accuracy table (CSV)"})
    curves: Path = field(metadata={"help": "tidy learning-curve table (CSV)"})
    checkpoint: Path = field(metadata={"help": "checkpoint path (outside the outputs)"})
    panel: str = field(metadata={"help": "panel name"})
    dataset: str = field(metadata={"help": "dataset name (recorded in the table)"})
    depth: int = field(metadata={"help": "number of weight layers L"})
    sw2_grid: tuple[float, ...] = field(metadata={"help": "weight variances"})
    seeds: tuple[int, ...] = field(metadata={"help": "seeds (one network per seed and sw2)"})
    rho: float = field(metadata={"help": "dropout keep probability"})
    init: str = field(metadata={"help": "gaussian | orthogonal"})
    optimizer: str = field(metadata={"help": "sgd | rmsprop"})
    lr: float = field(metadata={"help": "learning rate"})
    batch: int = field(metadata={"help": "mini-batch size"})
    steps: int = field(metadata={"help": "training steps"})
    width: int = field(metadata={"help": "hidden width N"})
    sb2: float = field(metadata={"help": "bias variance"})
    train_size: int = field(metadata={"help": "training images used, 0 = all"})
    test_size: int = field(metadata={"help": "test images evaluated, 0 = all"})
    curve_every: int = field(metadata={"help": "learning-curve interval (steps)"})
    checkpoint_every: int = field(metadata={"help": "checkpoint interval (steps)"})
    max_stack: int = field(metadata={"help": "networks per stacked model, 0 = all of the cell"})
    device: str = field(metadata={"help": "auto | cpu | cuda[:N]"})

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"--init must be one of {INITS}, got {self.init!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"--optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")


def run(cfg: Config) -> None:
    import torch

    from reproflow.depthsweep.train import cell_specs, load_data, network_steps_per_second, train_chunked
    from reproflow.device import describe_device, resolve_device
    from reproflow.seeding import seed_everything

    started = time.time()
    seed_everything(cfg.seeds[0])
    # deterministic kernels wherever torch offers a choice; with one thread and the counter-based masks a
    # rerun on one machine then gives byte-identical tables (tests/unit/test_depth_sweep_cli.py). Across
    # machines the CPU's vector kernels (AVX2 / AVX512) and BLAS may round differently; the sidecar records them
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = resolve_device(cfg.device)
    data = load_data(cfg.train, cfg.test, cfg.train_size, cfg.test_size, device)
    specs = cell_specs(cfg.sw2_grid, cfg.seeds, cfg.depth, cfg.lr)
    log.info("panel %s, L=%d: %d networks on %s (%d train / %d test images)", cfg.panel, cfg.depth, len(specs),
             describe_device(device), data.x.shape[0], data.x_test.shape[0])
    t0 = time.time()
    rec = train_chunked(
        specs, data, width=cfg.width, depth=cfg.depth, sb2=cfg.sb2, rho=cfg.rho, init=cfg.init,
        optimizer=cfg.optimizer, steps=cfg.steps, batch=cfg.batch, curve_every=cfg.curve_every,
        max_stack=cfg.max_stack, device=device, checkpoint=cfg.checkpoint, checkpoint_every=cfg.checkpoint_every,
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
    log.info("trained in %.1fs: %.1f network-steps/s", time.time() - t0,
             network_steps_per_second(len(specs), cfg.steps, time.time() - t0))
    base = {"phase": "depth_sweep", "panel": cfg.panel, "dataset": cfg.dataset, "rho": cfg.rho, "sb2": cfg.sb2,
            "width": cfg.width, "init": cfg.init, "optimizer": cfg.optimizer, "classes": data.classes, "depth": cfg.depth}
    rows: list[dict[str, object]] = []
    curves: list[dict[str, object]] = []
    for i, spec in enumerate(specs):
        seed = cfg.seeds[i // len(cfg.sw2_grid)]
        key = {**base, "sw2": spec.sw2, "seed": seed}
        metrics = {
            "train_accuracy": rec.train_accuracy[i],
            "test_accuracy": rec.test_accuracy[i],
            "final_loss": rec.final_loss[i],
            "diverged": float(rec.diverged_step[i] > 0),
            "diverged_step": float(rec.diverged_step[i]) if rec.diverged_step[i] > 0 else float("nan"),
        }
        rows.extend({**key, "metric": m, "value": v} for m, v in metrics.items())
    for i, step, loss, acc in rec.curves:
        key = {**base, "sw2": specs[i].sw2, "seed": cfg.seeds[i // len(cfg.sw2_grid)], "step": step}
        curves.append({**key, "metric": "loss", "value": loss})
        curves.append({**key, "metric": "train_accuracy", "value": acc})
    write_table(cfg.curves, pd.DataFrame(curves))
    write_table(cfg.output, pd.DataFrame(rows))
    write_sidecar(cfg.output, cfg, cfg.seeds[0], describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
