"""Depth-sweep figures: trainability heatmaps with depth-scale lines (Huang et al. 2020, Fig. 7),
the fitted-multiplier summary, and training speed against eta and eta * L (Fig. 6)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from reproflow.plots.style import palette, sequential, size  # noqa: E402

CANDIDATE_LABELS = {"xi_c": r"$\xi_c$", "xi_1": r"$\xi_1$", "min_xi1_xi2": r"$\min(\xi_1,\xi_2)$"}
CANDIDATE_COLUMNS = {"xi_c": "xi_c", "xi_1": "xi_1", "min_xi1_xi2": "xi_min"}


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.log(values) if log else np.asarray(values, float)
    if len(v) == 1:
        mid = np.array([v[0] - 0.5, v[0] + 0.5]) if not log else np.array([v[0] - 0.3, v[0] + 0.3])
    else:
        inner = (v[1:] + v[:-1]) / 2
        mid = np.concatenate([[v[0] - (inner[0] - v[0])], inner, [v[-1] + (v[-1] - inner[-1])]])
    return np.exp(mid) if log else mid


def _geometric(depths: np.ndarray) -> bool:
    if len(depths) < 3:
        return False
    d = np.diff(depths)
    return not np.allclose(d, d[0])


def heatmap_figure(acc: pd.DataFrame, scales: pd.DataFrame, boundaries: pd.DataFrame, fit: pd.DataFrame, title: str) -> plt.Figure:
    """Accuracy over (sw2, L) for one panel, train (dropout on, last batch) and test (dropout off).

    acc: tidy panel table (sw2, depth, seed, metric, value); scales: sw2, xi_1, xi_c, xi_min on a
    fine sw2 grid; boundaries: the panel's rows of the boundary table; fit: the panel's rows of the
    fit table. Lines: 6 xi_c, 12 xi_1, 12 xi_2 (= 12 xi_c) and k * xi of the best-fitting candidate.
    Diverged cells (NaN) are grey.
    """
    metrics = [("train_accuracy", "train accuracy (last batch, dropout on)"), ("test_accuracy", "test accuracy (dropout off)")]
    fig, axes = plt.subplots(1, 2, figsize=size(2.9, 1.47), sharey=True)
    fitted = fit.dropna(subset=["fit_error"])
    best = None if fitted.empty else fitted.loc[fitted["fit_error"].idxmin()]
    for ax, (metric, label) in zip(axes, metrics):
        grid = acc[acc["metric"] == metric].groupby(["sw2", "depth"])["value"].mean().unstack("depth").sort_index()
        sw2 = grid.index.to_numpy(float)
        depths = np.asarray(grid.columns, float)
        logy = _geometric(depths)
        cmap = sequential().with_extremes(bad="0.6")
        mesh = ax.pcolormesh(_edges(sw2, False), _edges(depths, logy), np.ma.masked_invalid(grid.to_numpy().T),
                             cmap=cmap, vmin=0.0, vmax=1.0, shading="flat")
        s = scales.sort_values("sw2")
        x = s["sw2"].to_numpy()
        ax.plot(x, 6 * s["xi_c"], color="white", ls="--", lw=1.6, label=r"$6\,\xi_c$")
        ax.plot(x, 12 * s["xi_1"], color="C9", ls="-", lw=1.6, label=r"$12\,\xi_1$")
        ax.plot(x, 12 * s["xi_c"], color="C6", ls=":", lw=1.8, label=r"$12\,\xi_2$")
        ax.plot(x, 12 * s["xi_min"], color="C1", ls="-.", lw=1.4, label=r"$12\,\min(\xi_1, \xi_2)$")
        if best is not None:
            col = CANDIDATE_COLUMNS[best["candidate"]]
            ax.plot(x, best["k"] * s[col], color="C3", lw=1.8,
                    label=f"fit: {best['k']:.2f} {CANDIDATE_LABELS[best['candidate']]}")
        if metric == "train_accuracy" and not boundaries.empty:
            unc = boundaries[boundaries["censored"] == "none"]
            above = boundaries[boundaries["censored"] == "above"]
            ax.scatter(unc["sw2"], unc["depth_boundary"], marker="o", s=22, facecolor="none", edgecolor="black",
                       lw=1.3, label=r"measured $L_b$ (interpolated)", zorder=5)
            ax.scatter(above["sw2"], above["depth_boundary"], marker="^", s=26, color="black",
                       label=r"$L_b$ censored (all trainable)", zorder=5)
        if logy:
            ax.set_yscale("log")
            ax.set_yticks(depths)
            ax.set_yticklabels([f"{d:g}" for d in depths])
            ax.minorticks_off()
        edges_y = _edges(depths, logy)
        ax.set_ylim(edges_y[0], edges_y[-1])
        ax.set_xlim(_edges(sw2, False)[0], _edges(sw2, False)[-1])
        ax.set_xlabel(r"$\sigma_w^2$")
        ax.set_title(label, fontsize="large")
        fig.colorbar(mesh, ax=ax, fraction=0.046, pad=0.02)
    axes[0].set_ylabel("depth L")
    handles, labels = axes[0].get_legend_handles_labels()
    # grey box: the white 6 xi_c line must stay visible in the legend
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 7), fontsize="small", frameon=True, facecolor="0.7")
    fig.suptitle(title, fontsize="large")
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig


def fit_summary_figure(fit: pd.DataFrame) -> plt.Figure:
    """Left: fitted k (censored fit, 95 % bootstrap interval over seeds and columns) per panel and
    candidate, with the paper's 6 and 12 as bars. Right: the shape error sigma (scatter of ln L_b
    about ln(k xi) at the candidate's own fitted k) with its interval. Panels ``authors_*`` are the
    authors' released heatmaps through the same code (shaded).

    fit: the fit table (panel, candidate, k, k_low, k_high, sigma, sigma_low, sigma_high, paper_k).
    """
    panels = list(dict.fromkeys(fit["panel"]))
    cands = list(dict.fromkeys(fit["candidate"]))
    colors = dict(zip(cands, palette(len(cands))))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=size(max(2.5, 0.28 * len(panels) + 1.25), 1.53))
    width = 0.8 / len(cands)
    for j, c in enumerate(cands):
        sub = fit[fit["candidate"] == c].set_index("panel").reindex(panels)
        xs = np.arange(len(panels)) + (j - (len(cands) - 1) / 2) * width
        for ax, val, lo_c, hi_c in ((ax1, "k", "k_low", "k_high"), (ax2, "sigma", "sigma_low", "sigma_high")):
            v = sub[val].to_numpy(float)
            lo = np.where(np.isfinite(sub[lo_c]), v - sub[lo_c], 0.0)
            hi = np.where(np.isfinite(sub[hi_c]), sub[hi_c] - v, 0.0)
            ax.errorbar(xs, v, yerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="o", color=colors[c], capsize=3,
                        label=CANDIDATE_LABELS[c])
        ax1.scatter(xs, sub["paper_k"], marker="_", s=200, color=colors[c], lw=2)
    for ax in (ax1, ax2):
        ax.set_xticks(np.arange(len(panels)))
        ax.set_xticklabels(panels, rotation=30, ha="right", fontsize="small")
        for i, p in enumerate(panels):
            if str(p).startswith("authors_"):
                ax.axvspan(i - 0.5, i + 0.5, color="0.9", zorder=0)
    ax1.set_yscale("log")
    ax1.set_ylabel(r"k in $L_b = k\,\xi$ (bar: paper's k)")
    ax1.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3)
    ax2.set_ylabel(r"shape error $\sigma$ of $\ln L_b$ about $\ln(k\,\xi)$")
    ax2.legend(fontsize="x-small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    fig.suptitle("Which depth scale predicts the trainable depth? (shaded: the authors' released data, same code)",
                 fontsize="large")
    fig.tight_layout()
    return fig


def speed_figure(df: pd.DataFrame, title: str) -> plt.Figure:
    """Fig. 6 analogue: steps to the target test accuracy, one line per depth, as the paper draws it:
    for rho = 1 against eta and against eta * L (where the depths collapse), for each rho < 1 against
    eta (where they collapse with dropout).

    df: columns rho, depth, seed, lr, lr_times_depth, steps_to_target (NaN = not reached, not drawn).
    """
    if "rho" not in df.columns:
        df = df.assign(rho=1.0)
    g = df.groupby(["rho", "depth", "lr"], as_index=False).agg(steps=("steps_to_target", "mean"),
                                                                 eta_l=("lr_times_depth", "first"))
    panels = []
    for rho in sorted(g["rho"].unique(), reverse=True):
        panels.append((rho, "lr"))
        if rho >= 1.0:
            panels.append((rho, "eta_l"))
    fig, axes = plt.subplots(1, len(panels), figsize=size(1.05 * len(panels), 1.33), squeeze=False)
    axes = axes[0]
    any_reached = bool(np.isfinite(g["steps"]).any())
    for ax, (rho, col) in zip(axes, panels):
        sub_r = g[g["rho"] == rho]
        depths = sorted(sub_r["depth"].unique())
        colours = dict(zip(depths, sequential(max(len(depths), 2))(range(len(depths)))))
        for depth, sub in sub_r.groupby("depth"):
            sub = sub.sort_values("lr")
            ax.plot(sub[col], sub["steps"], "o-", color=colours[depth], label=f"L = {depth}")
        ax.set_xscale("log")
        ax.set_xlim(sub_r[col].min() / 1.5, sub_r[col].max() * 1.5)  # explicit: all-NaN lines give no data limits
        if any_reached:
            ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no run reached the target", transform=ax.transAxes, ha="center")
        ax.set_xlabel(r"learning rate $\eta$" if col == "lr" else r"$\eta \cdot L$")
        ax.set_title(f"rho = {rho:g}" + (" (collapse expected)" if (col == "eta_l") == (rho >= 1.0) else ""),
                     fontsize="medium")
        ax.legend(fontsize="x-small")
    axes[0].set_ylabel("steps to target test accuracy")
    fig.suptitle(title, fontsize="large")
    fig.tight_layout()
    return fig


K_STEPS_LABELS = {"xi_c": "xi_c (paper: 6)", "xi_1": "xi_1 (paper: 12)", "min_xi1_xi2": "min(xi_1, xi_2) (paper: 12)"}


def k_steps_figure(ks: pd.DataFrame) -> plt.Figure:
    """Fitted k (top row) and shape error sigma (bottom row) of every candidate depth scale against training
    steps, one column per project panel. ``ks``: the k_steps table (columns panel, rho, step, candidate, k,
    sigma). The paper's multipliers 6 and 12 are drawn on the k axes: k grows with the training budget,
    the shape comparison (sigma) is what the verdict reads."""
    panels = list(dict.fromkeys(ks["panel"])) or ["(none)"]
    fig, axes = plt.subplots(2, len(panels), figsize=size(0.9 * len(panels), 1.2), squeeze=False, sharex="col")
    pal = palette(len(K_STEPS_LABELS))
    for j, panel in enumerate(panels):
        d = ks[ks["panel"] == panel]
        for c, (name, label) in enumerate(K_STEPS_LABELS.items()):
            dc = d[d["candidate"] == name].sort_values("step")
            axes[0, j].plot(dc["step"], dc["k"], "-o", ms=2, color=pal[c], label=label)
            axes[1, j].plot(dc["step"], dc["sigma"], "-o", ms=2, color=pal[c], label=label)
        for k, ls in ((6, ":"), (12, "--")):
            axes[0, j].axhline(k, color="0.5", ls=ls, lw=0.8)
        rho = f" (rho = {float(d['rho'].iloc[0]):g})" if len(d) and "rho" in d.columns else ""
        axes[0, j].set_title(f"{panel}{rho}", fontsize="small")
        axes[0, j].set_ylabel("fitted k in L_b = k xi")
        axes[1, j].set_ylabel("shape error sigma")
        axes[1, j].set_xlabel("training step")
    axes[0, 0].legend(fontsize="x-small", frameon=False)
    fig.suptitle("Fitted multiplier and shape error against training steps (lines at 6 and 12: the paper's k)")
    fig.tight_layout()
    return fig
