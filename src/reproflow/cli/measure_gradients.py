"""Gradient statistics g_aa, g_ab, tilde g_ab per layer by real backpropagation, for a group of runs (the
rule groups them by role and activation: one figure panel, one job start-up), and the GIA counterfactual of
the same draws (backward pass through independent weight copies). Each run draws from its own seed
(``derive_seed(seed, "gradients", name)``), so its numbers do not depend on the group it is in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldGradientsMeasure, MeanfieldGradientsRunsItem, MeanfieldSeeding


@dataclass(frozen=True)
class Config:
    draws_table: Path
    layers_table: Path
    gia_draws_table: Path
    runs: tuple[MeanfieldGradientsRunsItem, ...]  # the group's runs (meanfield.gradients.runs of one role, activation)
    measure: MeanfieldGradientsMeasure
    seeding: MeanfieldSeeding
    device: str


def run(cfg: Config) -> None:
    from reproflow.device import describe_device, resolve_device
    from reproflow.meanfield.tables import gradient_group_tables

    start = time.time()
    device = resolve_device(cfg.device)
    tables = gradient_group_tables(cfg.runs, cfg.measure, cfg.seeding.seed, device)
    for out, table in zip((cfg.draws_table, cfg.layers_table, cfg.gia_draws_table), tables, strict=True):
        write_table(out, table)
        write_sidecar(out, cfg, cfg.seeding.seed, describe_device(device), start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
