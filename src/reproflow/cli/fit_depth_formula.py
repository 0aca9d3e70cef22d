"""Rule fit_depth_formula: trainable-depth boundaries of every panel and the fitted multiplier k per
candidate depth scale (xi_c, xi_1, min(xi_1, xi_2)); the project's answer to the paper's formula claim."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import write_json, write_table
from reproflow.runinfo import write_sidecar

METRICS = ("train_accuracy", "test_accuracy")


@dataclass(frozen=True)
class Config:
    """Extract L_b(sw2) per panel and fit L_b = k * xi for each candidate depth scale."""

    panels: tuple[Path, ...] = field(metadata={"help": "per-panel accuracy tables (collect_depth_sweep)"})
    phase_diagram: Path = field(metadata={"help": "meanfield phase_diagram.csv"})
    boundaries: Path = field(metadata={"help": "output: boundary table (CSV)"})
    output: Path = field(metadata={"help": "output: fit table (CSV + .md)"})
    headline: Path = field(metadata={"help": "output: headline JSON"})
    boundary_metric: str = field(metadata={"help": "train_accuracy | test_accuracy"})
    boundary_fraction: float = field(metadata={"help": "threshold = chance + fraction * (max - chance)"})
    contour_fraction: float = field(metadata={"help": "second contour at fraction * max"})
    n_boot: int = field(metadata={"help": "bootstrap resamples over sw2 columns"})
    seed: int = field(metadata={"help": "bootstrap seed"})

    def __post_init__(self) -> None:
        if self.boundary_metric not in METRICS:
            raise ValueError(f"--boundary-metric must be one of {METRICS}")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run(cfg: Config) -> None:
    from reproflow.depthsweep.boundary import extract_boundaries, heatmap
    from reproflow.depthsweep.fit import fit_panel, lookup_depth_scales

    started = time.time()
    if not cfg.phase_diagram.exists():
        raise UserError(f"{cfg.phase_diagram}: file not found; run the meanfield phase first")
    pdg = pd.read_csv(cfg.phase_diagram)
    all_b, all_f = [], []
    headline: dict[str, Any] = {
        "boundary_metric": cfg.boundary_metric, "boundary_fraction": cfg.boundary_fraction,
        "contour_fraction": cfg.contour_fraction, "n_boot": cfg.n_boot, "interval": 0.95, "panels": {},
    }
    for path in cfg.panels:
        acc = pd.read_csv(path)
        first = acc.iloc[0]
        panel = str(first["panel"])
        grid = heatmap(acc, cfg.boundary_metric)
        b = extract_boundaries(grid, int(first["classes"]), cfg.boundary_fraction, cfg.contour_fraction)
        scales = lookup_depth_scales(pdg, list(grid.index), float(first["rho"]), float(first["sb2"]), str(cfg.phase_diagram))
        f = fit_panel(b, scales, cfg.n_boot, cfg.seed)
        meta = {"panel": panel, "dataset": first["dataset"], "rho": float(first["rho"]), "init": first["init"],
                "optimizer": first["optimizer"]}
        all_b.append(pd.concat([pd.DataFrame([meta] * len(b)), b.merge(scales, on="sw2")], axis=1))
        all_f.append(pd.concat([pd.DataFrame([meta] * len(f)), f], axis=1))
        cands = {r["candidate"]: {k: _clean(r[k]) for k in ("k", "k_low", "k_high", "fit_error", "paper_k", "paper_error", "n_points")}
                 for r in f.to_dict("records")}
        fitted = f.dropna(subset=["fit_error"])
        headline["panels"][panel] = {
            **{k: v for k, v in meta.items() if k != "panel"},
            "n_sw2": int(len(b)),
            "n_censored": int((b["censored"] != "none").sum()),
            "max_accuracy": _clean(float(b["max_accuracy"].iloc[0])),
            "candidates": cands,
            "best_fit_candidate": None if fitted.empty else str(fitted.loc[fitted["fit_error"].idxmin(), "candidate"]),
            "best_paper_candidate": None if fitted.empty else str(fitted.loc[fitted["paper_error"].idxmin(), "candidate"]),
        }
    write_table(cfg.boundaries, pd.concat(all_b, ignore_index=True))
    write_table(cfg.output, pd.concat(all_f, ignore_index=True), markdown=True)
    write_json(cfg.headline, headline)
    write_sidecar(cfg.output, cfg, cfg.seed, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
