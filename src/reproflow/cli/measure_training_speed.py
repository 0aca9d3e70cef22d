"""Rule measure_training_speed: steps to a target test accuracy for every learning rate
eta_i = 10^(-1 - i/10) at one depth, all learning rates trained as one stack (Fig. 6)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import DepthSweepSpeedJob


@dataclass(frozen=True)
class Config:
    """Measure training speed against the learning rate at one depth."""

    train: Path = field(metadata={"help": "training split (.pt)"})
    test: Path = field(metadata={"help": "test split (.pt)"})
    output: Path = field(metadata={"help": "steps table (CSV)"})
    speed: DepthSweepSpeedJob = field(metadata={"help": "depth_sweep.speed's keys every job reads (JSON)"})
    speed_rho: float = field(metadata={"help": "keep probability (the wildcard)"})
    depth: int = field(metadata={"help": "number of weight layers L (the wildcard)"})
    device: str = field(metadata={"help": "auto | cpu | cuda[:N]"})


def run(cfg: Config) -> None:
    from reproflow.depthsweep.speed import speed_table
    from reproflow.depthsweep.train import load_data
    from reproflow.device import describe_device, resolve_device
    from reproflow.seeding import seed_everything

    started = time.time()
    seed_everything(cfg.speed.seeds[0])
    device = resolve_device(cfg.device)
    data = load_data(cfg.train, cfg.test, cfg.speed.train_size, cfg.speed.test_size, device)
    df = speed_table(data, cfg.speed, cfg.speed_rho, cfg.depth, device)
    write_table(cfg.output, df)
    write_sidecar(cfg.output, cfg, cfg.speed.seeds[0], describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
