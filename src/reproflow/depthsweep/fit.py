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


# ---- censored fit, shape comparison and the bootstrap over seeds and columns ---------------------

_SIGMA_FLOOR = 1e-3


def censored_fit(depth: np.ndarray, lower: np.ndarray, upper: np.ndarray, censored: np.ndarray,
                 xi: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood (ln k, sigma) of ln L_b = ln k + ln xi + eps, eps ~ N(0, sigma^2), keeping
    censored columns (a Tobit model in log space).

    Per column: ``censored == "none"``: the density of ln(depth / xi); ``"above"`` (every grid L
    trainable): P(ln L_b > ln(lower / xi)); ``"below"`` (none trainable): P(ln L_b < ln(upper / xi)).
    Columns with non-finite or non-positive xi, or no usable bound, are ignored. Needs two
    uncensored columns (NaN otherwise). sigma is the scatter of the measured boundary about the
    candidate's curve at its fitted k: the candidate's SHAPE error (independent of the training
    budget, which moves k, not the shape).
    """
    from scipy import optimize, special

    depth, lower, upper, xi = (np.asarray(v, float) for v in (depth, lower, upper, xi))
    censored = np.asarray(censored, dtype=object)
    okx = np.isfinite(xi) & (xi > 0)
    unc = okx & (censored == "none") & np.isfinite(depth) & (depth > 0)
    above = okx & (censored == "above") & np.isfinite(lower) & (lower > 0)
    below = okx & (censored == "below") & np.isfinite(upper) & (upper > 0)
    y = np.log(depth[unc] / xi[unc])
    ca = np.log(lower[above] / xi[above])
    cb = np.log(upper[below] / xi[below])
    if y.size < 2:
        return math.nan, math.nan
    mu0, s0 = float(y.mean()), max(float(y.std()), _SIGMA_FLOOR)
    if ca.size == 0 and cb.size == 0:
        return mu0, s0

    def nll(p: np.ndarray) -> float:
        mu, ls = p
        s = math.exp(ls) + _SIGMA_FLOOR
        v = 0.5 * np.sum(((y - mu) / s) ** 2) + y.size * math.log(s)
        v -= np.sum(special.log_ndtr(-(ca - mu) / s)) + np.sum(special.log_ndtr((cb - mu) / s))
        return float(v)

    res = optimize.minimize(nll, np.array([mu0, math.log(s0)]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
    return float(res.x[0]), float(math.exp(res.x[1]) + _SIGMA_FLOOR)


def seed_grid(acc: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values (seeds, sw2, depths), sw2 grid, depth grid) of one panel's tidy accuracy table."""
    sub = acc[acc["metric"] == metric]
    if sub.empty:
        raise ValueError(f"no rows with metric {metric!r}")
    sw2 = np.sort(sub["sw2"].unique())
    depths = np.sort(sub["depth"].unique())
    seeds = np.sort(sub["seed"].unique())
    arr = np.full((seeds.size, sw2.size, depths.size), np.nan)
    si = {v: i for i, v in enumerate(seeds)}
    wi = {v: i for i, v in enumerate(sw2)}
    di = {v: i for i, v in enumerate(depths)}
    for s, w, d, v in zip(sub["seed"], sub["sw2"], sub["depth"], sub["value"]):
        arr[si[s], wi[w], di[d]] = v
    return arr, sw2.astype(float), depths.astype(float)


def _boundaries(grid: np.ndarray, depths: np.ndarray, classes: int, fraction: float) -> tuple[np.ndarray, ...]:
    """(depth, lower, upper, censored) per sw2 row of a (sw2, depths) seed-averaged grid."""
    from reproflow.depthsweep.boundary import trainable_depth

    top = np.nanmax(grid) if np.isfinite(grid).any() else math.nan
    thr = 1.0 / classes + fraction * (top - 1.0 / classes)
    out = [trainable_depth(depths, row, thr) for row in grid]
    return (np.array([b.depth for b in out]), np.array([b.lower for b in out]), np.array([b.upper for b in out]),
            np.array([b.censored for b in out], dtype=object))


def _seed_mean(arr: np.ndarray) -> np.ndarray:
    """Mean over seeds per cell, skipping diverged (NaN) networks; NaN where every seed diverged."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(arr, axis=0)


SHAPE_PAIR = ("min_xi1_xi2", "xi_c")  # the paper's 12 x depth scale against Schoenholz et al.'s 6 xi_c


def bootstrap_panel(acc: pd.DataFrame, scales: pd.DataFrame, classes: int, fraction: float, metric: str,
                    n_boot: int, seed: int, level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Censored fit of every candidate on one panel, with a bootstrap over seeds and sw2 columns.

    Each resample draws the panel's seeds with replacement (their accuracies averaged per cell),
    re-extracts the interpolated boundaries, draws the sw2 columns with replacement and refits, so
    the intervals carry seed noise, the boundary's grid interpolation and the column scatter
    (not the correlation of neighbouring columns). Returns (one row per candidate: ``candidate, k,
    k_low, k_high, sigma, sigma_low, sigma_high, fit_error, paper_k, paper_error, n_points,
    n_censored, n_seeds``; the shape comparison of :data:`SHAPE_PAIR`: ``shape_diff`` = sigma of
    min(xi_1, xi_2) minus sigma of xi_c (negative: the paper's depth scale has the better shape),
    its interval, the level and the number of usable resamples).
    """
    arr, sw2, depths = seed_grid(acc, metric)
    sc = scales.set_index("sw2").reindex(sw2)
    xis = {name: sc[col].to_numpy(float) for name, (col, _) in CANDIDATES.items()}
    rng = np.random.default_rng(seed)

    def fit_all(grid: np.ndarray, cols: np.ndarray) -> dict[str, tuple[float, float]]:
        d, lo, hi, cen = _boundaries(grid, depths, classes, fraction)
        return {n: censored_fit(d[cols], lo[cols], hi[cols], cen[cols], x[cols]) for n, x in xis.items()}

    all_cols = np.arange(sw2.size)
    grid0 = _seed_mean(arr)
    full = fit_all(grid0, all_cols)
    reps: dict[str, list[tuple[float, float]]] = {n: [] for n in CANDIDATES}
    for _ in range(n_boot):
        pick = rng.integers(0, arr.shape[0], arr.shape[0])
        g = _seed_mean(arr[pick])
        f = fit_all(g, rng.integers(0, sw2.size, sw2.size))
        for n in CANDIDATES:
            reps[n].append(f[n])
    a = (1 - level) / 2
    d0, _, _, cen0 = _boundaries(grid0, depths, classes, fraction)
    rows = []
    for name, (col, paper_k) in CANDIDATES.items():
        mu, s = full[name]
        r = np.array(reps[name], float).reshape(-1, 2)
        ok = np.isfinite(r).all(1)
        klo = khi = slo = shi = math.nan
        if ok.sum() >= 10:
            klo, khi = (float(math.exp(v)) for v in np.quantile(r[ok, 0], [a, 1 - a]))
            slo, shi = (float(v) for v in np.quantile(r[ok, 1], [a, 1 - a]))
        unc = cen0 == "none"
        k = math.exp(mu) if math.isfinite(mu) else math.nan
        rows.append({"candidate": name, "k": k, "k_low": klo, "k_high": khi, "sigma": s, "sigma_low": slo,
                     "sigma_high": shi,
                     "fit_error": fixed_error(d0[unc], xis[name][unc], k) if math.isfinite(k) else math.nan,
                     "paper_k": paper_k, "paper_error": fixed_error(d0[unc], xis[name][unc], paper_k),
                     "n_points": int(unc.sum()), "n_censored": int((~unc).sum()), "n_seeds": int(arr.shape[0])})
    p, q = (np.array(reps[n], float).reshape(-1, 2)[:, 1] for n in SHAPE_PAIR)
    diff = p - q
    ok = np.isfinite(diff)
    dlo = dhi = math.nan
    if ok.sum() >= 10:
        dlo, dhi = (float(v) for v in np.quantile(diff[ok], [a, 1 - a]))
    comp = {"shape_diff": full[SHAPE_PAIR[0]][1] - full[SHAPE_PAIR[1]][1], "shape_diff_low": dlo,
            "shape_diff_high": dhi, "level": level, "n_boot_usable": int(ok.sum()), "n_boot": n_boot}
    return pd.DataFrame(rows), comp


def k_against_steps(curves: pd.DataFrame, scales: pd.DataFrame, classes: int, fraction: float) -> pd.DataFrame:
    """The censored-fit k and shape error sigma of every candidate at each recorded training step.

    ``curves``: one panel's learning curves (columns sw2, depth, seed, step, metric, value; metric
    ``train_accuracy`` = last mini-batch accuracy, dropout on, the quantity the final heatmap uses),
    seed-averaged per cell at each step; the boundary threshold is re-derived from that step's grid.
    Shows how the fitted multiplier grows with the training budget (the paper's 6 and 12 belong to its
    1000-10000 steps). Columns: ``step, candidate, k, sigma, n_points, n_censored``.
    """
    sub = curves[curves["metric"] == "train_accuracy"]
    rows = []
    for step, d in sub.groupby("step", sort=True):
        arr, sw2, depths = seed_grid(d, "train_accuracy")
        if depths.size < 2:
            continue
        sc = scales.set_index("sw2").reindex(sw2)
        dep, lo, hi, cen = _boundaries(_seed_mean(arr), depths, classes, fraction)
        for name, (col, _) in CANDIDATES.items():
            mu, s = censored_fit(dep, lo, hi, cen, sc[col].to_numpy(float))
            rows.append({"step": int(step), "candidate": name, "k": math.exp(mu) if math.isfinite(mu) else math.nan,
                         "sigma": s, "n_points": int((cen == "none").sum()), "n_censored": int((cen != "none").sum())})
    return pd.DataFrame(rows)


# ---- design check: the authors' panels through the project's column and depth subset ------------

def design_subset(acc: pd.DataFrame, sw2_grid: list[float] | tuple[float, ...],
                  depth_grid: list[int] | tuple[int, ...]) -> pd.DataFrame:
    """One reference panel seen through a project design: its columns at the design's sw2 values, and
    per design depth the panel's depth nearest to it after scaling the design to the panel's depth range
    (design L * max panel L / max design L; each panel depth once).

    The authors trained 1000+ steps and their boundaries lie at 3-10 times our depths, so the design is
    compared by its shape (how many columns, how coarse and how geometric the depth grid), not by its
    absolute depths. ``acc``: a tidy panel table (columns sw2, depth, ...). Raises ValueError when fewer
    than two columns or depths survive.
    """
    sw2 = np.sort(acc["sw2"].unique())
    keep_sw2 = [float(v) for v in sw2 if np.min(np.abs(np.asarray(sw2_grid, float) - v)) <= 1e-6]
    depths = np.sort(acc["depth"].unique()).astype(float)
    scale = depths.max() / float(max(depth_grid))
    keep_d = sorted({float(depths[np.argmin(np.abs(depths - d * scale))]) for d in depth_grid})
    if len(keep_sw2) < 2 or len(keep_d) < 2:
        raise ValueError(f"design keeps {len(keep_sw2)} columns and {len(keep_d)} depths of the panel (need 2 each)")
    return acc[acc["sw2"].round(6).isin(np.round(keep_sw2, 6)) & acc["depth"].astype(float).isin(keep_d)]


def design_shift(acc: pd.DataFrame, scales: pd.DataFrame, classes: int, fraction: float, metric: str,
                 sw2_grid: list[float] | tuple[float, ...], depth_grid: list[int] | tuple[int, ...],
                 n_boot: int, seed: int, full_diff: float, level: float = 0.95) -> dict:
    """The shape difference of a reference panel on the project design (:func:`design_subset`), its
    bootstrap interval, and its shift from the full-data value ``full_diff``: the bias the design alone
    puts on a verdict. Keys ``design_shape_diff, design_low, design_high, design_shift, design_columns,
    design_depths``."""
    sub = design_subset(acc, sw2_grid, depth_grid)
    _, comp = bootstrap_panel(sub, scales, classes, fraction, metric, n_boot, seed, level)
    d = comp["shape_diff"]
    return {"design_shape_diff": d, "design_low": comp["shape_diff_low"], "design_high": comp["shape_diff_high"],
            "design_shift": d - full_diff if math.isfinite(d) and math.isfinite(full_diff) else math.nan,
            "design_columns": int(sub["sw2"].nunique()), "design_depths": int(sub["depth"].nunique())}


# ---- k and the shape against training steps -------------------------------------------------------

SETTLE_TOL = 0.02  # the shape difference has settled once it stays within this of its final value


def shape_over_steps(ks: pd.DataFrame) -> pd.DataFrame:
    """One panel's :func:`k_against_steps` table as one row per step: ``step``, ``k_<candidate>``,
    ``sigma_<candidate>`` and ``shape_diff`` = sigma of min(xi_1, xi_2) minus sigma of xi_c."""
    wide = ks.pivot(index="step", columns="candidate", values=["k", "sigma"]).sort_index()
    out = pd.DataFrame({"step": wide.index.to_numpy(int)})
    for name in CANDIDATES:
        for col in ("k", "sigma"):
            out[f"{col}_{name}"] = wide[(col, name)].to_numpy(float) if (col, name) in wide.columns else math.nan
    out["shape_diff"] = out[f"sigma_{SHAPE_PAIR[0]}"] - out[f"sigma_{SHAPE_PAIR[1]}"]
    return out


def settle_step(steps: np.ndarray, values: np.ndarray, tol: float = SETTLE_TOL) -> int:
    """The first recorded step from which ``values`` stays within ``tol`` of its last value (the last
    step when it never does, -1 when the last value is not finite)."""
    steps, values = np.asarray(steps, int), np.asarray(values, float)
    if values.size == 0 or not math.isfinite(values[-1]):
        return -1
    off = ~(np.abs(values - values[-1]) <= tol)
    return int(steps[np.nonzero(off)[0][-1] + 1]) if off.any() else int(steps[0])


def k_steps_table(ks: pd.DataFrame, n_steps: int = 7) -> pd.DataFrame:
    """The results page's view of k against steps: per panel at most ``n_steps`` recorded steps (evenly
    spaced, the last included) of :func:`shape_over_steps`, plus ``settle_step`` (:func:`settle_step` of
    the shape difference) on every row."""
    rows = []
    for panel, d in ks.groupby("panel", sort=False):
        w = shape_over_steps(d)
        s = settle_step(w["step"].to_numpy(), w["shape_diff"].to_numpy())
        pick = np.unique(np.round(np.linspace(0, len(w) - 1, min(n_steps, len(w)))).astype(int))
        rows.append(w.iloc[pick].assign(panel=panel, rho=float(d["rho"].iloc[0]) if "rho" in d.columns else math.nan,
                                        settle_step=s))
    cols = ["panel", "rho", "step", *[f"{c}_{n}" for c in ("k", "sigma") for n in CANDIDATES], "shape_diff", "settle_step"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
