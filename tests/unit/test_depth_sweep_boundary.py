"""Boundary extraction on synthetic heatmaps with a known boundary."""

import math

import numpy as np
import pandas as pd
import pytest

from reproflow.depthsweep.boundary import extract_boundaries, heatmap, trainable_depth

DEPTHS = np.array([10, 20, 30, 40, 50, 60])


def test_trainable_depth_rule():
    # pass, pass, pass, fail, pass, fail: "it and every shallower L" stops at the first failure
    acc = np.array([0.9, 0.8, 0.6, 0.2, 0.7, 0.1])
    b = trainable_depth(DEPTHS, acc, 0.5)
    assert (b.lower, b.upper, b.censored) == (30.0, 40.0, "none")
    # interpolated where the accuracy crosses 0.5, linearly against ln L: a quarter of the way from 30 to 40
    assert b.depth == pytest.approx(30.0 * (40.0 / 30.0) ** 0.25)
    # order of the grid does not matter
    perm = np.array([3, 0, 5, 1, 4, 2])
    assert trainable_depth(DEPTHS[perm], acc[perm], 0.5).depth == pytest.approx(b.depth)


def test_censoring_and_nan():
    assert trainable_depth(DEPTHS, np.full(6, 0.9), 0.5).censored == "above"
    assert trainable_depth(DEPTHS, np.full(6, 0.9), 0.5).depth == 60.0
    below = trainable_depth(DEPTHS, np.array([0.1, 0.9, 0.9, 0.9, 0.9, 0.9]), 0.5)
    assert below.censored == "below" and math.isnan(below.depth)
    assert below.upper == 10.0
    nan_mid = trainable_depth(DEPTHS, np.array([0.9, np.nan, 0.9, 0.9, 0.9, 0.9]), 0.5)
    # a diverged network is a failure; with no accuracy to interpolate, the geometric midpoint
    assert (nan_mid.lower, nan_mid.censored) == (10.0, "none")
    assert nan_mid.depth == pytest.approx(math.sqrt(10.0 * 20.0))


def test_synthetic_heatmap_recovers_known_boundary():
    rng = np.random.default_rng(0)
    sw2 = np.round(np.arange(1.0, 4.01, 0.5), 2)
    true_b = {1.0: 10, 1.5: 30, 2.0: 60, 2.5: 50, 3.0: 30, 3.5: 20, 4.0: 10}
    rows = []
    for s in sw2:
        for d in DEPTHS:
            for seed in range(3):
                trained = d <= true_b[s]
                acc = (0.95 if trained else 0.1) + rng.normal(0, 0.01)
                # a noisy 0.9-contour: shallow-but-trained cells at 0.95, the deepest trained one at 0.8
                if trained and d == true_b[s] and s != 2.0:
                    acc = 0.8 + rng.normal(0, 0.01)
                rows.append({"sw2": s, "depth": d, "seed": seed, "metric": "train_accuracy", "value": acc})
    df = pd.DataFrame(rows)
    grid = heatmap(df, "train_accuracy")
    assert list(grid.index) == list(sw2) and list(grid.columns) == list(DEPTHS)
    b = extract_boundaries(grid, classes=10, fraction=0.5, contour=0.9).set_index("sw2")
    top = grid.to_numpy().max()
    assert b["threshold"].iloc[0] == pytest.approx(0.1 + (top - 0.1) / 2)
    for s, d in true_b.items():
        if d == 60:
            assert b.loc[s, "censored"] == "above" and b.loc[s, "depth_boundary"] == 60
        else:
            assert b.loc[s, "censored"] == "none" and b.loc[s, "depth_pass"] == d
            assert d < b.loc[s, "depth_boundary"] < b.loc[s, "depth_fail"] == d + 10
            # the 0.9 x max contour crosses one grid step shallower (or is censored below at d = 10)
            if d > 10:
                assert d - 10 < b.loc[s, "depth_contour"] < d
            else:
                assert b.loc[s, "censored_contour"] == "below"
