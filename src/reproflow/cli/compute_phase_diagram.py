"""Phase diagram of dropout networks: q*, c*, chi's and depth scales over (activation, sw2, sb2, rho),
the order-to-chaos sw2 per (activation, sb2, rho), and the paper's Fig. 1 caption values recomputed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldCaptionsItem


@dataclass(frozen=True)
class Config:
    phase_diagram: Path
    critical_points: Path
    caption_checks: Path
    activations: tuple[str, ...]
    sw2_min: float
    sw2_max: float
    sw2_step: float
    sb2_grid: tuple[float, ...]
    rho_grid: tuple[float, ...]
    critical_sw2_bracket: tuple[float, ...]
    captions: tuple[MeanfieldCaptionsItem, ...]  # the paper's Fig. 1 caption values (meanfield.captions)


def run(cfg: Config) -> None:
    from reproflow.meanfield.tables import caption_table, critical_table, phase_diagram_table, sw2_grid

    start = time.time()
    grid = sw2_grid(cfg.sw2_min, cfg.sw2_max, cfg.sw2_step)
    pd_df = phase_diagram_table(cfg.activations, grid, cfg.sb2_grid, cfg.rho_grid)
    write_table(cfg.phase_diagram, pd_df)
    lo, hi = cfg.critical_sw2_bracket
    write_table(cfg.critical_points, critical_table(cfg.activations, cfg.sb2_grid, cfg.rho_grid, lo, hi), markdown=True)
    write_table(cfg.caption_checks, caption_table(cfg.captions), markdown=True)
    for out in (cfg.phase_diagram, cfg.critical_points, cfg.caption_checks):
        write_sidecar(out, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
