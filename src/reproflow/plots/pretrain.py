"""Figures of the pretrain phase: training curves (tidy table in) and the manipulator image grid (its arrays in)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from reproflow.plots.style import size  # noqa: E402

# (model, metric) panels of the training-curve figure, in reading order
CURVE_PANELS = (
    ("classifier", "train_loss"),
    ("classifier", "test_accuracy"),
    ("manipulator", "train_recon"),
    ("manipulator", "test_recon_mse"),
    ("manipulator", "train_edit"),
    ("manipulator", "train_label"),
    ("generator", "train_ce"),
    ("generator", "train_diversity"),
)


def plot_training_curves(df: pd.DataFrame, title: str) -> plt.Figure:
    """One panel per (model, metric) of :data:`CURVE_PANELS` present in ``df``: value against epoch,
    mean over seeds with a +-1 sd band. ``df`` columns: phase, dataset, model, epoch, seed, metric, value."""
    panels = [(m, k) for m, k in CURVE_PANELS if ((df["model"] == m) & (df["metric"] == k)).any()]
    ncols = 2
    nrows = max(1, (len(panels) + ncols - 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=size(2, 0.77 * nrows), squeeze=False)
    for ax, (model, metric) in zip(axes.flat, panels):
        sub = df[(df["model"] == model) & (df["metric"] == metric)]
        sns.lineplot(data=sub, x="epoch", y="value", errorbar="sd", marker="o", ax=ax)
        ax.set_title(f"{model}: {metric}", fontsize="medium")
        ax.set_ylabel("")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize="large")
    fig.tight_layout()
    return fig


def _show(ax: plt.Axes, img: np.ndarray) -> None:
    arr = np.clip(np.transpose(img, (1, 2, 0)), 0, 1)
    gray = arr.shape[-1] == 1
    ax.imshow(arr[..., 0] if gray else arr, cmap="gray" if gray else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_manipulator_grid(
    originals: np.ndarray, learned: np.ndarray, oracle: np.ndarray | None, column_labels: list[str],
    row_labels: list[str], title: str,
) -> plt.Figure:
    """Rows: test images. Columns: the input | its attribute sweep by the learned manipulator | the
    same sweep by the oracle (when given). originals [N, C, H, W]; learned / oracle [N, S, C, H, W]; values in [0, 1]
    (the arrays of collect_pretrain's manipulator_sweep.npz)."""
    n, s = learned.shape[0], learned.shape[1]
    blocks = [("learned", learned)] + ([("oracle", oracle)] if oracle is not None else [])
    ncols = 1 + s * len(blocks)
    fig, axes = plt.subplots(n, ncols, figsize=size(0.225 * ncols + 0.15, 0.32 * n, extra_height=0.27), squeeze=False)
    for i in range(n):
        _show(axes[i][0], originals[i])
        axes[i][0].set_ylabel(row_labels[i], fontsize="x-small")
        for b, (name, imgs) in enumerate(blocks):
            for j in range(s):
                ax = axes[i][1 + b * s + j]
                _show(ax, imgs[i, j])
                if i == 0:
                    ax.set_title(f"{name}\n{column_labels[j]}" if j == 0 else column_labels[j], fontsize="x-small")
    axes[0][0].set_title("input", fontsize="x-small")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig
