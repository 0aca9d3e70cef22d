"""Gradient decay rates, the GIA counterfactual and universality slopes with intervals from a
bootstrap over network draws (Huang et al. 2020, Figs 2-5; spec meanfield.md sections 3-4).

Every statistic of a gradient run is a function of its per-draw table (draws, layers); the layers of
one draw are correlated (they share the draw's weights and the top-layer signal), so a least-squares
interval over layers is too narrow. Here every interval is a percentile interval of the same
estimator recomputed on ``n_boot`` resamples of the network draws (with replacement); its nominal
coverage is ``level`` for the estimator's sampling distribution at the run's width and depth. It
does not cover a finite-width bias; that is measured separately, by runs at several widths.

Rates: the slope of ln(statistic) against k = L - l estimates ln chi of the curve. The fits of g_aa,
tilde g_ab and the spread of g_ab start after the transient: at k_min = max(fit_skip,
ceil(transient_factor / (1 - chi_1))) (the no-GIA prefactor [rho + sum_m chi_1^m] settles in about
1/(1 - chi_1) layers), at most half the depth. The signed mean of g_ab is fitted from the top layer
down over the contiguous layers where it is significant (min_z standard errors, same sign); that
window is re-selected inside every bootstrap resample, so the interval carries the window's own
variability (a window fixed on the full sample would not). The exact-backprop and GIA passes of a run
share their draws (same inputs, forward pass and masks), so both are resampled with the same weights
and their difference gets a paired interval (:func:`paired_differences`).

Separation units: u = (rate - ln chi_1) / (ln chi_c - ln chi_1) is 0 for the paper's claim (decay
with xi_1) and 1 for the GIA's pair prediction (decay with xi_c = xi_2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reproflow.settings.sections import MeanfieldGradientsRates, MeanfieldGradientsUniversality

METRICS = ("g_aa", "g_ab", "tg_ab")
# curves of a run: the means of g_aa and tilde g_ab, the spread (sd over draws) of the signed g_ab,
# and the signed mean of g_ab (the one statistic whose rate differs between the GIA and real backprop)
CURVES = ("g_aa", "tg_ab", "g_ab_sd", "g_ab_mean")
INTERVAL = "percentile bootstrap over network draws"


@dataclass(frozen=True)
class BootSettings:
    """n_boot resamples of the draws, two-sided ``level`` percentile intervals, resampling seed."""

    n_boot: int
    level: float
    seed: int

    def __post_init__(self) -> None:
        if self.n_boot < 10:
            raise ValueError(f"n_boot must be >= 10, got {self.n_boot}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")


def resample_weights(n: int, boot: BootSettings, salt: int = 0) -> np.ndarray:
    """(n_boot + 1, n) draw weights summing to 1 per row; row 0 is the full sample (all 1/n)."""
    rng = np.random.default_rng([boot.seed, salt])
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=boot.n_boot)
    return np.vstack([np.full((1, n), 1.0 / n), counts / n])


def weighted_moments(values: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (n/(n-1)-corrected) variance over draws per resample: values (n, layers), w (B, n)."""
    n = values.shape[0]
    m = w @ values
    v = np.maximum(w @ (values * values) - m * m, 0.0) * n / max(n - 1, 1)
    return m, v


