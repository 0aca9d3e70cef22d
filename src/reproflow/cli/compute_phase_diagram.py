"""Phase diagram of dropout networks: q*, c*, chi's and depth scales over (activation, sw2, sb2, rho),
the order-to-chaos sw2 per (activation, sb2, rho), and the paper's Fig. 1 caption values recomputed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldTheory


@dataclass(frozen=True)
class Config:
    phase_diagram: Path
    critical_points: Path
    caption_checks: Path
    theory: MeanfieldTheory  # meanfield's theory keys: the grids, the critical-point bracket, Fig. 1's captions


def run(cfg: Config) -> None:
    from reproflow.meanfield.tables import theory_tables

    start = time.time()
    phase_diagram, critical, captions = theory_tables(cfg.theory)
    write_table(cfg.phase_diagram, phase_diagram)
    write_table(cfg.critical_points, critical, markdown=True)
    write_table(cfg.caption_checks, captions, markdown=True)
    for out in (cfg.phase_diagram, cfg.critical_points, cfg.caption_checks):
        write_sidecar(out, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
