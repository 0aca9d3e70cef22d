"""Rule plot_attack_accuracy: accuracy against eps, one line per attack, per dataset (error bars over seeds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.cli._base import FigureJob, exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True, kw_only=True)
class Config(FigureJob):
    """Plot the tidy attack table as accuracy-vs-eps curves."""

    metrics: Path
    scale: str


def run(cfg: Config) -> None:
    from reproflow.plots.attack import accuracy_vs_eps
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    if not cfg.metrics.exists():
        raise UserError(f"{cfg.metrics}: file not found; run collect_attack first")
    fig = accuracy_vs_eps(pd.read_csv(cfg.metrics), title=f"Accuracy under attack ({cfg.scale} scale)")
    save_figure(fig, cfg.output)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
