"""Rule fit_depth_formula: trainable-depth boundaries of every panel and the fitted multiplier k per
candidate depth scale (xi_c, xi_1, min(xi_1, xi_2)) by a censored fit with a bootstrap over seeds and
columns, the per-panel shape comparison, and the same for the authors' released Fig. 7 heatmaps
(reference panels ``authors_<letter>``); the project's answer to the paper's formula claim."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import write_json, write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import DepthSweepFit

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Extract L_b(sw2) per panel and fit L_b = k * xi for each candidate depth scale."""

    panels: tuple[Path, ...] = field(metadata={"help": "per-panel accuracy tables (collect_depth_sweep)"})
    curves: tuple[Path, ...] = field(metadata={"help": "per-panel learning-curve tables, same order as --panels"})
    k_steps: Path = field(metadata={"help": "output: fitted k and shape error against training steps (CSV)"})
    k_steps_table: Path = field(metadata={"help": "output: k, sigma and the shape at a few steps per panel (CSV + .md)"})
    design_check: Path = field(metadata={"help": "output: the authors' panels through each project panel's design (CSV + .md)"})
    platform_cells: tuple[Path, ...] | None = field(
        metadata={"help": "cells re-trained under another CPU kernel dispatch (retrain_depth_cell), or none"})
    platform_check: Path = field(metadata={"help": "output: each re-trained cell against the sweep's own (CSV + .md)"})
    reference_panels: tuple[Path, ...] = field(metadata={"help": "the authors' released Fig. 7 heatmaps"})
    phase_diagram: Path = field(metadata={"help": "meanfield phase_diagram.csv"})
    shape: Path = field(metadata={"help": "output: per-panel shape comparison (CSV + .md)"})
    boundaries: Path = field(metadata={"help": "output: boundary table (CSV)"})
    output: Path = field(metadata={"help": "output: fit table (CSV + .md)"})
    headline: Path = field(metadata={"help": "output: headline JSON"})
    fit: DepthSweepFit = field(metadata={"help": "depth_sweep's boundary and bootstrap keys (JSON)"})


def run(cfg: Config) -> None:
    from reproflow.depthsweep.formula import fit_formula

    started = time.time()
    if len(cfg.curves) != len(cfg.panels):
        raise UserError("--curves must name one learning-curve table per --panels table")
    t = fit_formula(cfg.panels, cfg.curves, cfg.reference_panels, cfg.phase_diagram, cfg.platform_cells, cfg.fit)
    write_table(cfg.platform_check, t.platform_check, markdown=True)
    write_table(cfg.boundaries, t.boundaries)
    write_table(cfg.design_check, t.design_check, markdown=True)
    write_table(cfg.output, t.fit, markdown=True)
    write_table(cfg.shape, t.shape, markdown=True)
    write_table(cfg.k_steps, t.k_steps)
    write_table(cfg.k_steps_table, t.k_steps_table, markdown=True)
    write_json(cfg.headline, t.headline)
    write_sidecar(cfg.output, cfg, cfg.fit.fit_seed, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
