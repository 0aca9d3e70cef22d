"""Rule collect_depth_sweep: merge the (panel, depth) cells of one panel into its tidy tables."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import dataframe_to_markdown, write_table, write_text
from reproflow.runinfo import write_sidecar

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Concatenate per-depth accuracy and curve tables of a panel; check the grid is complete."""

    cells: tuple[Path, ...] = field(metadata={"help": "per-depth accuracy tables"})
    cell_curves: tuple[Path, ...] = field(metadata={"help": "per-depth curve tables"})
    output: Path = field(metadata={"help": "panel accuracy table (CSV; a wide .md twin of train accuracy)"})
    curves: Path = field(metadata={"help": "panel curve table (CSV)"})


def _read(paths: tuple[Path, ...]) -> pd.DataFrame:
    frames = []
    for p in paths:
        if not Path(p).exists():
            raise UserError(f"{p}: file not found; run train_depth_cell for it first")
        frames.append(pd.read_csv(p))
    return pd.concat(frames, ignore_index=True)


def run(cfg: Config) -> None:
    started = time.time()
    acc = _read(cfg.cells)
    grid = acc[acc["metric"] == "train_accuracy"].groupby(["sw2", "depth"])["seed"].nunique().unstack("depth")
    if grid.isna().any().any() or len(set(grid.to_numpy().ravel().tolist())) != 1:
        raise UserError(f"{cfg.output}: the cells do not cover the same sw2 x depth x seed grid; re-run the panel")
    curves = _read(cfg.cell_curves)
    write_table(cfg.curves, curves)
    write_table(cfg.output, acc.sort_values(["depth", "seed", "sw2", "metric"]).reset_index(drop=True))
    wide = acc[acc["metric"] == "train_accuracy"].groupby(["depth", "sw2"])["value"].mean().unstack("sw2")
    wide.columns = [f"sw2={c:g}" for c in wide.columns]
    write_text(cfg.output.with_suffix(".md"), "Final training accuracy (seed mean; rows depth L)\n\n"
               + dataframe_to_markdown(wide.reset_index()) + "\n")
    write_sidecar(cfg.output, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
