"""Universality of gradient fluctuations: log V against log m per run and metric, fitted slopes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    draws_tables: tuple[Path, ...]
    slopes: Path
    points: Path
    record_every: int
    min_z: float
    n_boot: int
    level: float
    cv2_band: float
    seed: int


def run(cfg: Config) -> None:
    from reproflow.meanfield import rates as RT
    from reproflow.meanfield.tables import read_tables

    start = time.time()
    slopes, points = RT.universality(read_tables(cfg.draws_tables), cfg.record_every, cfg.min_z,
                                     RT.BootSettings(cfg.n_boot, cfg.level, cfg.seed), cfg.cv2_band)
    write_table(cfg.slopes, slopes, markdown=True)
    write_table(cfg.points, points)
    for out in (cfg.slopes, cfg.points):
        write_sidecar(out, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
