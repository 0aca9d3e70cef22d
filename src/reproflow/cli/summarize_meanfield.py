"""headline.json: the mean-field numbers the report's summary of claims needs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_json
from reproflow.runinfo import write_sidecar

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    phase_diagram: Path
    critical_points: Path
    caption_checks: Path
    gradient_rates: Path
    universality: Path
    output: Path
    scale: str


def run(cfg: Config) -> None:
    from reproflow.meanfield.tables import headline

    start = time.time()
    write_json(cfg.output, headline(cfg.phase_diagram, cfg.critical_points, cfg.caption_checks,
                                    cfg.gradient_rates, cfg.universality, cfg.scale))
    write_sidecar(cfg.output, cfg, None, "cpu", start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
