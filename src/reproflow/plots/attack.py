"""Figures of the attack phase: accuracy vs eps, chosen-attribute histogram, image grid.

Each function takes tidy data (or the image-grid arrays) and returns a matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# Fixed order and styles: SPA and its white-box bound stand out, baselines are thinner.
ATTACK_ORDER = ["fgsm", "pgd", "apgd_ce", "autoattack", "attribute", "generator", "spa", "joint_pgd",
                "attribute_oracle", "generator_oracle", "spa_oracle", "joint_pgd_oracle"]
COLORS = {"fgsm": "#9ecae1", "pgd": "#3182bd", "apgd_ce": "#6baed6", "autoattack": "#08519c",
          "attribute": "#31a354", "generator": "#fd8d3c", "spa": "#d62728", "joint_pgd": "black",
          "attribute_oracle": "#a1d99b", "generator_oracle": "#fdd0a2", "spa_oracle": "#d62728", "joint_pgd_oracle": "0.4"}
STRONG = {"spa": dict(lw=2.6), "joint_pgd": dict(lw=1.8, ls="--"), "spa_oracle": dict(lw=1.8, ls=":"),
          "joint_pgd_oracle": dict(lw=1.4, ls="--")}


def _order(attacks: list[str]) -> list[str]:
    return sorted(attacks, key=lambda a: (ATTACK_ORDER.index(a) if a in ATTACK_ORDER else len(ATTACK_ORDER), a))


def accuracy_vs_eps(metrics: pd.DataFrame, title: str = "") -> plt.Figure:
    """One panel per (dataset, model): accuracy (mean over seeds, error bars = std over seeds) against
    eps, one line per attack; the clean accuracy as a grey band. ``metrics``: the tidy table."""
    acc = metrics[metrics.metric == "accuracy"]
    clean = metrics[metrics.metric == "clean_accuracy"]
    panels = sorted(acc.groupby(["dataset", "model"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, (dataset, model) in zip(axes[0], panels):
        part = acc[(acc.dataset == dataset) & (acc.model == model)]
        c = clean[(clean.dataset == dataset) & (clean.model == model)].groupby("seed")["value"].first()
        if len(c):
            ax.axhspan(c.mean() - c.std(ddof=1 if len(c) > 1 else 0), c.mean() + c.std(ddof=1 if len(c) > 1 else 0),
                       color="0.85", zorder=0)
            ax.axhline(c.mean(), color="0.5", lw=1, label="clean")
        for attack in _order(part.attack.unique().tolist()):
            g = part[part.attack == attack].groupby("eps")["value"]
            mean, std = g.mean(), g.std(ddof=1).fillna(0.0)
            style = {"lw": 1.2, "color": COLORS.get(attack), **STRONG.get(attack, {})}
            ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", ms=3.5, capsize=3, label=attack, **style)
        n = part.seed.nunique()
        ax.set_title(f"{dataset} ({model}), {n} seed{'s' if n != 1 else ''}")
        ax.set_xlabel("eps (l_inf)")
        ax.set_ylabel("accuracy under attack")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def attribute_histogram(attributes: pd.DataFrame, headline_eps: dict[str, float], bins: int = 20) -> plt.Figure:
    """One panel per dataset: histogram of the normalised attribute a' each semantic attack chose
    (all seeds pooled) at the dataset's headline eps; 0 and 1 are the range's edges."""
    datasets = sorted(attributes.dataset.unique())
    fig, axes = plt.subplots(1, max(1, len(datasets)), figsize=(5.2 * max(1, len(datasets)), 3.8), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for ax, dataset in zip(axes[0], datasets):
        eps = headline_eps.get(dataset)
        part = attributes[(attributes.dataset == dataset)]
        if eps is not None:
            part = part[np.isclose(part.eps, eps)]
        for attack in _order(part.attack.unique().tolist()):
            v = part[part.attack == attack]["attr"].to_numpy()
            ax.hist(v, bins=edges, histtype="step", lw=2.2 if attack == "spa" else 1.2, color=COLORS.get(attack),
                    ls=":" if attack.endswith("_oracle") else "-", label=f"{attack} (n={len(v)})")
        ax.set_title(f"{dataset}: attribute chosen at eps={eps:g}" if eps is not None else dataset)
        ax.set_xlabel("normalised attribute a' (0 = range minimum, 1 = maximum)")
        ax.set_ylabel("samples")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def examples_grid(ex: dict[str, Any], dataset: str) -> plt.Figure:
    """Rows: test images. Columns: original | attribute sweep (judge's prediction above each) |
    x_a + NG(x_a, z) for several z at SPA's chosen attribute (target's prediction) | SPA's example.
    A red title marks a prediction that differs from the true label."""
    x, sweep, noisy, adv = ex["x"], ex["sweep"], ex["noisy"], ex["spa_adv"]
    n, k, m = x.shape[0], sweep.shape[1], noisy.shape[1]
    lo, hi = (float(v) for v in ex["attribute_range"])
    name = str(ex.get("attribute_name", "attribute"))
    unit = "°" if name.startswith("rot") or name == "angle" else ""
    labels = ex["labels"]
    cols = 1 + k + m + 1
    fig, axes = plt.subplots(n, cols, figsize=(0.95 * cols + 0.6, 1.05 * n + 0.9), squeeze=False)

    def show(ax, img, title, ok):
        img = np.clip(np.transpose(img, (1, 2, 0)), 0, 1)
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=1)
        ax.set_xticks([]); ax.set_yticks([])
        ax.set_title(title, fontsize=7, color="k" if ok else "red")

    def nat(v):
        return f"{lo + float(v) * (hi - lo):+.0f}{unit}" if unit else f"{float(v):.2f}"

    for i in range(n):
        y = int(labels[i])
        show(axes[i][0], x[i], f"y={y}", True)
        for j in range(k):
            p = int(ex["sweep_judge"][i, j])
            show(axes[i][1 + j], sweep[i, j], f"{nat(ex['sweep_values'][j])}→{p}", p == y)
        for j in range(m):
            p = int(ex["noisy_pred"][i, j])
            show(axes[i][1 + k + j], noisy[i, j], f"z{j + 1}→{p}", p == y)
        p = int(ex["spa_pred"][i])
        show(axes[i][-1], adv[i], f"SPA {nat(ex['attr'][i])}→{p}", p == y)
    axes[0][0].set_ylabel("")
    fig.suptitle(
        f"{dataset}: original | attribute sweep ({name}; judge's prediction) | "
        f"x_a + noise for {m} codes z at SPA's attribute (eps={float(ex['eps']):g}; target's prediction) | SPA",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
