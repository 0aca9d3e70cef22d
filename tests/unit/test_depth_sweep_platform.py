"""The platform check's comparison of one depth-sweep cell trained twice (reproflow.depthsweep.platform)."""

import pandas as pd
import pytest

from reproflow.depthsweep.platform import compare_cells, substitute_cells


def _cell(acc, depth=8):
    """A tidy train_depth_cell table from {(sw2, seed): train accuracy}."""
    rows = []
    for (sw2, seed), a in acc.items():
        rows += [{"panel": "p", "depth": depth, "sw2": sw2, "seed": seed, "metric": "train_accuracy", "value": a},
                 {"panel": "p", "depth": depth, "sw2": sw2, "seed": seed, "metric": "final_loss", "value": 1 - a}]
    return pd.DataFrame(rows)


def test_compare_counts_status_flips_against_the_threshold_and_the_seed_scale():
    ref = _cell({(1.0, 0): 0.9, (1.0, 1): 0.8, (2.0, 0): 0.52, (2.0, 1): 0.3})
    var = _cell({(1.0, 0): 0.9, (1.0, 1): 0.79, (2.0, 0): 0.48, (2.0, 1): 0.3})
    out = compare_cells(ref, var, "train_accuracy", 0.5)
    assert out["networks"] == 4 and not out["identical"]
    assert out["status_flips"] == 1  # (2.0, seed 0) crosses 0.5; (1.0, seed 1) moves but stays trained
    assert out["max_abs_diff"] == pytest.approx(0.04) and out["mean_abs_diff"] == pytest.approx(0.0125)
    # seeds: column 1.0 spans 0.1, column 2.0 spans 0.22 and splits (0.52 trained, 0.3 not)
    assert out["seed_mean_abs_diff"] == pytest.approx(0.16) and out["seed_split_columns"] == 1 and out["columns"] == 2
    same = compare_cells(ref, ref.copy(), "train_accuracy", 0.5)
    assert same["identical"] and same["status_flips"] == 0 and same["max_abs_diff"] == 0


def test_compare_refuses_a_cell_of_other_seeds():
    ref = _cell({(1.0, 0): 0.9, (1.0, 1): 0.8})
    with pytest.raises(ValueError, match="lacks rows"):
        compare_cells(ref, _cell({(1.0, 0): 0.9, (1.0, 2): 0.8}), "train_accuracy", 0.5)


def test_substitute_replaces_only_the_cells_depth():
    panel = pd.concat([_cell({(1.0, 0): 0.9}, depth=8), _cell({(1.0, 0): 0.4}, depth=16)], ignore_index=True)
    out = substitute_cells(panel, _cell({(1.0, 0): 0.6}, depth=16))
    got = out[out.metric == "train_accuracy"].set_index("depth")["value"]
    assert got.to_dict() == {8: 0.9, 16: 0.6} and len(out) == len(panel)