def masked_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slope of each row of y (B, n) against x (n,), ignoring non-finite y; nan below 3 points."""
    ok = np.isfinite(y)
    cnt = ok.sum(1)
    xx = np.where(ok, x[None, :], 0.0)
    yy = np.where(ok, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = xx.sum(1) / cnt, yy.sum(1) / cnt
        sxy = (np.where(ok, (x[None, :] - mx[:, None]) * (y - my[:, None]), 0.0)).sum(1)
        sxx = (np.where(ok, (x[None, :] - mx[:, None]) ** 2, 0.0)).sum(1)
        s = sxy / sxx
    s[(cnt < 3) | ~(sxx > 0)] = np.nan
    return s


def interval(full: float, reps: np.ndarray, level: float) -> tuple[float, float, float]:
    """(low, high, fraction of usable resamples) of the percentile interval; nan when under half usable."""
    total = max(reps.size, 1)
    reps = reps[np.isfinite(reps)]
    frac = reps.size / total
    if not math.isfinite(full) or reps.size < 10:
        return math.nan, math.nan, frac
    a = (1 - level) / 2
    lo, hi = np.quantile(reps, [a, 1 - a])
    return float(lo), float(hi), frac


def transient_start(chi_1: float, depth: int, fit_skip: int, transient_factor: float) -> int:
    """First k = L - l of a rate fit: past the no-GIA transient of ~1/(1 - chi_1) layers, capped at L/2."""
    k = fit_skip
    if chi_1 < 1:
        k = max(k, math.ceil(transient_factor / (1 - chi_1)))
    return int(min(k, depth // 2))


def separation(rate: float, ln1: float, lnc: float) -> float:
    """u = (rate - ln chi_1) / (ln chi_c - ln chi_1): 0 = decay with xi_1, 1 = decay with xi_c."""
    d = lnc - ln1
    return (rate - ln1) / d if math.isfinite(d) and d != 0 else math.nan


def sig_windows(mean: np.ndarray, se: np.ndarray, ks: np.ndarray, min_z: float) -> np.ndarray:
    """Fit windows of the signed mean, one per row (resample): the contiguous layers, from the smallest
    k up, whose mean keeps the sign of the first and exceeds min_z standard errors (deeper, the mean of
    g_ab is statistically zero). mean, se: (B, n); ks: (n,); returns a boolean (B, n) mask."""
    order = np.argsort(ks)
    m, e = mean[:, order], se[:, order]
    sign = np.sign(m[:, :1])
    ok = (sign != 0) & (np.sign(m) == sign) & (np.abs(m) > min_z * e)
    keep = np.cumprod(ok, axis=1).astype(bool)
    out = np.zeros_like(keep)
    out[:, order] = keep
    return out


def run_rates(values: dict[str, np.ndarray], layers: np.ndarray, depth: int, chi_1: float, chi_c: float,
              fit_skip: int, transient_factor: float, min_z: float, boot: BootSettings, salt: int = 0,
              theory: dict[str, np.ndarray] | None = None,
              reps_out: dict[str, np.ndarray] | None = None) -> list[dict]:
    """Rows (one per curve of :data:`CURVES`) of fitted rates with bootstrap intervals for one run.

    ``values[m]``: per-draw statistic m of :data:`METRICS`, shape (draws, len(layers)); ``layers``
    1-based. Layer 1 (raw input) is never fitted. ``theory``: optional exact curves per curve name
    (same layers), fitted over the same window (``theory_slope``, ``theory_u``): the expected rate
    of the estimator, transient included. ``reps_out`` (optional): filled with the (n_boot + 1,)
    slopes of every curve, row 0 the full sample (paired comparisons across passes).
    """
    n = values["g_aa"].shape[0]
    w = resample_weights(n, boot, salt)
    ks = depth - layers
    k0 = transient_start(chi_1, depth, fit_skip, transient_factor)
    ln1 = math.log(chi_1)
    lnc = math.log(chi_c) if chi_c > 0 else math.nan
    base = (layers >= 2)
    rows = []
    for curve in CURVES:
        if curve == "g_ab_sd":
            _, var = weighted_moments(values["g_ab"], w)
            stat = np.sqrt(var)
            sel = base & (ks >= k0)
        elif curve == "g_ab_mean":
            m, var = weighted_moments(values["g_ab"], w)
            # from the top layer down: the mean is significant only over the first few layers, and
            # the GIA predicts no transient for it (its prefactor is set at the top); the window is
            # chosen again in every resample (no window fixed on the full sample)
            win = np.zeros(m.shape, bool)
            if base.any():
                win[:, base] = sig_windows(m[:, base], np.sqrt(var[:, base] / n), ks[base], min_z)
            sel = win[0]
            first = np.argmin(np.where(base, ks, np.iinfo(np.int64).max))
            stat = np.where(win, np.sign(m[:, first:first + 1]) * m, np.nan)
        else:
            stat, _ = weighted_moments(values[curve], w)
            sel = base & (ks >= k0)
        cols = base if curve == "g_ab_mean" else sel
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(stat[:, cols] > 0, np.log(np.where(stat[:, cols] > 0, stat[:, cols], 1.0)), np.nan)
        slopes = masked_slopes(ks[cols].astype(float), y)
        if reps_out is not None:
            reps_out[curve] = slopes
        full = float(slopes[0])
        lo, hi, frac = interval(full, slopes[1:], boot.level)
        u, ua, ub = (separation(v, ln1, lnc) for v in (full, lo, hi))
        th_slope = math.nan
        if theory is not None and curve in theory and sel.sum() >= 3:
            t = np.abs(np.asarray(theory[curve], float)[sel])
            if (t > 0).all():
                th_slope = float(masked_slopes(ks[sel].astype(float), np.log(t)[None, :])[0])
        rows.append({"curve": curve, "theory_slope": th_slope, "theory_u": separation(th_slope, ln1, lnc), "slope": full, "ci_low": lo, "ci_high": hi, "level": boot.level,
                     "interval": f"{INTERVAL} ({n} draws, {boot.n_boot} resamples)", "boot_usable": frac,
                     "k_min": int(ks[sel].min()) if sel.any() else -1, "k_max": int(ks[sel].max()) if sel.any() else -1,
                     "n_layers": int(sel.sum()), "ln_chi_1": ln1, "ln_chi_c": lnc,
                     "u": u, "u_low": min(ua, ub), "u_high": max(ua, ub),
                     "closer_to": (math.nan if not math.isfinite(full) else
                                   ("chi_1" if abs(full - ln1) <= abs(full - lnc) or not math.isfinite(lnc)
                                    else "chi_c"))})
    return rows


def _wide(df: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    p = df.pivot(index="draw", columns="layer", values=metric).sort_index(axis=1)
    return p.to_numpy(float), p.columns.to_numpy(int)


RUN_META = ("run", "role", "activation", "sw2", "sb2", "rho", "width", "depth")


def _meta(df: pd.DataFrame) -> dict:
    first = df.iloc[0]
    return {k: first[k] for k in RUN_META if k in df.columns}


def _linear_theory(df: pd.DataFrame, layers: np.ndarray) -> dict[str, np.ndarray] | None:
    """Exact large-N no-GIA g_aa and g_ab means of a linear run (spec section 3), at ``layers``;
    None for other activations, for sw2 >= min(rho, 1) (no finite q*) and for the GIA counterfactual."""
    from reproflow.meanfield import gradients as G

    first = df.iloc[0]
    if first["activation"] != "linear" or first.get("backward", "exact") != "exact" or "inputs" not in df.columns:
        return None
    sw2, sb2, rho = float(first["sw2"]), float(first["sb2"]), float(first["rho"])
    if not (sw2 < rho and sw2 < 1):
        return None
    depth = int(first["depth"])
    var, cov = G.input_moments("linear", sw2, sb2, rho, str(first["inputs"]))
    g_aa, g_ab = (v.numpy()[layers - 1] for v in G.linear_no_gia(sw2, sb2, rho, depth, var, cov))
    return {"g_aa": g_aa, "g_ab_mean": g_ab}


# layers a signed-mean fit needs before its rate means anything (the "draws needed" estimate aims at it)
MIN_SIGNIFICANT_LAYERS = 5


def top_layer_z(g_ab: np.ndarray, layers: np.ndarray) -> float:
    """|mean| / sd over draws of g_ab at the top fitted layer (the largest layer >= 2): the signal a
    signed-mean fit starts from. g_ab: (draws, len(layers))."""
    j = int(np.argmax(np.where(layers >= 2, layers, -1)))
    col = g_ab[:, j]
    sd = float(col.std(ddof=1)) if col.size >= 2 else math.nan
    return abs(float(col.mean())) / sd if sd > 0 else math.nan


def draws_needed(top_z: float, chi_1: float, chi_c: float, min_z: float,
                 n_layers: int = MIN_SIGNIFICANT_LAYERS) -> float:
    """Draws at which the signed mean of g_ab would stay min_z standard errors from zero over
    ``n_layers`` layers from the top, if mean / sd falls by chi_c / chi_1 per layer (the mean with xi_c,
    the spread with xi_1, as the GIA has it): n = (min_z / (top_z (chi_c / chi_1)^(n_layers - 1)))^2."""
    if not (math.isfinite(top_z) and top_z > 0 and chi_1 > 0 and chi_c > 0):
        return math.nan
    r = min(chi_c / chi_1, chi_1 / chi_c)
    return float(math.ceil((min_z / (top_z * r ** (n_layers - 1))) ** 2))


# k = L - l bands of the deep-layer table (fixed in advance, not chosen on the data)
DEEP_BANDS = (0, 5, 10, 20, 30, 45, 70, 100, 150, 200, 10**9)


def deep_layer_table(g_ab: np.ndarray, layers: np.ndarray, depth: int, boot: BootSettings, salt: int = 0
                     ) -> pd.DataFrame:
    """mean(g_ab) / sd(g_ab) per k-band (:data:`DEEP_BANDS`), averaged over the band's layers, with a
    bootstrap-over-draws interval and the bound max(|low|, |high|).

    The spread sd(g_ab) decays with xi_1 under both passes, so any part of E[g_ab] that decays at the
    chi_1 rate keeps a constant mean / sd; the deepest band's bound bounds that part (in units of
    sd) whatever window the rate fit used. g_ab: (draws, len(layers)), layers 1-based.
    """
    n = g_ab.shape[0]
    w = resample_weights(n, boot, salt)
    m, v = weighted_moments(g_ab, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v > 0, m / np.sqrt(v), np.nan)
    ks = depth - layers
    rows = []
    for lo, hi in zip(DEEP_BANDS[:-1], DEEP_BANDS[1:]):
        sel = (layers >= 2) & (ks >= lo) & (ks < hi)
        if not sel.any():
            continue
        r = np.nanmean(ratio[:, sel], axis=1)
        a, b, _ = interval(float(r[0]), r[1:], boot.level)
        rows.append({"k_low": int(ks[sel].min()), "k_high": int(ks[sel].max()), "n_layers": int(sel.sum()),
                     "mean_over_sd": float(r[0]), "ci_low": a, "ci_high": b, "bound": max(abs(a), abs(b)),
                     "level": boot.level})
    return pd.DataFrame(rows)


def paired_differences(reps: dict[str, np.ndarray], reps_gia: dict[str, np.ndarray], ln1: float, lnc: float,
                       level: float) -> dict[str, dict[str, float]]:
    """Per curve: exact u minus GIA u on the same resampled draws (row 0 the full sample), with its
    percentile interval: the paired comparison of real backprop with its GIA counterfactual."""
    out = {}
    d = lnc - ln1
    for curve, ex in reps.items():
        if curve not in reps_gia or not (math.isfinite(d) and d != 0):
            continue
        du = (ex - reps_gia[curve]) / d
        lo, hi, frac = interval(float(du[0]), du[1:], level)
        out[curve] = {"du": float(du[0]), "du_low": lo, "du_high": hi, "du_usable": frac}
    return out


def rate_table(draws: pd.DataFrame, chis: pd.DataFrame, fit_skip: int, transient_factor: float, min_z: float,
               boot: BootSettings, deep: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """Rates of every (run, backward) in ``draws`` (columns run, backward, draw, layer, g_aa, g_ab,
    tg_ab plus run metadata); ``chis``: one row per run with chi_1, chi_c (and c_star when known).

    Both passes of a run are resampled with the same weights; the exact rows carry the paired
    difference exact u - GIA u (``du``, ``du_low``, ``du_high``), every row the top-layer
    mean/sd of g_ab (``top_z``), the draws a signed-mean fit over :data:`MIN_SIGNIFICANT_LAYERS`
    layers would need (``draws_needed``) and the deepest band (>= 3 layers) of the deep-layer table
    (``deep_k_low``, ``deep_mean_over_sd``, ``deep_bound``). ``deep`` (optional) receives one
    :func:`deep_layer_table` per (run, backward).
    """
    chi = chis.drop_duplicates("run").set_index("run")
    rows = []
    for i, (run, rdf) in enumerate(draws.groupby("run", sort=False)):
        chi_1, chi_c = float(chi.loc[run, "chi_1"]), float(chi.loc[run, "chi_c"])
        c_star = float(chi.loc[run, "c_star"]) if "c_star" in chi.columns else math.nan
        reps: dict[str, dict[str, np.ndarray]] = {}
        run_rows = []
        for backward, df in rdf.groupby("backward", sort=False):
            vals = {}
            for m in METRICS:
                vals[m], layers = _wide(df, m)
            meta = _meta(df)
            depth = int(meta.get("depth", layers.max()))
            reps[backward] = {}
            tz = top_layer_z(vals["g_ab"], layers)
            need = draws_needed(tz, chi_1, chi_c, min_z)
            dt = deep_layer_table(vals["g_ab"], layers, depth, boot, salt=i)
            last = dt[dt.n_layers >= 3].iloc[-1] if (dt.n_layers >= 3).any() else None
            deepest = {"deep_k_low": int(last.k_low) if last is not None else -1,
                       "deep_mean_over_sd": float(last.mean_over_sd) if last is not None else math.nan,
                       "deep_bound": float(last.bound) if last is not None else math.nan}
            for r in run_rates(vals, layers, depth, chi_1, chi_c, fit_skip, transient_factor, min_z, boot,
                               salt=i, theory=_linear_theory(df, layers), reps_out=reps[backward]):
                run_rows.append({**meta, "backward": backward, "draws": int(vals["g_aa"].shape[0]), "c_star": c_star,
                                 "top_z": tz, "draws_needed": need, **deepest, **r})
            if deep is not None:
                deep.append(dt.assign(**meta, backward=backward, draws=int(vals["g_ab"].shape[0])))
        lnc = math.log(chi_c) if chi_c > 0 else math.nan
        pair = (paired_differences(reps["exact"], reps["gia"], math.log(chi_1), lnc, boot.level)
                if {"exact", "gia"} <= set(reps) else {})
        for r in run_rows:
            extra = pair.get(r["curve"], {}) if r["backward"] == "exact" else {}
            rows.append({**r, **{k: extra.get(k, math.nan) for k in ("du", "du_low", "du_high")}})
    return pd.DataFrame(rows)


def gia_counterfactual(rates: pd.DataFrame) -> pd.DataFrame:
    """Side by side per run and curve: the exact-backprop and GIA-counterfactual rates, both in
    separation units u, and whether their intervals overlap (the statistic separates the two)."""
    key = ["run", "curve"]
    ex = rates[rates.backward == "exact"].set_index(key)
    gi = rates[rates.backward == "gia"].set_index(key)
    both = ex.index.intersection(gi.index)
    cols = ["slope", "ci_low", "ci_high", "u", "u_low", "u_high", "n_layers", "k_min", "k_max"]
    out = ex.loc[both, [c for c in RUN_META if c in ex.columns and c != "run"]
                 + ["draws", "ln_chi_1", "ln_chi_c", "level", "interval"]].copy()
    for c in cols:
        out[f"exact_{c}"] = ex.loc[both, c]
        out[f"gia_{c}"] = gi.loc[both, c]
    for c in ("du", "du_low", "du_high", "theory_u"):
        if c in ex.columns:
            out[c] = ex.loc[both, c]
    out["separated"] = (out.exact_ci_high < out.gia_ci_low) | (out.gia_ci_high < out.exact_ci_low)
    if "du_low" in out.columns:
        # the paired interval of exact u - GIA u (same draws) excludes 0
        out["separated"] = (out.du_high < 0) | (out.du_low > 0)
    return out.reset_index()


SPREAD_ROWS = ("between_runs", "along_depth")


def cv2_spread(per_run: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Spread of log10(V / m^2) for one metric, per resample: ``between_runs`` = the sd over runs at each
    layer present in >= 2 runs, averaged over those layers (a common constant V/m^2 at matched depth);
    ``along_depth`` = the sd over a run's layers, averaged over runs (V proportional to m^2 within a
    run). ``per_run``: (layers (n,), log10 cv2 (B, n)) per run; rows of every run are resamples."""
    b = per_run[0][1].shape[0]
    along = [np.nanstd(v, axis=1, ddof=1) for _, v in per_run if np.isfinite(v[0]).sum() >= 2]
    layers = np.unique(np.concatenate([lay for lay, _ in per_run]))
    between = []
    for layer in layers:
        cols = [v[:, lay == layer][:, 0] for lay, v in per_run if (lay == layer).any() and np.isfinite(v[0, lay == layer]).all()]
        if len(cols) >= 2:
            between.append(np.std(np.stack(cols, axis=1), axis=1, ddof=1))
    nan = np.full(b, np.nan)
    with np.errstate(invalid="ignore"):
        return {"between_runs": np.nanmean(np.stack(between), axis=0) if between else nan,
                "along_depth": np.nanmean(np.stack(along), axis=0) if along else nan}


