"""How much one depth-sweep cell moves when only the platform changes, beside how much its seeds move.

Identical code and settings can round differently on another machine: torch dispatches its CPU kernels
by the CPU's vector units (AVX512, AVX2, scalar), and BLAS code paths and thread counts change the
order of float sums. Training amplifies the last-bit differences (300 SGD steps through tens of tanh
layers), so the networks' final accuracies, and near the trainable-depth boundary their trained /
untrained status, can differ. The pipeline re-trains a few cells under another kernel dispatch on its own
machine, as a stand-in for another machine, and compares them here with the sweep's own cells
(:func:`compare_cells`); ``fit_depth_formula`` substitutes the re-trained cells into their panels and
reports the shift of the shape difference the verdict reads (:func:`substitute_cells`).
"""

from __future__ import annotations

import pandas as pd

KEYS = ["sw2", "seed", "metric"]


def compare_cells(reference: pd.DataFrame, variant: pd.DataFrame, metric: str, threshold: float) -> dict:
    """One cell (tidy ``train_depth_cell`` tables of the same panel and depth) trained twice.

    ``threshold``: the panel's boundary threshold on ``metric`` (chance + fraction * (max - chance)); a
    network is trained when its ``metric`` reaches it. Returns ``networks``, ``identical`` (every value of
    every metric equal), ``max_abs_diff`` and ``mean_abs_diff`` of ``metric`` between the two runs,
    ``status_flips`` (networks trained in one run and not in the other), and the seed-to-seed scale of the
    reference run: ``seed_mean_abs_diff`` (mean over sw2 columns of max - min over seeds of ``metric``) and
    ``seed_split_columns`` (columns whose seeds disagree on the status) of ``columns``.
    """
    ref = reference.set_index(KEYS)["value"].sort_index()
    var = variant.set_index(KEYS)["value"].reindex(ref.index)
    if var.isna().to_numpy().sum() > ref.isna().to_numpy().sum():
        raise ValueError("the variant cell lacks rows of the reference cell (another panel, depth or seeds?)")
    a, b = ref.xs(metric, level="metric"), var.xs(metric, level="metric")
    diff = (a - b).abs()
    by_col = a.unstack("seed")
    status = by_col >= threshold
    return {
        "networks": int(a.size),
        "identical": bool(((ref == var) | (ref.isna() & var.isna())).all()),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "status_flips": int(((a >= threshold) != (b >= threshold)).sum()),
        "seed_mean_abs_diff": float((by_col.max(axis=1) - by_col.min(axis=1)).mean()),
        "seed_split_columns": int((status.nunique(axis=1) > 1).sum()),
        "columns": int(by_col.shape[0]),
    }


def substitute_cells(panel: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``panel``'s accuracy table with the rows of ``cells``' depths replaced by ``cells`` (same columns)."""
    depths = set(cells["depth"].unique())
    return pd.concat([panel[~panel["depth"].isin(depths)], cells[panel.columns]], ignore_index=True)
