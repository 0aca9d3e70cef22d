"""Figures of the advtrain phase: the defence x attack heatmap and the defences' training curves."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from reproflow.plots.style import palette, sequential, size  # noqa: E402


def matrix_heatmap(matrix: pd.DataFrame, headline_eps: dict[str, float], defences: Sequence[str],
                   attacks: Sequence[str], scale: str) -> plt.Figure:
    """One row of panels per dataset at its headline eps: robust accuracy (%) and attack success rate (%)
    as defence x attack heatmaps, cells annotated ``mean ± std`` over seeds.

    ``matrix``: the summary table (dataset, model, attack, eps, metric, mean, std, ...).
    """
    datasets = [d for d in headline_eps if d in set(matrix["dataset"])]
    metrics = [("accuracy", "robust accuracy (%)", sequential()), ("success_rate", "attack success rate (%)", sequential(reverse=True))]
    fig, axes = plt.subplots(len(datasets), 2, squeeze=False,
                             figsize=size(2 * (0.28 * len(attacks) + 0.55), 0.18 * len(defences) * len(datasets), extra_height=0.45))
    for i, dataset in enumerate(datasets):
        eps = headline_eps[dataset]
        sub = matrix[(matrix["dataset"] == dataset) & np.isclose(matrix["eps"], eps)]
        cols = [a for a in attacks if a in set(sub["attack"])] + sorted(set(sub["attack"]) - set(attacks))
        for j, (metric, label, cmap) in enumerate(metrics):
            ax = axes[i][j]
            m = sub[sub["metric"] == metric]
            mean = m.pivot_table(index="model", columns="attack", values="mean").reindex(index=list(defences), columns=cols)
            std = m.pivot_table(index="model", columns="attack", values="std").reindex(index=list(defences), columns=cols)
            im = ax.imshow(100 * mean.to_numpy(dtype=float), cmap=cmap, vmin=0, vmax=100, aspect="auto")
            for r in range(mean.shape[0]):
                for c in range(mean.shape[1]):
                    v, s = mean.iat[r, c], std.iat[r, c]
                    if not math.isfinite(v):
                        continue
                    txt = f"{100 * v:.0f}" + (f"\n±{100 * s:.0f}" if math.isfinite(s) else "")
                    shade = (v if metric == "accuracy" else 1 - v)
                    ax.text(c, r, txt, ha="center", va="center", fontsize="x-small", color="white" if shade < 0.55 else "black")
            ax.set_xticks(range(len(cols)), cols, rotation=35, ha="right", fontsize="small")
            ax.set_yticks(range(len(defences)), list(defences), fontsize="small")
            ax.set_title(f"{dataset}, eps = {eps:g}: {label}", fontsize="medium")
            fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    spread = "mean ± std over seeds" if np.isfinite(matrix["std"].to_numpy(dtype=float)).any() else "one seed: no spread"
    fig.suptitle(f"Defence x attack matrix at the headline eps ({spread}, {scale} scale)", fontsize="large")
    fig.tight_layout()
    return fig


def training_curves(curves: pd.DataFrame, defences: Sequence[str], scale: str,
                    metrics: Sequence[str] = ("train_loss", "test_accuracy", "train_adv_accuracy")) -> plt.Figure:
    """Per dataset (rows) and metric (columns): mean over seeds against epoch, one line per defence, a band of
    +- one std. ``curves``: tidy rows phase, dataset, model, epoch, seed, metric, value."""
    datasets = sorted(curves["dataset"].unique())
    fig, axes = plt.subplots(len(datasets), len(metrics), squeeze=False,
                             figsize=size(0.9 * len(metrics), 0.95 * len(datasets), extra_height=0.2))
    colours = dict(zip(defences, palette(len(defences))))
    for i, dataset in enumerate(datasets):
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            sub = curves[(curves["dataset"] == dataset) & (curves["metric"] == metric)]
            for d in defences:
                g = sub[sub["model"] == d].groupby("epoch")["value"].agg(["mean", "std"]).reset_index()
                if g.empty:
                    continue
                ax.plot(g["epoch"], g["mean"], marker="o", label=d, color=colours.get(d))
                ax.fill_between(g["epoch"], g["mean"] - g["std"].fillna(0), g["mean"] + g["std"].fillna(0),
                                color=colours.get(d), alpha=0.15, lw=0)
            ax.set_title(f"{dataset}: {metric}", fontsize="medium")
            ax.set_xlabel("epoch", fontsize="small")
            ax.grid(True)
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle(f"Defence training curves (mean ± std over seeds; adversarial accuracy on the crafted training "
                 f"examples; {scale} scale)", fontsize="large")
    fig.tight_layout()
    return fig


def plateau_curves(curves: pd.DataFrame, defences: Sequence[str], epochs: int, tolerance: float, coverage: float,
                   scale: str) -> plt.Figure:
    """T2's training-adequacy evidence: one panel per dataset, the plateau probe's robust accuracy (grid-PGD on the
    held-out probe images, metric ``val_robust_accuracy``) against epoch, one colour per defence: the seed mean
    (thick, markers) and each seed (faint). Over the last ``epochs`` epochs a band of +-``tolerance`` around the
    seed mean ``epochs`` epochs before the end shows the window the equivalence test reads; the legend gives each
    defence's change over that window with its ``coverage`` two-way interval and whether it is at its plateau
    (:func:`reproflow.defences.matrix.training_plateau`). ``curves``: tidy rows phase, dataset, model, epoch, seed,
    metric, value."""
    from reproflow.defences.matrix import PLATEAU_METRIC, training_plateau

    probe = curves[curves["metric"] == PLATEAU_METRIC]
    datasets = sorted(probe["dataset"].unique()) or ["(no probe recorded)"]
    verdict = training_plateau(curves, epochs, tolerance, coverage).set_index(["dataset", "defence"])
    fig, axes = plt.subplots(1, len(datasets), squeeze=False, figsize=size(1.3 * len(datasets), 1.2, extra_height=0.3))
    colours = dict(zip(defences, palette(len(defences))))
    for ax, dataset in zip(axes[0], datasets):
        sub = probe[probe["dataset"] == dataset]
        for d in [d for d in defences if d in set(sub["model"])]:
            g = sub[sub["model"] == d]
            for _, s in g.groupby("seed"):
                s = s.sort_values("epoch")
                ax.plot(s["epoch"], s["value"], color=colours[d], alpha=0.25, lw=0.8)
            mean = g.groupby("epoch")["value"].mean().sort_index()
            label = d
            if (dataset, d) in verdict.index:
                v = verdict.loc[(dataset, d)]
                if math.isfinite(v["change"]) and math.isfinite(v["change_low"]):
                    label += (f": {100 * v['change']:+.1f} [{100 * v['change_low']:+.1f}, {100 * v['change_high']:+.1f}]"
                              f" pp, {'plateau' if v['plateau'] else 'not shown flat'}")
                elif math.isfinite(v["change"]):
                    label += f": {100 * v['change']:+.1f} pp, no interval ({v['n_seeds']} seed), not shown flat"
                else:
                    label += f": {v['method']}"
            ax.plot(mean.index, mean.to_numpy(), color=colours[d], marker="o", ms=3, lw=1.8, label=label)
            if len(mean) > epochs:
                start = mean.index[-(epochs + 1)]
                # faint fill and dashed edges: the bands of defences at similar accuracy overlap
                ax.fill_between([start, mean.index[-1]], mean.loc[start] - tolerance, mean.loc[start] + tolerance,
                                color=colours[d], alpha=0.07, lw=0)
                ax.hlines([mean.loc[start] - tolerance, mean.loc[start] + tolerance], start, mean.index[-1],
                          colors=colours[d], linestyles="dashed", lw=0.7)
        ax.set_title(dataset, fontsize="medium")
        ax.set_xlabel("epoch", fontsize="small")
        ax.set_ylabel("probe robust accuracy", fontsize="small")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(True)
        # below the panel: six defences' readings would cover the curves
        ax.legend(fontsize="xx-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig.suptitle(f"Plateau probe (grid-PGD on held-out images) per epoch; thick: mean over seeds, faint: each seed; "
                 f"bands: +-{tolerance:g} over the last {epochs} epochs; legend: change over them with its "
                 f"{100 * coverage:g} % interval (seeds x images), {scale} scale", fontsize="small", wrap=True)
    fig.tight_layout()
    return fig
