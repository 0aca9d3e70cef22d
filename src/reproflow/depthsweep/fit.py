"""Which depth scale predicts the trainable depth: fit k in ``L_b = k * xi`` per candidate.

Huang et al. (ECAI 2020, Fig. 7) overlay Schoenholz et al.'s ``6 xi_c`` and their own ``12 xi_1``,
``12 xi_2`` on trainability heatmaps and claim ``12 x depth scale`` describes the trainable depth
better. Rather than take any multiplier on faith, for each candidate depth scale
``xi in {xi_c, xi_1, min(xi_1, xi_2)}`` (``xi_2 == xi_c``) we fit

    ln k = mean_j ( ln L_b(sw2_j) - ln xi(sw2_j) )        (least squares in log space)

over the uncensored sw2 columns j, with a percentile bootstrap interval over columns, the fit error
``mean_j |ln(L_b / (k xi))|``, and the same error for the paper's fixed multipliers (6 for xi_c, 12
for the others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reproflow.errors import UserError

# candidate name -> (column in the depth-scale table, the paper's fixed multiplier)
CANDIDATES: dict[str, tuple[str, float]] = {
    "xi_c": ("xi_c", 6.0),
    "xi_1": ("xi_1", 12.0),
    "min_xi1_xi2": ("xi_min", 12.0),
}

ACTIVATION = "tanh"
MATCH_TOL = 1e-9


def lookup_depth_scales(
    phase_diagram: pd.DataFrame, sw2: list[float] | np.ndarray, rho: float, sb2: float, source: str = "phase_diagram.csv"
) -> pd.DataFrame:
    """Depth scales of the tanh network at each ``sw2`` for the given ``rho``, ``sb2``.

    ``phase_diagram``: the meanfield table (columns activation, sw2, sb2, rho, xi_1, xi_c, ...);
    values are matched to within 1e-9. Returns columns ``sw2, xi_1, xi_c, xi_min`` with
    ``xi = |xi|`` (the table may carry the sign of ln chi) and ``xi_min = min(xi_1, xi_c)``.
    Raises :class:`UserError` naming the first (sw2, rho, sb2) point the table lacks.
    """
    need = {"activation", "sw2", "sb2", "rho", "xi_1", "xi_c"}
    missing_cols = need - set(phase_diagram.columns)
    if missing_cols:
        raise UserError(f"{source}: lacks columns {sorted(missing_cols)}; re-run the meanfield phase")
    t = phase_diagram[
        (phase_diagram["activation"] == ACTIVATION)
        & (np.abs(phase_diagram["rho"] - rho) <= MATCH_TOL)
        & (np.abs(phase_diagram["sb2"] - sb2) <= MATCH_TOL)
    ]
    rows = []
    for s in sw2:
        hit = t[np.abs(t["sw2"] - s) <= MATCH_TOL]
        if hit.empty:
            raise UserError(
                f"{source}: no {ACTIVATION} row for (sw2={s:g}, rho={rho:g}, sb2={sb2:g}); add this point to the "
                "meanfield phase's grid (meanfield section of params.yaml / the overlay) and re-run it"
            )
        r = hit.iloc[0]
        xi_1, xi_c = abs(float(r["xi_1"])), abs(float(r["xi_c"]))
        rows.append({"sw2": float(s), "xi_1": xi_1, "xi_c": xi_c, "xi_min": min(xi_1, xi_c)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class KFit:
    """k: fitted multiplier; k_low/k_high: bootstrap interval; error: mean |ln(L_b / (k xi))|; n: points."""

    k: float
    k_low: float
    k_high: float
    error: float
    n: int


def _usable(depth: np.ndarray, xi: np.ndarray) -> np.ndarray:
    return np.isfinite(depth) & np.isfinite(xi) & (depth > 0) & (xi > 0)


def fit_multiplier(depth: np.ndarray, xi: np.ndarray, n_boot: int, seed: int, level: float = 0.95) -> KFit:
    """Least-squares ``ln k`` of ``depth ≈ k * xi`` with a percentile bootstrap over points.

    depth, xi: [n] (non-finite or non-positive pairs are ignored). With fewer than 2 points the
    interval is NaN; with none, everything is NaN.
    """
    ok = _usable(np.asarray(depth, float), np.asarray(xi, float))
    r = np.log(np.asarray(depth, float)[ok]) - np.log(np.asarray(xi, float)[ok])
    n = int(r.size)
    if n == 0:
        return KFit(math.nan, math.nan, math.nan, math.nan, 0)
    lnk = float(r.mean())
    err = float(np.abs(r - lnk).mean())
    lo = hi = math.nan
    if n >= 2 and n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = r[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
        a = (1.0 - level) / 2.0
        lo, hi = (float(math.exp(v)) for v in np.quantile(boots, [a, 1.0 - a]))
    return KFit(math.exp(lnk), lo, hi, err, n)


def fixed_error(depth: np.ndarray, xi: np.ndarray, k: float) -> float:
    """``mean |ln(depth / (k xi))|`` over usable points (NaN when none)."""
    ok = _usable(np.asarray(depth, float), np.asarray(xi, float))
    if not ok.any():
        return math.nan
    return float(np.abs(np.log(np.asarray(depth, float)[ok] / (k * np.asarray(xi, float)[ok]))).mean())


def fit_panel(boundaries: pd.DataFrame, scales: pd.DataFrame, n_boot: int, seed: int) -> pd.DataFrame:
    """One row per candidate depth scale for a panel.

    boundaries: columns sw2, depth_boundary, censored (from :func:`~.boundary.extract_boundaries`);
    scales: columns sw2, xi_1, xi_c, xi_min (from :func:`lookup_depth_scales`). Columns returned:
    ``candidate, k, k_low, k_high, fit_error, paper_k, paper_error, n_points, n_censored``.
    """
    m = boundaries.merge(scales, on="sw2", how="left", validate="one_to_one")
    unc = m[m["censored"] == "none"]
    rows = []
    for name, (col, paper_k) in CANDIDATES.items():
        d, xi = unc["depth_boundary"].to_numpy(float), unc[col].to_numpy(float)
        f = fit_multiplier(d, xi, n_boot, seed)
        rows.append(
            {
                "candidate": name,
                "k": f.k,
                "k_low": f.k_low,
                "k_high": f.k_high,
                "fit_error": f.error,
                "paper_k": paper_k,
                "paper_error": fixed_error(d, xi, paper_k),
                "n_points": f.n,
                "n_censored": int((m["censored"] != "none").sum()),
            }
        )
    return pd.DataFrame(rows)