def universality(draws: pd.DataFrame, record_every: int, min_z: float, boot: BootSettings, band: float
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(slopes, points) of log V against log m over the recorded layers (every ``record_every``-th).

    One slope row per (run, metric) and one per metric named ``pooled`` (all runs' points in one
    fit, spanning many decades of m), each with a bootstrap-over-draws interval (the pooled one
    resamples every run's draws). g_ab points use |m| on the layers whose mean is more than min_z
    standard errors from zero (chosen on the full sample). Points carry cv2 = V / m^2.

    The pooled slope is about 2 for any statistic whose coefficient of variation stays bounded while m
    spans many decades, so it cannot fail; the rows that can are two per metric (run ``between_runs``
    and ``along_depth``, :func:`cv2_spread`): ``spread`` (sd of log10 V/m^2, decades) with its
    bootstrap interval ``spread_low``, ``spread_high`` and the ``band`` it is judged against.
    """
    per_metric: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in METRICS}
    cv2_runs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in METRICS}
    rows, points = [], []
    for i, (run, df) in enumerate(draws.groupby("run", sort=False)):
        meta = _meta(df)
        depth = int(df.layer.max())
        rec = np.arange(record_every, depth + 1, record_every)
        sub = df[df.layer.isin(rec)]
        for j, m in enumerate(METRICS):
            vals, layers = _wide(sub, m)
            n = vals.shape[0]
            w = resample_weights(n, boot, salt=1000 * i + j)
            mean, var = weighted_moments(vals, w)
            keep = np.ones(layers.size, bool)
            if m == "g_ab":
                keep = np.abs(mean[0]) > min_z * np.sqrt(var[0] / n)
                mean = np.abs(mean)
            mean, var = mean[:, keep], var[:, keep]
            with np.errstate(divide="ignore", invalid="ignore"):
                lx = np.where(mean > 0, np.log(np.where(mean > 0, mean, 1.0)), np.nan)
                ly = np.where(var > 0, np.log(np.where(var > 0, var, 1.0)), np.nan)
            per_metric[m].append((lx, ly))
            cv2_runs[m].append((layers[keep], (ly - 2 * lx) / math.log(10)))
            s = _xy_slopes(lx, ly)
            lo, hi, _ = interval(float(s[0]), s[1:], boot.level)
            rows.append({**meta, "metric": m, "slope": float(s[0]), "ci_low": lo, "ci_high": hi,
                         "n_layers": int(np.isfinite(lx[0] + ly[0]).sum()),
                         "m_decades": _decades(mean[0]), "level": boot.level,
                         "interval": f"{INTERVAL} ({n} draws, {boot.n_boot} resamples)"})
            pts = pd.DataFrame({"layer": layers[keep], "m": mean[0], "V": var[0], "se": np.sqrt(var[0] / n)})
            pts["cv2"] = pts.V / pts.m**2
            points.append(pts.assign(**meta, metric=m))
    for m in METRICS:
        if not per_metric[m]:
            continue
        lx = np.hstack([a for a, _ in per_metric[m]])
        ly = np.hstack([b for _, b in per_metric[m]])
        s = _xy_slopes(lx, ly)
        lo, hi, _ = interval(float(s[0]), s[1:], boot.level)
        ok = np.isfinite(lx[0] + ly[0])
        rows.append({"run": "pooled", "role": "pooled", "activation": "all", "metric": m, "slope": float(s[0]),
                     "ci_low": lo, "ci_high": hi, "n_layers": int(ok.sum()),
                     "m_decades": float((lx[0][ok].max() - lx[0][ok].min()) / math.log(10)) if ok.any() else math.nan,
                     "level": boot.level,
                     "interval": f"{INTERVAL} (every run's draws resampled, {boot.n_boot} resamples)"})
        for name, rep in cv2_spread(cv2_runs[m]).items():
            lo, hi, _ = interval(float(rep[0]), rep[1:], boot.level)
            rows.append({"run": name, "role": "spread", "activation": "all", "metric": m, "slope": math.nan,
                         "ci_low": math.nan, "ci_high": math.nan, "spread": float(rep[0]), "spread_low": lo,
                         "spread_high": hi, "band": band, "n_layers": int(sum(v.shape[1] for _, v in cv2_runs[m])),
                         "level": boot.level,
                         "interval": f"{INTERVAL} (every run's draws resampled, {boot.n_boot} resamples)"})
    return pd.DataFrame(rows), pd.concat(points, ignore_index=True)


def _decades(m: np.ndarray) -> float:
    m = m[np.isfinite(m) & (m > 0)]
    return float(np.log10(m.max() / m.min())) if m.size >= 2 else math.nan


def _xy_slopes(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """Row-wise OLS slope of ly against lx (both (B, n), non-finite pairs ignored)."""
    ok = np.isfinite(lx) & np.isfinite(ly)
    cnt = ok.sum(1)
    x = np.where(ok, lx, 0.0)
    y = np.where(ok, ly, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = x.sum(1) / cnt, y.sum(1) / cnt
        dx = np.where(ok, lx - mx[:, None], 0.0)
        dy = np.where(ok, ly - my[:, None], 0.0)
        s = (dx * dy).sum(1) / (dx * dx).sum(1)
    s[cnt < 3] = np.nan
    return s


def rate_tables(draws: pd.DataFrame, chis: pd.DataFrame, settings: MeanfieldGradientsRates, seed: int
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(rates, deep layers, GIA counterfactual) of ``meanfield.gradients``' rate-fit keys: :func:`rate_table`
    with a bootstrap of ``n_boot`` resamples at ``level`` seeded by ``seed``, then :func:`gia_counterfactual`."""
    deep: list[pd.DataFrame] = []
    boot = BootSettings(settings.n_boot, settings.level, seed)
    rates = rate_table(draws, chis, settings.fit_skip, settings.transient_factor, settings.min_z, boot, deep=deep)
    return rates, pd.concat(deep, ignore_index=True), gia_counterfactual(rates)


def universality_tables(draws: pd.DataFrame, settings: MeanfieldGradientsUniversality, seed: int
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`universality` of ``meanfield.gradients``' universality keys, bootstrap seeded by ``seed``."""
    boot = BootSettings(settings.n_boot, settings.level, seed)
    return universality(draws, settings.record_every, settings.min_z, boot, settings.cv2_band)
