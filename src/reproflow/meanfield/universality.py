"""Universality of gradient fluctuations (spec section 4; Figs 4-5 of Huang et al. 2020) and the
straight-line fits used for it and for gradient decay rates.

For every recorded layer (every ``record_every``-th layer), the mean m and variance V over network
draws of g_aa, g_ab and tg_ab; the paper's claim is V proportional to m^2, i.e. slope 2 of log V
against log m. g_ab's mean can be negative or statistically zero deep in the net: its points use |m|
and only layers whose mean differs from zero by more than ``min_z`` standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class LineFit:
    """OLS fit y = intercept + slope x with a two-sided ``level`` confidence interval on the slope."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    n: int


def ols(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> LineFit:
    """Least-squares line through finite (x, y) points; nan fit with fewer than 3 points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 3 or np.ptp(x) == 0:
        return LineFit(math.nan, math.nan, math.nan, math.nan, n)
    res = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + level / 2, n - 2)
    return LineFit(float(res.slope), float(res.intercept), float(res.slope - t * res.stderr),
                   float(res.slope + t * res.stderr), n)


def layer_moments(values: np.ndarray, layers: np.ndarray, min_z: float = 2.0, signed: bool = False) -> pd.DataFrame:
    """m, V, se per layer from per-draw values (draws, n_layers) at the given 1-based ``layers``.

    ``signed``: keep only layers with |m| > min_z * se and report |m| (for g_ab).
    """
    d = values.shape[0]
    m = values.mean(0)
    v = values.var(0, ddof=1)
    se = np.sqrt(v / d)
    df = pd.DataFrame({"layer": layers, "m": m, "V": v, "se": se})
    if signed:
        df = df[np.abs(df["m"]) > min_z * df["se"]].copy()
        df["m"] = df["m"].abs()
    return df.reset_index(drop=True)


def loglog_slope(moments: pd.DataFrame, level: float = 0.95) -> LineFit:
    """Slope of log V against log m (positive m and V only)."""
    ok = (moments["m"] > 0) & (moments["V"] > 0)
    return ols(np.log(moments.loc[ok, "m"]), np.log(moments.loc[ok, "V"]), level)
