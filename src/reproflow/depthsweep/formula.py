"""The depth sweep's answer to the paper's formula claim (Huang et al. 2020, Fig. 7): trainable-depth boundaries of
every panel and the fitted multiplier k per candidate depth scale (xi_c, xi_1, min(xi_1, xi_2)) by a censored fit with
a bootstrap over seeds and columns, the per-panel shape comparison, the same for the authors' released Fig. 7 heatmaps
(reference panels ``authors_<letter>``), and the design and platform checks of each project panel. Library code: the
caller names the tables to read and writes what it returns."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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
from reproflow.errors import UserError
from reproflow.settings.sections import DepthSweepFit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormulaTables:
    """What :func:`fit_formula` returns: the boundary, fit, shape, k-against-steps, design- and platform-check
    tables and the headline numbers (JSON-able)."""

    boundaries: pd.DataFrame
    fit: pd.DataFrame
    shape: pd.DataFrame
    k_steps: pd.DataFrame
    k_steps_table: pd.DataFrame
    design_check: pd.DataFrame
    platform_check: pd.DataFrame
    headline: dict[str, Any]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def fit_formula(panels: Sequence[Path], curve_tables: Sequence[Path], reference_panels: Sequence[Path],
                phase_diagram: Path, platform_cells: Sequence[Path] | None, fit: DepthSweepFit) -> FormulaTables:
    """Boundaries and fitted multipliers of the project's panels (``panels``: collect_depth_sweep's accuracy tables,
    ``curve_tables`` their learning curves, same order) and of the authors' ``reference_panels``, with the depth
    scales of the mean-field ``phase_diagram``; ``platform_cells``: cells re-trained under another CPU's kernels
    (retrain_depth_cell), or None. ``fit``: the boundary metric and thresholds, the bootstrap and its seed."""
    if not phase_diagram.exists():
        raise UserError(f"{phase_diagram}: file not found; run the meanfield phase first")
    pdg = pd.read_csv(phase_diagram)
    all_b, all_f, all_s, all_k = [], [], [], []
    headline: dict[str, Any] = {
        "boundary_metric": fit.boundary_metric, "boundary_fraction": fit.boundary_fraction,
        "contour_fraction": fit.contour_fraction, "n_boot": fit.n_boot, "interval": fit.level, "panels": {},
    }
    sources = [(pd.read_csv(p), "project", fit.boundary_metric) for p in panels]
    project_fits: dict[str, tuple] = {}  # project panel -> (accuracy, scales, classes, threshold, shape difference)
    curves = {str(pd.read_csv(p, nrows=1)["panel"].iloc[0]): p for p in curve_tables}
    # the released data hold final-step training accuracy only
    sources += [(load_reference_panel(p), "authors", "train_accuracy") for p in reference_panels]
    for acc, source, metric in sources:
        first = acc.iloc[0]
        panel = str(first["panel"])
        grid = heatmap(acc, metric)
        classes = int(first["classes"])
        b = extract_boundaries(grid, classes, fit.boundary_fraction, fit.contour_fraction)
        scales = lookup_depth_scales(pdg, list(grid.index), float(first["rho"]), float(first["sb2"]), str(phase_diagram))
        f, comp = bootstrap_panel(acc, scales, classes, fit.boundary_fraction, metric, fit.n_boot, fit.fit_seed,
                                  fit.level)
        settle: dict[str, Any] = {}
        if source == "project" and panel in curves:
            ks = k_against_steps(pd.read_csv(curves[panel]), scales, classes, fit.boundary_fraction)
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
    checks = _design_check(sources, all_s, pdg, phase_diagram, fit)
    platform = _platform_check(project_fits, all_s, platform_cells, fit)
    k_all = (pd.concat(all_k, ignore_index=True) if all_k else
             pd.DataFrame(columns=["panel", "rho", "step", "candidate", "k", "sigma", "n_points", "n_censored"]))
    return FormulaTables(boundaries=pd.concat(all_b, ignore_index=True), fit=pd.concat(all_f, ignore_index=True),
                         shape=pd.DataFrame(all_s), k_steps=k_all, k_steps_table=k_steps_table(k_all),
                         design_check=checks, platform_check=platform, headline=headline)


def _design_check(sources: list, shapes: list[dict], pdg: pd.DataFrame, phase_diagram: Path, fit: DepthSweepFit
                  ) -> pd.DataFrame:
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
                                         str(phase_diagram))
            try:
                d = design_shift(acc, scales, int(first["classes"]), fit.boundary_fraction, metric, sw2_grid, depth_grid,
                                 0, fit.fit_seed, float(full[ref]), fit.level)
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


def _platform_check(fitted: dict[str, tuple], shapes: list[dict], platform_cells: Sequence[Path] | None,
                    fit: DepthSweepFit) -> pd.DataFrame:
    """Each re-trained cell against the sweep's own cell of its panel and depth
    (:func:`reproflow.depthsweep.platform.compare_cells`), and the shift of the panel's shape difference when
    it replaces that cell (point estimates). Each project shape row gets ``platform_shift`` (the largest
    |shift| over its panel's re-trained cells; nan when none was re-trained), ``platform_flips``,
    ``platform_networks``, ``platform_depths`` (re-trained), ``platform_of_depths`` (the panel's) and
    ``platform_kernels``. Another machine changes every cell, not one: the shift is a lower bound."""
    from reproflow.depthsweep.platform import compare_cells, substitute_cells
    from reproflow.runinfo import sidecar_path

    rows = []
    for path in platform_cells or ():
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
        cmp = compare_cells(ref, var, fit.boundary_metric, threshold)
        _, comp = bootstrap_panel(substitute_cells(acc, var), scales, classes, fit.boundary_fraction,
                                  fit.boundary_metric, 0, fit.fit_seed)
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
