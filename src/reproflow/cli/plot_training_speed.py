"""Rule plot_training_speed: collect the per-depth speed tables and plot steps against eta and eta * L."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import save_figure, write_table

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Fig. 6 analogue: training speed against learning rate and depth."""

    style: Path  # the figure style (params.yaml figures.style), applied before drawing
    tables: tuple[Path, ...] = field(metadata={"help": "per-depth steps tables"})
    output: Path = field(metadata={"help": "combined steps table (CSV + .md)"})
    figure: Path = field(metadata={"help": "figure PNG"})
    scale: str = field(metadata={"help": "scale label for the title"})


def run(cfg: Config) -> None:
    from reproflow.plots.depth_sweep import speed_figure
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    df = pd.concat([pd.read_csv(p) for p in cfg.tables], ignore_index=True)
    df = df.sort_values(["rho", "depth", "seed", "lr"], ascending=[False, True, True, True])
    write_table(cfg.output, df, markdown=True)
    first = df.iloc[0]
    title = (f"Training speed ({cfg.scale}): {first['dataset']}; "
             f"{int(df['reached'].sum())}/{len(df)} runs reached the target")
    save_figure(speed_figure(df, title), cfg.figure)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
