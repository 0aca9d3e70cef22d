"""Rule fit_depth_formula: trainable-depth boundaries of every panel and the fitted multiplier k per
candidate depth scale (xi_c, xi_1, min(xi_1, xi_2)) by a censored fit with a bootstrap over seeds and
columns, the per-panel shape comparison, and the same for the authors' released Fig. 7 heatmaps
(reference panels ``authors_<letter>``); the project's answer to the paper's formula claim."""

from __future__ import annotations

import json
import logging
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
from reproflow.settings.sections import DepthSweepFit

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Extract L_b(sw2) per panel and fit L_b = k * xi for each candidate depth scale."""

    panels: tuple[Path, ...] = field(metadata={"help": "per-panel accuracy tables (collect_depth_sweep)"})
    curves: tuple[Path, ...] = field(metadata={"help": "per-panel learning-curve tables, same order as --panels"})
    k_steps: Path = field(metadata={"help": "output: fitted k and shape error against training steps (CSV)"})
    k_steps_table: Path = field(metadata={"help": "output: k, sigma and the shape at a few steps per panel (CSV + .md)"})
    design_check: Path = field(metadata={"help": "output: the authors' panels through each project panel's design (CSV + .md)"})
    platform_cells: tuple[Path, ...] | None = field(
        metadata={"help": "cells re-trained under another CPU kernel dispatch (retrain_depth_cell), or none"})
    platform_check: Path = field(metadata={"help": "output: each re-trained cell against the sweep's own (CSV + .md)"})
    reference_panels: tuple[Path, ...] = field(metadata={"help": "the authors' released Fig. 7 heatmaps"})
    phase_diagram: Path = field(metadata={"help": "meanfield phase_diagram.csv"})
    shape: Path = field(metadata={"help": "output: per-panel shape comparison (CSV + .md)"})
    boundaries: Path = field(metadata={"help": "output: boundary table (CSV)"})
    output: Path = field(metadata={"help": "output: fit table (CSV + .md)"})
    headline: Path = field(metadata={"help": "output: headline JSON"})
    fit: DepthSweepFit = field(metadata={"help": "depth_sweep's boundary and bootstrap keys (JSON)"})


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run(cfg: Config) -> None:
    from reproflow.depthsweep.boundary import extract_boundaries, heatmap
    from reproflow.depthsweep.fit import (
        bootstrap_panel,
        design_shift,
        k_against_steps,
        k_steps_table,
        lookup_depth_scales,
        settle_step,
        shape_over_steps,
    )
    from reproflow.depthsweep.reference import load_reference_panel

    started = time.time()
    if not cfg.phase_diagram.exists():
        raise UserError(f"{cfg.phase_diagram}: file not found; run the meanfield phase first")
    pdg = pd.read_csv(cfg.phase_diagram)
    if len(cfg.curves) != len(cfg.panels):
        raise UserError("--curves must name one learning-curve table per --panels table")
    all_b, all_f, all_s, all_k = [], [], [], []
    headline: dict[str, Any] = {
        "boundary_metric": cfg.fit.boundary_metric, "boundary_fraction": cfg.fit.boundary_fraction,
        "contour_fraction": cfg.fit.contour_fraction, "n_boot": cfg.fit.n_boot, "interval": 0.95, "panels": {},
    }
    sources = [(pd.read_csv(p), "project", cfg.fit.boundary_metric) for p in cfg.panels]
    project_fits: dict[str, tuple] = {}  # project panel -> (accuracy, scales, classes, threshold, shape difference)
    curves = {str(pd.read_csv(p, nrows=1)["panel"].iloc[0]): p for p in cfg.curves}
    # the released data hold final-step training accuracy only
    sources += [(load_reference_panel(p), "authors", "train_accuracy") for p in cfg.reference_panels]
    for acc, source, metric in sources:
        first = acc.iloc[0]
        panel = str(first["panel"])
        grid = heatmap(acc, metric)
        classes = int(first["classes"])
        b = extract_boundaries(grid, classes, cfg.fit.boundary_fraction, cfg.fit.contour_fraction)
        scales = lookup_depth_scales(pdg, list(grid.index), float(first["rho"]), float(first["sb2"]), str(cfg.phase_diagram))
        f, comp = bootstrap_panel(acc, scales, classes, cfg.fit.boundary_fraction, metric, cfg.fit.n_boot, cfg.fit.fit_seed)
        settle: dict[str, Any] = {}
        if source == "project" and panel in curves:
            ks = k_against_steps(pd.read_csv(curves[panel]), scales, classes, cfg.fit.boundary_fraction)
            all_k.append(ks.assign(panel=panel, rho=float(first["rho"])))
            if len(ks):
                w = shape_over_steps(ks)
                settle = {"settle_step": settle_step(w["step"].to_numpy(), w["shape_diff"].to_numpy()),
                          "last_step": int(w["step"].max())}
        if source == "project":
            project_fits[panel] = (acc, scales, classes, float(b["threshold"].iloc[0]), float(comp["shape_diff"]))
        meta = {"panel": panel, "source": source, "dataset": first["dataset"], "rho": float(first["rho"]),
                "init": first["init"], "optimizer": first["optimizer"]}
        all_b.append(pd.concat([pd.DataFrame([meta] * len(b)), b.merge(scales, on="sw2")], axis=1))
        all_f.append(pd.concat([pd.DataFrame([meta] * len(f)), f], axis=1))
        ks = {f"k_{r['candidate']}": r["k"] for r in f.to_dict("records")}
        sig = {f"sigma_{r['candidate']}": r["sigma"] for r in f.to_dict("records")}
        all_s.append({**meta, **comp, **ks, **sig, **settle, "n_seeds": int(f["n_seeds"].iloc[0]),
                      "n_points": int(f["n_points"].iloc[0]), "n_censored": int(f["n_censored"].iloc[0])})
        cands = {r["candidate"]: {k: _clean(r[k]) for k in ("k", "k_low", "k_high", "sigma", "sigma_low", "sigma_high",
                                                            "fit_error", "paper_k", "paper_error", "n_points")}
                 for r in f.to_dict("records")}
        fitted = f.dropna(subset=["sigma"])
        headline["panels"][panel] = {
            **{k: v for k, v in meta.items() if k != "panel"},
            "n_sw2": int(len(b)),
            "n_censored": int((b["censored"] != "none").sum()),
            "max_accuracy": _clean(float(b["max_accuracy"].iloc[0])),
            "candidates": cands,
            "shape_comparison": {k: _clean(v) for k, v in comp.items()},
            "best_shape_candidate": None if fitted.empty else str(fitted.loc[fitted["sigma"].idxmin(), "candidate"]),
            "best_paper_candidate": None if fitted.empty else str(fitted.loc[fitted["paper_error"].idxmin(), "candidate"]),
        }
    checks = _design_check(sources, all_s, pdg, cfg, design_shift, lookup_depth_scales)
    platform = _platform_check(project_fits, all_s, cfg, bootstrap_panel)
    write_table(cfg.platform_check, platform, markdown=True)
    write_table(cfg.boundaries, pd.concat(all_b, ignore_index=True))
    write_table(cfg.design_check, checks, markdown=True)
    write_table(cfg.output, pd.concat(all_f, ignore_index=True), markdown=True)
    write_table(cfg.shape, pd.DataFrame(all_s), markdown=True)
    k_all = (pd.concat(all_k, ignore_index=True) if all_k else
             pd.DataFrame(columns=["panel", "rho", "step", "candidate", "k", "sigma", "n_points", "n_censored"]))
    write_table(cfg.k_steps, k_all)
    write_table(cfg.k_steps_table, k_steps_table(k_all), markdown=True)
    write_json(cfg.headline, headline)
    write_sidecar(cfg.output, cfg, cfg.fit.fit_seed, "cpu", started)


def _design_check(sources: list, shapes: list[dict], pdg: pd.DataFrame, cfg: Config, design_shift: Any,
                  lookup_depth_scales: Any) -> pd.DataFrame:
    """Every authors' panel through every project panel's columns and depth grid: the shift of its shape
    difference from the full-data value (point estimates, no bootstrap). Each project shape row gets
    ``design_bias`` = the largest |shift| over the authors' panels of its own dropout class (rho < 1 or
    rho = 1), the bias its verdict must clear."""
    full = {r["panel"]: r["shape_diff"] for r in shapes}
    rows = []
    for pacc, source, _ in sources:
        if source != "project":
            continue
        panel = str(pacc["panel"].iloc[0])
        sw2_grid, depth_grid = sorted(pacc["sw2"].unique()), sorted(pacc["depth"].unique())
        for acc, src, metric in sources:
            if src != "authors":
                continue
            first = acc.iloc[0]
            ref = str(first["panel"])
            scales = lookup_depth_scales(pdg, sorted(acc["sw2"].unique()), float(first["rho"]), float(first["sb2"]),
                                         str(cfg.phase_diagram))
            try:
                d = design_shift(acc, scales, int(first["classes"]), cfg.fit.boundary_fraction, metric, sw2_grid, depth_grid,
                                 0, cfg.fit.fit_seed, float(full[ref]))
            except ValueError as e:
                log.info("design check of %s on %s skipped: %s", ref, panel, e)
                continue
            rows.append({"panel": panel, "reference": ref, "rho": float(first["rho"]), "full_shape_diff": full[ref], **d})
    checks = pd.DataFrame(rows, columns=["panel", "reference", "rho", "full_shape_diff", "design_shape_diff",
                                         "design_low", "design_high", "design_shift", "design_columns", "design_depths"])
    for r in shapes:
        if r["source"] != "project":
            continue
        same = checks[(checks["panel"] == r["panel"]) & ((checks["rho"] < 1) == (r["rho"] < 1))]
        shift = same["design_shift"].abs()
        r["design_bias"] = float(shift.max()) if shift.notna().any() else math.nan
        r["design_bias_reference"] = str(same.loc[shift.idxmax(), "reference"]) if shift.notna().any() else ""
    return checks


PLATFORM_COLUMNS = ["panel", "rho", "depth", "kernels", "networks", "identical", "max_abs_diff", "mean_abs_diff",
                    "status_flips", "seed_mean_abs_diff", "seed_split_columns", "columns", "shape_diff",
                    "platform_shape_diff", "platform_shift"]


def _platform_check(fitted: dict[str, tuple], shapes: list[dict], cfg: Config, bootstrap_panel: Any) -> pd.DataFrame:
    """Each re-trained cell against the sweep's own cell of its panel and depth
    (:func:`reproflow.depthsweep.platform.compare_cells`), and the shift of the panel's shape difference when
    it replaces that cell (point estimates). Each project shape row gets ``platform_shift`` (the largest
    |shift| over its panel's re-trained cells; nan when none was re-trained), ``platform_flips``,
    ``platform_networks``, ``platform_depths`` (re-trained), ``platform_of_depths`` (the panel's) and
    ``platform_kernels``. Another machine changes every cell, not one: the shift is a lower bound."""
    from reproflow.depthsweep.platform import compare_cells, substitute_cells
    from reproflow.runinfo import sidecar_path

    rows = []
    for path in cfg.platform_cells or ():
        var = pd.read_csv(path)
        panel, depth = str(var["panel"].iloc[0]), int(var["depth"].iloc[0])
        if panel not in fitted:
            raise UserError(f"{path}: panel {panel!r} is not a project panel of this run (depth_sweep.platform_check)")
        acc, scales, classes, threshold, full = fitted[panel]
        ref = acc[acc["depth"] == depth]
        if ref.empty:
            raise UserError(f"{path}: depth {depth} is not in panel {panel}'s depth_grid (depth_sweep.platform_check)")
        side = sidecar_path(path)
        plat = json.loads(side.read_text()).get("platform", {}) if side.exists() else {}
        forced = plat.get("forced", {})
        kernels = " ".join([plat.get("cpu_capability", "unknown"), *(f"MKL_CBWR={v}" for k, v in forced.items()
                                                                      if k == "MKL_CBWR")])
        cmp = compare_cells(ref, var, cfg.fit.boundary_metric, threshold)
        _, comp = bootstrap_panel(substitute_cells(acc, var), scales, classes, cfg.fit.boundary_fraction,
                                  cfg.fit.boundary_metric, 0, cfg.fit.fit_seed)
        moved = float(comp["shape_diff"])
        rows.append({"panel": panel, "rho": float(acc["rho"].iloc[0]), "depth": depth, "kernels": kernels, **cmp,
                     "shape_diff": full, "platform_shape_diff": moved,
                     "platform_shift": moved - full if math.isfinite(moved) and math.isfinite(full) else math.nan})
    table = pd.DataFrame(rows, columns=PLATFORM_COLUMNS)
    project_depths = {p: v[0]["depth"].nunique() for p, v in fitted.items()}
    for r in shapes:
        mine = table[table["panel"] == r["panel"]] if r["source"] == "project" else table.iloc[:0]
        shift = mine["platform_shift"].abs()
        r["platform_shift"] = float(shift.max()) if len(mine) else math.nan
        r["platform_flips"] = int(mine["status_flips"].sum()) if len(mine) else math.nan
        r["platform_networks"] = int(mine["networks"].sum()) if len(mine) else math.nan
        r["platform_depths"] = " ".join(str(d) for d in mine["depth"])
        r["platform_of_depths"] = int(project_depths[r["panel"]]) if r["panel"] in project_depths else math.nan
        r["platform_kernels"] = "; ".join(sorted(set(mine["kernels"])))
    return table


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
