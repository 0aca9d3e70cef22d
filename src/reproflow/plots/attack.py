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

from reproflow.plots.style import size  # noqa: E402
from reproflow.vocab import plot_colours  # noqa: E402

# Order and colours are declared with the attacks (reproflow.vocab): colours are the figure style's palette entries
# (C0..C9 of workflow/resources/figures.mplstyle). SPA and its white-box bound stand out, baselines are thinner;
# oracle twins are dotted.
COLORS = plot_colours()
ATTACK_ORDER = list(COLORS)
STRONG: dict[str, dict[str, Any]] = {"spa": dict(lw=2.6), "joint_pgd": dict(lw=1.8, ls="--"), "reference": dict(lw=1.8, ls=":"),
                                     "spa_oracle": dict(lw=1.8, ls=":"),
          "joint_pgd_oracle": dict(lw=1.4, ls="--")}


def _order(attacks: list[str]) -> list[str]:
    return sorted(attacks, key=lambda a: (ATTACK_ORDER.index(a) if a in ATTACK_ORDER else len(ATTACK_ORDER), a))


def merge_identical(acc: pd.DataFrame) -> pd.DataFrame:
    """Accuracy rows with attacks whose values are identical at every (dataset, model, eps, seed) merged into
    one label ``a = b`` (e.g. AutoAttack run as APGD-CE alone is the APGD-CE cross-check: one run, one line)."""
    out = []
    for _, part in acc.groupby(["dataset", "model"], sort=False):
        wide = part.pivot_table(index=["eps", "seed"], columns="attack", values="value")
        names, merged = _order(list(wide.columns)), {}
        for i, a in enumerate(names):
            if a in merged:
                continue
            same = [b for b in names[i + 1 :] if b not in merged and wide[a].equals(wide[b])]
            for b in same:
                merged[b] = a
            label = " = ".join([a] + same)
            out.append(part[part.attack == a].assign(attack=label))
    return pd.concat(out, ignore_index=True) if out else acc


def accuracy_vs_eps(metrics: pd.DataFrame, title: str = "") -> plt.Figure:
    """One panel per (dataset, model): accuracy (mean over seeds, error bars = std over seeds) against
    eps, one line per attack (attacks with identical numbers drawn once, labelled ``a = b``); the clean
    accuracy as a grey band. ``metrics``: the tidy table."""
    acc = merge_identical(metrics[metrics.metric == "accuracy"])
    clean = metrics[metrics.metric == "clean_accuracy"]
    panels = sorted(acc.groupby(["dataset", "model"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=size(1.3 * len(panels), 1.33), squeeze=False)
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
            base = attack.split(" = ")[0]
            # learned-editor rows: the colour of their attack, dotted
            plain = base.removesuffix("_learned")
            style = {"color": COLORS.get(plain), **STRONG.get(plain, {})}
            if base.endswith("_learned"):
                style["ls"] = ":"
            ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, label=attack, **style)
        n = part.seed.nunique()
        ax.set_title(f"{dataset} ({model}), {n} seed{'s' if n != 1 else ''}")
        ax.set_xlabel("eps (l_inf)")
        ax.set_ylabel("accuracy under attack")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def attribute_histogram(attributes: pd.DataFrame, headline_eps: dict[str, float], bins: int = 20,
                        moved_tol: float = 0.02) -> plt.Figure:
    """Per dataset at its headline eps (all seeds pooled), two panels: the normalised attribute a' each
    semantic attack ended at, drawn over the data's own attribute distribution (grey), and what the attack
    moved, a' - a per sample, with the share of samples moved by more than ``moved_tol`` in the legend.
    Without the ``own`` column (tables written before it existed) only the first panel is drawn."""
    datasets = sorted(attributes.dataset.unique())
    has_own = "own" in attributes.columns
    rows = 2 if has_own else 1
    fig, axes = plt.subplots(rows, max(1, len(datasets)), figsize=size(1.35 * max(1, len(datasets)), 1.2 * rows),
                             squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    moved_edges = np.linspace(-1, 1, 2 * bins + 1)
    for j, dataset in enumerate(datasets):
        ax = axes[0][j]
        eps = headline_eps.get(dataset)
        part = attributes[(attributes.dataset == dataset)]
        if eps is not None:
            part = part[np.isclose(part.eps, eps)]
        # the reconstruction control keeps the attribute by construction: nothing to show
        attacks = [t for t in _order(part.attack.unique().tolist()) if not t.startswith("recon_pgd")]
        if has_own and attacks:
            own = part[part.attack == attacks[0]]["own"].to_numpy()
            ax.hist(own, bins=edges, color="0.85", label=f"data's own attribute (n={len(own)})")
        for attack in attacks:
            v = part[part.attack == attack]["attr"].to_numpy()
            ax.hist(v, bins=edges, histtype="step", lw=2.2 if attack == "spa" else 1.2, color=COLORS.get(attack.removesuffix("_learned")),
                    ls=":" if attack.endswith(("_oracle", "_learned")) else "-", label=f"{attack} (n={len(v)})")
        ax.set_title(f"{dataset}: attribute after the attack, eps={eps:g}" if eps is not None else dataset)
        ax.set_xlabel("normalised attribute a' (0 = range minimum, 1 = maximum)")
        ax.set_ylabel("samples")
        ax.legend(fontsize="x-small")
        ax.grid(alpha=0.3)
        if has_own:
            ax = axes[1][j]
            for attack in attacks:
                p = part[part.attack == attack]
                d = (p["attr"] - p["own"]).to_numpy()
                share = float(np.mean(np.abs(d) > moved_tol)) if len(d) else float("nan")
                ax.hist(d, bins=moved_edges, histtype="step", lw=2.2 if attack == "spa" else 1.2,
                        color=COLORS.get(attack.removesuffix("_learned")),
                        ls=":" if attack.endswith(("_oracle", "_learned")) else "-",
                        label=f"{attack}: {100 * share:.0f}% moved > {moved_tol:g}")
            ax.set_title(f"{dataset}: what the attack moved (a' - own a)")
            ax.set_xlabel("change of the normalised attribute")
            ax.set_ylabel("samples")
            ax.legend(fontsize="x-small")
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
    fig, axes = plt.subplots(n, cols, figsize=size(0.24 * cols + 0.15, 0.35 * n, extra_height=0.3), squeeze=False)

    def show(ax, img, title, ok):
        img = np.clip(np.transpose(img, (1, 2, 0)), 0, 1)
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize="x-small", color="k" if ok else "red")

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
        fontsize="small",
    )
    fig.tight_layout()
    return fig
