"""The plateau-probe figure of the advtrain phase (issue 21): what it draws follows the tidy curves and the rule."""

from __future__ import annotations

import numpy as np

from tests.unit.test_defences_matrix import _curves, _probe


def test_plateau_curves_draw_every_seed_the_mean_and_the_rule() -> None:
    """One panel per dataset; per defence a faint line per seed and a thick seed mean; a band over the last epochs;
    the legend carries the rule's reading (flat: plateau; rising: not shown flat)."""
    import pandas as pd

    from reproflow.plots.advtrain import plateau_curves

    rng = np.random.default_rng(0)
    flat, rising = [-0.1, 0.0, 0.0, 0.0, 0.0], [-0.2, -0.15, -0.1, -0.05, 0.0]
    curves = pd.concat([_curves({"spa_at": _probe(3, 500, flat, rng), "pgd_at": _probe(3, 500, rising, rng)}),
                        _curves({"spa_at": _probe(2, 300, flat, rng)}, dataset="mnist_rot")])
    fig = plateau_curves(curves, ["standard", "pgd_at", "spa_at"], epochs=2, tolerance=0.04, coverage=0.9,
                         scale="unit")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["digits_rot", "mnist_rot"]
    assert len(axes[0].lines) == 2 * (3 + 1) and len(axes[1].lines) == 2 + 1
    assert len(axes[0].collections) == 2 * 2  # a tolerance band per defence: its fill and its dashed edges
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert labels[0].startswith("pgd_at") and labels[0].endswith("not shown flat")
    assert labels[1].startswith("spa_at") and labels[1].endswith(", plateau")
    mean = axes[0].lines[-1].get_ydata()
    assert np.allclose(mean, _seed_mean(curves, "digits_rot", "spa_at"))


def _seed_mean(curves, dataset: str, defence: str) -> np.ndarray:
    from reproflow.defences.matrix import PLATEAU_METRIC

    sel = curves[(curves.dataset == dataset) & (curves.model == defence) & (curves.metric == PLATEAU_METRIC)]
    return sel.groupby("epoch")["value"].mean().sort_index().to_numpy()


def test_matrix_heatmap_says_when_there_is_no_spread_over_seeds() -> None:
    """Cells carry mean ± std over seeds; a one-seed run (std NaN: the quick scale trains its defences at one seed)
    shows the mean alone, and the title says so instead of promising a spread."""
    import pandas as pd

    from reproflow.plots.advtrain import matrix_heatmap

    rows = [{"dataset": "digits_rot", "model": m, "attack": a, "eps": 0.03, "metric": k, "mean": 0.5, "std": 0.1}
            for m in ("standard", "spa_at") for a in ("pgd", "spa") for k in ("accuracy", "success_rate")]
    two = pd.DataFrame(rows)
    for matrix, title, cell in ((two, "mean ± std over seeds", "50\n±10"),
                                (two.assign(std=np.nan), "one seed: no spread", "50")):
        fig = matrix_heatmap(matrix, {"digits_rot": 0.03}, ["standard", "spa_at"], ["pgd", "spa"], "unit")
        assert title in fig._suptitle.get_text()
        assert fig.axes[0].texts[0].get_text() == cell
