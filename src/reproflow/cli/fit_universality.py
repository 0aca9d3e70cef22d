"""Universality of gradient fluctuations: log V against log m per run and metric, fitted slopes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldGradientsUniversality, MeanfieldSeeding

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    draws_tables: tuple[Path, ...]
    slopes: Path
    points: Path
    universality: MeanfieldGradientsUniversality
    seeding: MeanfieldSeeding


def run(cfg: Config) -> None:
    from reproflow.meanfield.rates import universality_tables
    from reproflow.meanfield.tables import read_tables

    start = time.time()
    slopes, points = universality_tables(read_tables(cfg.draws_tables), cfg.universality, cfg.seeding.seed)
    write_table(cfg.slopes, slopes, markdown=True)
    write_table(cfg.points, points)
    for out in (cfg.slopes, cfg.points):
        write_sidecar(out, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
