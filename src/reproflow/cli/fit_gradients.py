"""Fit the per-layer decay rate of every gradient curve of every run, for exact backprop and its GIA
counterfactual, with intervals from a bootstrap over network draws; compare with ln chi_1, ln chi_c."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldGradientsRates, MeanfieldSeeding


@dataclass(frozen=True)
class Config:
    draws_tables: tuple[Path, ...]
    gia_draws_tables: tuple[Path, ...]
    output: Path
    gia_counterfactual: Path
    deep_layers: Path
    rates: MeanfieldGradientsRates
    seeding: MeanfieldSeeding


def run(cfg: Config) -> None:
    from reproflow.meanfield.rates import rate_tables
    from reproflow.meanfield.tables import read_tables, run_chis

    start = time.time()
    draws = read_tables(cfg.draws_tables + cfg.gia_draws_tables)
    rates, deep, gia = rate_tables(draws, run_chis(draws), cfg.rates, cfg.seeding.seed)
    write_table(cfg.output, rates, markdown=True)
    write_table(cfg.deep_layers, deep, markdown=True)
    write_table(cfg.gia_counterfactual, gia, markdown=True)
    for out in (cfg.output, cfg.gia_counterfactual, cfg.deep_layers):
        write_sidecar(out, cfg, cfg.seeding.seed, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
