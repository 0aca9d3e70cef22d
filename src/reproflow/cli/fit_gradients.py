"""Fit the per-layer decay rate of every gradient metric of every run; compare with ln chi_1, ln chi_c."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar


@dataclass(frozen=True)
class Config:
    layers_tables: tuple[Path, ...]
    output: Path
    fit_skip: int
    min_z: float


def run(cfg: Config) -> None:
    from reproflow.meanfield.tables import decay_rate_table, read_tables

    start = time.time()
    df = decay_rate_table(read_tables(cfg.layers_tables), cfg.fit_skip, cfg.min_z)
    write_table(cfg.output, df, markdown=True)
    write_sidecar(cfg.output, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
