"""Forward Monte Carlo of finite-width dropout networks vs the iterated mean-field maps (Fig. 1)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldForwardSettingsItem


@dataclass(frozen=True)
class Config:
    output: Path
    settings: tuple[MeanfieldForwardSettingsItem, ...]  # the Fig. 1 networks (meanfield.forward.settings)
    rho_grid: tuple[float, ...]
    input_q_grid: tuple[float, ...]
    input_c_grid: tuple[float, ...]
    width: int
    depth: int
    draws: int
    map_q_grid: tuple[float, ...]
    map_c_grid: tuple[float, ...]
    map_inputs: int
    seed: int
    device: str


def run(cfg: Config) -> None:
    from reproflow.device import describe_device, resolve_device
    from reproflow.meanfield.tables import forward_table
    from reproflow.settings import dump

    start = time.time()
    device = resolve_device(cfg.device)
    settings = [dump(x) for x in cfg.settings]
    df = forward_table(settings, cfg.rho_grid, cfg.input_q_grid, cfg.input_c_grid, cfg.width, cfg.depth,
                       cfg.draws, cfg.seed, device, cfg.map_q_grid, cfg.map_c_grid, cfg.map_inputs)
    write_table(cfg.output, df)
    write_sidecar(cfg.output, cfg, cfg.seed, describe_device(device), start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
