"""Plot-ready tables for ``dvc plots show`` (DVC draws one line per column and cannot filter rows).

- accuracy against eps, one file per dataset: columns ``eps`` and one per attack of the closed
  attack set (seed-mean robust accuracy of the standard model; empty where an attack did not run,
  so the column set, and thus dvc.yaml's ``y`` list, is the same at every scale);
- trainable depth against sw2, one file per depth-sweep panel: the measured boundary L_b (empty
  where censored by the depth grid) and the candidate formulas 6 xi_c, 12 xi_1, 12 min(xi_1, xi_2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reproflow.errors import UserError

# Columns of the accuracy-against-eps files: the attack phase's closed set (reproflow.attacks.AttackName,
# kept here as plain names so the report job needs no torch) and dvc.yaml's ``y`` list; a unit test
# checks that the three agree.
PLOT_ATTACKS = ("fgsm", "pgd", "autoattack", "attribute", "generator", "spa", "joint_pgd", "joint_apgd", "recon_pgd",
                "grid_pgd")
TRAINABILITY_COLUMNS = ("sw2", "measured_depth", "six_xi_c", "twelve_xi_1", "twelve_xi_min")


def accuracy_vs_eps(tidy: pd.DataFrame, metric: str, attacks: tuple[str, ...], what: str = "attack table") -> dict[str, pd.DataFrame]:
    """Per dataset, ``eps`` x attack table of the seed-mean ``metric`` (tidy columns dataset, attack,
    eps, seed, metric, value). Attacks in ``attacks`` that the table lacks get empty columns; other
    labels (ablations such as ``spa_oracle``, library cross-checks) are left out, since the column set
    is the contract with dvc.yaml's ``y`` list."""
    need = {"dataset", "attack", "eps", "metric", "value"}
    if need - set(tidy.columns):
        raise UserError(f"{what}: lacks columns {sorted(need - set(tidy.columns))}; re-run the attack phase")
    t = tidy[tidy["metric"] == metric]
    if t.empty:
        raise UserError(f"{what}: no rows with metric '{metric}' (has {sorted(tidy['metric'].unique())})")
    t = t[t["attack"].isin(attacks)]
    out = {}
    for dataset, g in t.groupby("dataset"):
        wide = g.groupby(["eps", "attack"])["value"].mean().unstack("attack").reindex(columns=list(attacks))
        wide.columns.name = None
        out[str(dataset)] = wide.reset_index().sort_values("eps")
    return out


def trainability(boundaries: pd.DataFrame, what: str = "depth-sweep boundaries") -> dict[str, pd.DataFrame]:
    """Per panel, columns :data:`TRAINABILITY_COLUMNS` from the boundary table (columns panel, sw2,
    depth_boundary, censored, xi_1, xi_c, xi_min)."""
    need = {"panel", "sw2", "depth_boundary", "censored", "xi_1", "xi_c", "xi_min"}
    if need - set(boundaries.columns):
        raise UserError(f"{what}: lacks columns {sorted(need - set(boundaries.columns))}; re-run the depth_sweep phase")
    out = {}
    for panel, g in boundaries.groupby("panel"):
        g = g.sort_values("sw2")
        out[str(panel)] = pd.DataFrame({
            "sw2": g["sw2"].to_numpy(float),
            "measured_depth": np.where(g["censored"] == "none", g["depth_boundary"].to_numpy(float), np.nan),
            "six_xi_c": 6 * g["xi_c"].to_numpy(float),
            "twelve_xi_1": 12 * g["xi_1"].to_numpy(float),
            "twelve_xi_min": 12 * g["xi_min"].to_numpy(float),
        }).replace([np.inf, -np.inf], np.nan)  # xi = inf at criticality: a gap in the line, not a spike
    return out
