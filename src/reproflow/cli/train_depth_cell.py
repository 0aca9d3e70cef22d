"""Rule train_depth_cell: train every (seed, sw2) network of one (panel, depth L) cell as one stack.

    python -m reproflow.cli.train_depth_cell --panel '{"name": "a_mnist_gauss", ...}' --depth 10 \
        --cell '{"width": 1000, ...}' --train results/data/dataset~mnist/train.pt --test ... --output .../accuracy.csv
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import DepthSweepCell, DepthSweepPanelsItemCell

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Train one (panel, depth) cell of the depth sweep (Huang et al. 2020, Fig. 7)."""

    train: Path = field(metadata={"help": "training split (.pt) of the data phase"})
    test: Path = field(metadata={"help": "test split (.pt)"})
    output: Path = field(metadata={"help": "tidy accuracy table (CSV)"})
    curves: Path = field(metadata={"help": "tidy learning-curve table (CSV)"})
    checkpoint: Path = field(metadata={"help": "checkpoint path (outside the outputs)"})
    panel: DepthSweepPanelsItemCell = field(metadata={"help": "the wildcard's depth_sweep.panels item (JSON)"})
    depth: int = field(metadata={"help": "number of weight layers L (the wildcard)"})
    cell: DepthSweepCell = field(metadata={"help": "depth_sweep's keys every cell reads (JSON)"})
    device: str = field(metadata={"help": "auto | cpu | cuda[:N]"})


def run(cfg: Config) -> None:
    import torch

    from reproflow.depthsweep.train import load_data, train_cell
    from reproflow.device import describe_device, resolve_device
    from reproflow.seeding import seed_everything

    started = time.time()
    seed_everything(cfg.cell.seeds[0])
    # deterministic kernels wherever torch offers a choice; with one thread and the counter-based masks a
    # rerun on one machine then gives byte-identical tables (tests/unit/test_depth_sweep_cli.py). Across
    # machines the CPU's vector kernels (AVX2 / AVX512) and BLAS may round differently; the sidecar records them
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = resolve_device(cfg.device)
    data = load_data(cfg.train, cfg.test, cfg.cell.train_size, cfg.cell.test_size, device)
    accuracy, curves = train_cell(cfg.panel, cfg.cell, cfg.depth, data, device, cfg.checkpoint)
    write_table(cfg.curves, curves)
    write_table(cfg.output, accuracy)
    write_sidecar(cfg.output, cfg, cfg.cell.seeds[0], describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
