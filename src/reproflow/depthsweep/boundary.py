"""The measured trainable depth per sw2 from an accuracy heatmap over (sw2, L).

Rule (spec meanfield.md section 5): with ``max`` the best accuracy of the whole panel and
``chance = 1 / classes``, the boundary ``L_b(sw2)`` is the deepest L such that it and every
shallower L on the grid reach ``accuracy >= chance + fraction * (max - chance)`` (fraction 0.5: the
half-way contour). A second contour uses ``accuracy >= contour * max`` (0.9 x max).

The grid only brackets the boundary: the last passing grid depth ``L_pass`` is a lower edge (up to a
factor 2 low on a doubling grid). ``L_b`` is interpolated between ``L_pass`` and the first failing
grid depth ``L_fail``: linearly in accuracy against ln L, where the threshold is crossed (the
geometric midpoint when the failing cell diverged, i.e. has no accuracy).

Censoring: if even the shallowest L fails, ``L_b`` is NaN and the column is censored ``below`` (the
boundary lies under the shallowest grid L); if every L passes, ``L_b`` is the deepest grid L and
censored ``above`` (the true boundary is deeper). The formula fit keeps censored columns through a
censored likelihood (:mod:`reproflow.depthsweep.fit`). NaN accuracies (diverged networks) count as fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CENSOR_NONE = "none"
CENSOR_BELOW = "below"
CENSOR_ABOVE = "above"


@dataclass(frozen=True)
class Boundary:
    """``depth``: interpolated L_b (NaN when censored below, the deepest grid L when censored above);
    ``censored``: none | below | above; ``lower``/``upper``: the grid depths that bracket it (last
    passing, first failing; NaN where the grid has none)."""

    depth: float
    censored: str
    lower: float = math.nan
    upper: float = math.nan


def trainable_depth(depths: np.ndarray, accuracy: np.ndarray, threshold: float) -> Boundary:
    """Deepest L whose accuracy and that of every shallower L reach ``threshold``.

    depths: [K] grid (any order); accuracy: [K] (NaN = fail).
    """
    order = np.argsort(depths)
    d = np.asarray(depths, dtype=float)[order]
    a = np.asarray(accuracy, dtype=float)[order]
    ok = np.nan_to_num(a, nan=-math.inf) >= threshold
    if not ok[0]:
        return Boundary(math.nan, CENSOR_BELOW, math.nan, float(d[0]))
    if ok.all():
        return Boundary(float(d[-1]), CENSOR_ABOVE, float(d[-1]), math.nan)
    j = int(np.argmin(ok))
    lo, hi = float(d[j - 1]), float(d[j])
    a_pass, a_fail = a[j - 1], a[j]
    t = (a_pass - threshold) / (a_pass - a_fail) if np.isfinite(a_fail) and a_pass > a_fail else 0.5
    t = min(max(float(t), 0.0), 1.0)
    return Boundary(float(math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))), CENSOR_NONE, lo, hi)


def heatmap(acc: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed-averaged accuracy as a wide table: index sw2 (ascending), columns depth (ascending).

    ``acc`` is the tidy per-panel table (columns sw2, depth, seed, metric, value). A diverged
    network contributes NaN, so its cell mean is NaN unless another seed trained.
    """
    sub = acc[acc["metric"] == metric]
    if sub.empty:
        raise ValueError(f"no rows with metric {metric!r}")
    grid = sub.groupby(["sw2", "depth"])["value"].mean().unstack("depth")
    return grid.sort_index().sort_index(axis=1)


def extract_boundaries(grid: pd.DataFrame, classes: int, fraction: float, contour: float) -> pd.DataFrame:
    """Per sw2 row of ``grid`` (index sw2, columns depth): the half-way boundary and the contour boundary.

    Returns columns ``sw2, max_accuracy, threshold, depth_boundary, censored, depth_pass, depth_fail,
    contour_threshold, depth_contour, censored_contour`` (depth_pass / depth_fail: the grid depths
    bracketing the interpolated depth_boundary).
    """
    chance = 1.0 / classes
    top = float(np.nanmax(grid.to_numpy())) if np.isfinite(grid.to_numpy()).any() else math.nan
    thr = chance + fraction * (top - chance)
    thr90 = contour * top
    depths = np.asarray(grid.columns, dtype=float)
    rows = []
    for sw2, accs in grid.iterrows():
        a = accs.to_numpy(dtype=float)
        b = trainable_depth(depths, a, thr)
        b90 = trainable_depth(depths, a, thr90)
        rows.append(
            {
                "sw2": float(sw2),
                "max_accuracy": top,
                "threshold": thr,
                "depth_boundary": b.depth,
                "censored": b.censored,
                "depth_pass": b.lower,
                "depth_fail": b.upper,
                "contour_threshold": thr90,
                "depth_contour": b90.depth,
                "censored_contour": b90.censored,
            }
        )
    return pd.DataFrame(rows)
