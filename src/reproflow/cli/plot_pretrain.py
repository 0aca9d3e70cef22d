"""Rule plot_pretrain: the pretrain figures of one dataset, drawn from collect_pretrain's tables alone.

    python -m reproflow.cli.plot_pretrain --style workflow/resources/figures.mplstyle --curves .../curves.csv \
        --sweep .../manipulator_sweep.npz --dataset digits_rot --curves-figure .../training_curves.png \
        --grid-figure .../manipulator_grid.png
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Draw one dataset's training curves and manipulator grid (PNG + PDF)."""

    style: Path  # the figure style (params.yaml figures.style), applied before drawing
    curves: Path
    sweep: Path
    dataset: str
    curves_figure: Path
    grid_figure: Path


def run(cfg: Config) -> None:
    from reproflow.plots.pretrain import plot_manipulator_grid, plot_training_curves
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    if not cfg.curves.exists():
        raise UserError(f"{cfg.curves}: file not found; run collect_pretrain first")
    curves = pd.read_csv(cfg.curves)
    save_figure(plot_training_curves(curves, f"pretrain: {cfg.dataset} (mean +- sd over seeds; the editor: one run)"), cfg.curves_figure)
    try:
        with np.load(cfg.sweep) as z:
            sweep = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"{cfg.sweep}: cannot be read ({exc}); re-run collect_pretrain") from None
    oracle = sweep.get("oracle")
    title = f"{cfg.dataset}: input | learned manipulator sweep" + (" | oracle sweep" if oracle is not None else "")
    fig = plot_manipulator_grid(sweep["inputs"], sweep["learned"], oracle, [str(c) for c in sweep["column_labels"]],
                                [str(r) for r in sweep["row_labels"]], title)
    save_figure(fig, cfg.grid_figure)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
