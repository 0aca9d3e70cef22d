"""Forward Monte Carlo of finite-width dropout networks vs the iterated mean-field maps (Fig. 1)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldForward, MeanfieldSeeding


@dataclass(frozen=True)
class Config:
    output: Path
    forward: MeanfieldForward  # meanfield.forward: the Fig. 1 networks and the simulation's size
    seeding: MeanfieldSeeding
    device: str


def run(cfg: Config) -> None:
    from reproflow.device import describe_device, resolve_device
    from reproflow.meanfield.tables import forward_mc_table

    start = time.time()
    device = resolve_device(cfg.device)
    write_table(cfg.output, forward_mc_table(cfg.forward, cfg.seeding.seed, device))
    write_sidecar(cfg.output, cfg, cfg.seeding.seed, describe_device(device), start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
