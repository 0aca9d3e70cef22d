"""The measured trainable depth per sw2 from an accuracy heatmap over (sw2, L).

Rule (spec meanfield.md section 5): with ``max`` the best accuracy of the whole panel and
``chance = 1 / classes``, the boundary ``L_b(sw2)`` is the deepest L such that it and every
shallower L on the grid reach ``accuracy >= chance + fraction * (max - chance)`` (fraction 0.5: the
half-way contour). A second contour uses ``accuracy >= contour * max`` (0.9 x max).

Censoring: if even the shallowest L fails, ``L_b`` is NaN and the column is censored ``below``; if
every L passes, ``L_b`` is the deepest grid L and censored ``above`` (the true boundary is deeper).
Censored columns are left out of the formula fit. NaN accuracies (diverged networks) count as fails.
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
    """``depth``: measured L_b (NaN when censored below); ``censored``: none | below | above."""

    depth: float
    censored: str


def trainable_depth(depths: np.ndarray, accuracy: np.ndarray, threshold: float) -> Boundary:
    """Deepest L whose accuracy and that of every shallower L reach ``threshold``.

    depths: [K] grid (any order); accuracy: [K] (NaN = fail).
    """
    order = np.argsort(depths)
    d = np.asarray(depths, dtype=float)[order]
    ok = np.nan_to_num(np.asarray(accuracy, dtype=float)[order], nan=-math.inf) >= threshold
    if not ok[0]:
        return Boundary(math.nan, CENSOR_BELOW)
    if ok.all():
        return Boundary(float(d[-1]), CENSOR_ABOVE)
    first_fail = int(np.argmin(ok))
    return Boundary(float(d[first_fail - 1]), CENSOR_NONE)


def heatmap(acc: pd.DataFrame, metric: str = "train_accuracy") -> pd.DataFrame:
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

    Returns columns ``sw2, max_accuracy, threshold, depth_boundary, censored, contour_threshold,
    depth_contour, censored_contour``.
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
                "contour_threshold": thr90,
                "depth_contour": b90.depth,
                "censored_contour": b90.censored,
            }
        )
    return pd.DataFrame(rows)
