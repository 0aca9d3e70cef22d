"""Rule collect_pretrain: the tables the pretrain figures are drawn from, so that plotting reads no model.

Per dataset: the metrics over seeds (tidy ``metrics.csv`` + a Markdown summary), every training curve in one
tidy ``curves.csv``, and ``manipulator_sweep.npz``, the image grid's data (test images swept through the
attribute range by the learned manipulator, and by the oracle where the dataset has one).

    python -m reproflow.cli.collect_pretrain --test .../test.pt --manipulator .../manipulator.pt --oracle .../oracle.pt \
        --curves-in ...csv --metrics-in ...json --dataset digits_rot --table .../metrics.csv --curves .../curves.csv \
        --sweep .../manipulator_sweep.npz --grid '{"grid_rows": 6, "grid_steps": 7}'
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.errors import UserError
from reproflow.io import atomic_path, dataframe_to_markdown, read_json, write_table, write_text
from reproflow.models.manipulator import load_manipulator
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import PretrainGrid


@dataclass(frozen=True)
class Config:
    """Collect one dataset's pretraining tables over seeds and its manipulator sweep."""

    test: Path
    manipulator: Path
    oracle: Path | None
    curves_in: tuple[Path, ...]
    metrics_in: tuple[Path, ...]
    dataset: str
    table: Path
    curves: Path
    sweep: Path
    grid: PretrainGrid  # pretrain (its grid group): grid_rows test images, grid_steps attribute values


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
    """Inputs, learned and oracle sweeps over ``pretrain.grid_steps`` evenly spaced attribute values."""
    test = load_split(cfg.test)
    # one test image per class first, so the grid shows different digits
    picks: list[int] = []
    for c in range(test.num_classes):
        idx = (test.labels == c).nonzero().flatten()
        if len(idx):
            picks.append(int(idx[0]))
    picks = picks[: cfg.grid.grid_rows]
    x, a = test.images[picks], test.attributes[picks]
    targets = torch.linspace(0, 1, cfg.grid.grid_steps)
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


def save_sweeps(path: Path, x: torch.Tensor, learned: torch.Tensor, oracle: torch.Tensor | None, cols: list[str],
                rows: list[str]) -> None:
    """The manipulator grid's data table: ``inputs`` [N, C, H, W], ``learned`` (and ``oracle`` when there is one)
    [N, S, C, H, W] float32 in [0, 1], ``column_labels`` [S] and ``row_labels`` [N] strings (npz, atomic)."""
    arrays: dict[str, Any] = {"inputs": x.numpy(), "learned": learned.numpy(), "column_labels": np.array(cols),
              "row_labels": np.array(rows)}
    if oracle is not None:
        arrays["oracle"] = oracle.numpy()
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)



def run(cfg: Config) -> None:
    started = time.time()
    table = metrics_table(cfg.metrics_in, cfg.dataset)
    write_table(cfg.table, table)
    write_text(cfg.table.with_suffix(".md"), summary_markdown(table) + "\n")
    write_table(cfg.curves, pd.concat([pd.read_csv(p) for p in cfg.curves_in], ignore_index=True))
    save_sweeps(cfg.sweep, *attribute_sweeps(cfg))
    write_sidecar(cfg.table, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
