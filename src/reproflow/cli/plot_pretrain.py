"""Rule plot_pretrain: per-dataset metrics table over seeds, training curves and the manipulator grid.

    python -m reproflow.cli.plot_pretrain --test .../test.pt --manipulator .../manipulator.pt --oracle .../oracle.pt \
        --curves ...csv --metrics ...json --dataset digits_rot --table .../metrics.csv ...
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.errors import UserError
from reproflow.io import dataframe_to_markdown, read_json, save_figure, write_table, write_text
from reproflow.models.manipulator import load_manipulator
from reproflow.runinfo import write_sidecar


@dataclass(frozen=True)
class Config:
    """Summarise one dataset's pretraining over seeds and draw its figures."""

    test: Path
    manipulator: Path
    oracle: Path | None
    curves: tuple[Path, ...]
    metrics: tuple[Path, ...]
    dataset: str
    table: Path
    curves_figure: Path
    grid_figure: Path
    grid_rows: int
    grid_steps: int


_METRICS_NAME = re.compile(r"seed~(\d+)/(\w+)_metrics\.json$")


def metrics_table(paths: tuple[Path, ...], dataset: str) -> pd.DataFrame:
    """Tidy ``phase, dataset, model, seed, metric, value`` rows from ``.../seed~S/<model>_metrics.json``."""
    rows = []
    for p in paths:
        m = _METRICS_NAME.search(Path(p).as_posix())
        if m is None:
            raise UserError(f"{p}: expected a path ending in seed~<seed>/<model>_metrics.json")
        for k, v in read_json(p).items():
            rows.append({"phase": "pretrain", "dataset": dataset, "model": m.group(2), "seed": int(m.group(1)), "metric": k, "value": float(v)})
    return pd.DataFrame(rows, columns=["phase", "dataset", "model", "seed", "metric", "value"])


def summary_markdown(df: pd.DataFrame) -> str:
    """Mean, sd and count over seeds per (model, metric), as Markdown."""
    g = df.groupby(["model", "metric"], sort=True)["value"]
    s = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "seeds": g.count()}).reset_index()
    return dataframe_to_markdown(s)


@torch.no_grad()
def attribute_sweeps(cfg: Config):
    """Inputs, learned and oracle sweeps over ``grid_steps`` evenly spaced attribute values."""
    test = load_split(cfg.test)
    # one test image per class first, so the grid shows different digits
    picks: list[int] = []
    for c in range(test.num_classes):
        idx = (test.labels == c).nonzero().flatten()
        if len(idx):
            picks.append(int(idx[0]))
    picks = picks[: cfg.grid_rows]
    x, a = test.images[picks], test.attributes[picks]
    targets = torch.linspace(0, 1, cfg.grid_steps)
    man = load_manipulator(cfg.manipulator)
    oracle = load_manipulator(cfg.oracle) if cfg.oracle is not None else None

    def sweep(m):
        return torch.stack([m.edit(x, a, torch.full_like(a, float(t))) for t in targets], dim=1)

    rng = test.meta.get("attribute_range")
    if rng is not None:
        cols = [f"{rng[0] + float(t) * (rng[1] - rng[0]):+.0f}°" for t in targets]
        rows = [f"y={int(test.labels[i])}, {float(test.angles[i]):+.0f}°" for i in picks]
    else:
        cols = [f"a={float(t):.2f}" for t in targets]
        rows = [f"y={int(test.labels[i])}, a={float(test.attributes[i]):.0f}" for i in picks]
    return x, sweep(man), (sweep(oracle) if oracle is not None else None), cols, rows


def run(cfg: Config) -> None:
    from reproflow.plots.pretrain import plot_manipulator_grid, plot_training_curves

    started = time.time()
    table = metrics_table(cfg.metrics, cfg.dataset)
    write_table(cfg.table, table)
    write_text(cfg.table.with_suffix(".md"), summary_markdown(table) + "\n")
    curves = pd.concat([pd.read_csv(p) for p in cfg.curves], ignore_index=True)
    save_figure(plot_training_curves(curves, f"pretrain: {cfg.dataset} (mean +- sd over seeds)"), cfg.curves_figure)
    x, learned, oracle, cols, rows = attribute_sweeps(cfg)
    title = f"{cfg.dataset}: input | learned manipulator sweep" + (" | oracle sweep" if oracle is not None else "")
    save_figure(plot_manipulator_grid(x, learned, oracle, cols, rows, title), cfg.grid_figure)
    write_sidecar(cfg.table, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
