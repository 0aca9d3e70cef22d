"""Figures of the mean-field phase (Huang et al. 2020, Figs 1-5 analogues). Each function takes the
phase's tables (DataFrames) and returns a matplotlib Figure; the CLI saves it."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from reproflow.plots.style import palette, sequential, size  # noqa: E402


def _rho_colors(rhos) -> dict:
    rhos = sorted(set(rhos), reverse=True)
    return dict(zip(rhos, sequential(max(len(rhos), 2))(range(len(rhos)))))


def plot_forward(df: pd.DataFrame) -> plt.Figure:
    """Fig. 1 analogue, one column per caption setting, colour = rho. Top two rows, the paper's form:
    the one-step q-map q^l against q^(l-1) and c-map c^l against c^(l-1) (theory lines, Monte Carlo
    mean +- s.e. over the inputs of each point, identity dashed). Bottom two rows: q^l and c^l iterated
    over layers, theory lines vs Monte Carlo (mean +- s.e. over draws), dashed at the fixed points."""
    settings = list(dict.fromkeys(df.setting))
    colors = _rho_colors(df.rho)
    maps = [q for q in ("q_map", "c_map") if q in set(df.quantity)]
    rows = maps + ["q", "c"]
    fig, axes = plt.subplots(len(rows), len(settings), figsize=size(0.8 * len(settings), 0.93 * len(rows)), squeeze=False)
    for j, st in enumerate(settings):
        d = df[df.setting == st]
        row0 = d.iloc[0]
        for i, quantity in enumerate(rows):
            ax = axes[i, j]
            dq = d[d.quantity == quantity]
            if quantity in ("q_map", "c_map"):
                xcol = "input_q" if quantity == "q_map" else "input_c"
                for rho, dr in dq.groupby("rho", sort=False):
                    dr = dr.sort_values(xcol)
                    col = colors[rho]
                    ax.plot(dr[xcol], dr.theory, "-", color=col, lw=1.2, label=f"rho={rho:g}")
                    ok = np.isfinite(dr.mc_mean)
                    ax.errorbar(dr[xcol][ok], dr.mc_mean[ok], yerr=dr.mc_se[ok], fmt="o", ms=2.5, color=col,
                                capsize=1.5, elinewidth=0.8)
                lim = [dq[xcol].min(), dq[xcol].max()]
                ax.plot(lim, lim, "k--", lw=0.7)
                if quantity == "q_map" and np.nanmax(dq.theory) > 4 * lim[1]:
                    ax.set_yscale("log")
                ax.set_xlabel("q^(l-1)" if quantity == "q_map" else "c^(l-1) (at q*)")
                ax.set_ylabel("q^l" if quantity == "q_map" else "c^l")
                if quantity == "c_map" and not np.isfinite(d.q_star).all():
                    ax.text(0.02, 0.9, "no MC where q* = inf", transform=ax.transAxes, fontsize="xx-small")
            else:
                for rho, dr in dq.groupby("rho", sort=False):
                    col = colors[rho]
                    for _, di in dr.groupby("series", sort=False):
                        ax.plot(di.layer, di.theory, "-", color=col, lw=1.2)
                        ax.errorbar(di.layer, di.mc_mean, yerr=di.mc_se, fmt="o", ms=2.5, color=col, capsize=1.5,
                                    elinewidth=0.8)
                    fixed = dr.q_star.iloc[0] if quantity == "q" else dr.c_star.iloc[0]
                    if math.isfinite(fixed):
                        ax.axhline(fixed, color=col, ls="--", lw=0.8)
                    ax.plot([], [], "-o", color=col, ms=3, label=f"rho={rho:g}" + ("" if math.isfinite(
                        dr.q_star.iloc[0]) else " (q* = inf)"))
                if quantity == "q" and not np.isfinite(d.q_star).all():
                    ax.set_yscale("log")
                ax.set_xlabel("layer l")
                ax.set_ylabel("q^l" if quantity == "q" else "c^l")
            if i == 0:
                ax.set_title(f"{row0.activation}: sigma_w^2={row0.sw2:g}, sigma_b^2={row0.sb2:g}", fontsize="medium")
            if j == 0 or quantity in ("q", "q_map"):
                ax.legend(fontsize="xx-small", frameon=False)
    fig.suptitle("Forward signal propagation: one-step q- and c-maps (top, the paper's Fig. 1 form) and their "
                 "iterations over depth (bottom); theory lines, finite-width Monte Carlo points (mean +- s.e.)",
                 fontsize="medium")
    fig.tight_layout()
    return fig


def plot_phase_diagram(pdg: pd.DataFrame, crit: pd.DataFrame) -> plt.Figure:
    """xi_1 and xi_c over (sw2, rho) per activation (log colour scale), the chi_1 = 1 line over rho and
    the rho = 1 critical sw2 (vertical dashed line)."""
    acts = list(dict.fromkeys(pdg.activation))
    sb2 = sorted(pdg.sb2.unique())[0]
    pdg = pdg[pdg.sb2 == sb2]
    fig, axes = plt.subplots(len(acts), 2, figsize=size(2.5, 0.77 * len(acts)), squeeze=False)
    for i, act in enumerate(acts):
        d = pdg[pdg.activation == act]
        rhos = sorted(d.rho.unique())
        sw2 = np.sort(d.sw2.unique())
        cr = crit[(crit.activation == act) & (crit.sb2 == sb2)].set_index("rho")["sw2_critical"]
        for j, col in enumerate(("xi_1", "xi_c")):
            ax = axes[i, j]
            z = d.pivot(index="rho", columns="sw2", values=col).loc[rhos, sw2].to_numpy()
            z = np.clip(np.where(np.isfinite(z), z, 1e4), 0.1, 1e4)
            y_edges = np.arange(len(rhos) + 1) - 0.5
            step = sw2[1] - sw2[0] if len(sw2) > 1 else 1.0
            x_edges = np.concatenate([sw2 - step / 2, [sw2[-1] + step / 2]])
            mesh = ax.pcolormesh(x_edges, y_edges, z, cmap=sequential(),
                                 norm=matplotlib.colors.LogNorm(vmin=max(z.min(), 0.1), vmax=max(z.max(), 1.0)))
            fig.colorbar(mesh, ax=ax, pad=0.01).set_label(col)
            ys = [k for k, r in enumerate(rhos) if r in cr.index and np.isfinite(cr[r]) and sw2[0] <= cr[r] <= sw2[-1]]
            if ys:
                ax.plot([cr[rhos[k]] for k in ys], ys, "c.-", lw=1, ms=4, label="chi_1 = 1")
            if 1.0 in cr.index and np.isfinite(cr[1.0]) and sw2[0] <= cr[1.0] <= sw2[-1]:
                ax.axvline(cr[1.0], color="w", ls="--", lw=1, label=f"rho=1 critical sw2={cr[1.0]:.3f}")
            ax.set_yticks(range(len(rhos)))
            ax.set_yticklabels([f"{r:g}" for r in rhos], fontsize="x-small")
            ax.set_ylabel("rho (keep prob.)")
            ax.set_xlabel("sigma_w^2")
            title = f"{act}: {col} (sigma_b^2={sb2:g})"
            if col == "xi_c" and not np.isfinite(d.q_star).all():
                title += "\nwhere q* = inf: pair-gradient depth scale, not the c-map slope"
            ax.set_title(title, fontsize="small")
            if ys or 1.0 in cr.index:
                ax.legend(fontsize="xx-small", loc="upper right", framealpha=0.6)
    fig.tight_layout()
    return fig


def plot_gradients(layers: pd.DataFrame, rates: pd.DataFrame) -> plt.Figure:
    """Figs 2-3 analogue: g_aa, tilde g_ab and |g_ab| (+- s.e.; open markers where g_ab < 0) against
    layer, log scale, with chi_1^(L-l) and chi_c^(L-l) references through the top layer's g_aa and the
    linear no-GIA closed forms where they apply."""
    if "backward" in layers.columns:
        layers = layers[layers.backward == "exact"]
    if "backward" in rates.columns:
        rates = rates[rates.backward == "exact"]
    runs = list(dict.fromkeys(layers.run))
    ncol = min(4, len(runs))
    nrow = math.ceil(len(runs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=size(1.05 * ncol, 1.13 * nrow), squeeze=False)
    pal = palette(3)
    for ax, run in zip(axes.flat, runs):
        d = layers[layers.run == run]
        first = d.iloc[0]
        L = int(first.depth)
        aa, ab, tg = (d[d.metric == m].sort_values("layer") for m in ("g_aa", "g_ab", "tg_ab"))
        ax.plot(aa.layer, aa["mean"], "o", ms=2.5, color=pal[0], label="g_aa")
        ax.plot(tg.layer, tg["mean"], "s", ms=2.5, color=pal[1], label="tilde g_ab")
        pos = ab["mean"] >= 0
        ax.errorbar(ab.layer[pos], ab["mean"][pos].abs(), yerr=ab.se[pos], fmt="^", ms=2.5, color=pal[2],
                    elinewidth=0.6, label="|g_ab| (+- s.e.)")
        ax.errorbar(ab.layer[~pos], ab["mean"][~pos].abs(), yerr=ab.se[~pos], fmt="^", ms=2.5, mfc="none",
                    color=pal[2], elinewidth=0.6, label="|g_ab|, g_ab<0")
        top = aa[aa.layer == L]["mean"].iloc[0]
        ks = L - aa.layer.to_numpy()
        ax.plot(aa.layer, top * first.chi_1**ks, "k-", lw=1, label=f"chi_1^(L-l), chi_1={first.chi_1:.3f}")
        ax.plot(aa.layer, top * first.chi_c**ks, "k:", lw=1, label=f"chi_c^(L-l), chi_c={first.chi_c:.3f}")
        if np.isfinite(aa.no_gia).any():
            ax.plot(aa.layer, aa.no_gia, "-", color=pal[0], lw=0.8, alpha=0.7, label="g_aa no-GIA (exact)")
            ax.plot(ab.layer, ab.no_gia, "-", color=pal[2], lw=0.8, alpha=0.7, label="g_ab no-GIA (exact)")
        r = rates[(rates.run == run) & (rates.curve == "g_aa")]
        slope = f", fit ln-rate g_aa={r.slope.iloc[0]:.4f}" if len(r) else ""
        ax.set_yscale("log")
        role = f" [{first.role}]" if "role" in d.columns else ""
        ax.set_title(f"{first.activation} sw2={first.sw2:g} rho={first.rho:g} N={int(first.width)}{role}{slope}",
                     fontsize="small")
        ax.set_xlabel("layer l")
        ax.set_ylabel("gradient statistic")
        ax.legend(fontsize="xx-small", frameon=False, loc="lower right")
    for ax in list(axes.flat)[len(runs):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_universality(slopes: pd.DataFrame, points: pd.DataFrame) -> plt.Figure:
    """Figs 4-5 analogue: log V against log m per metric, one colour per run, slope-2 reference."""
    metrics = ("g_aa", "tg_ab", "g_ab")
    names = {"g_aa": "g_aa", "tg_ab": "tilde g_ab", "g_ab": "|g_ab| (significant layers)"}
    runs = list(dict.fromkeys(points.run))
    pal = dict(zip(runs, palette(len(runs))))
    fig, axes_all = plt.subplots(2, 3, figsize=size(3.75, 2.87))
    axes = axes_all[0]
    for ax, m in zip(axes, metrics):
        d = points[points.metric == m]
        for run in runs:
            dr = d[d.run == run]
            s = slopes[(slopes.run == run) & (slopes.metric == m)]
            lab = f"{run}: {s.slope.iloc[0]:.2f} [{s.ci_low.iloc[0]:.2f}, {s.ci_high.iloc[0]:.2f}]" if len(s) and \
                np.isfinite(s.slope.iloc[0]) else f"{run}: n/a"
            ax.loglog(dr.m, dr.V, "o", ms=3, color=pal[run], label=lab)
        if len(d):
            lo, hi = d.m[d.m > 0].min(), d.m.max()
            ref_m = np.geomspace(lo, hi, 10)
            anchor = np.exp(np.median(np.log(d.V[d.m > 0]) - 2 * np.log(d.m[d.m > 0])))
            ax.loglog(ref_m, anchor * ref_m**2, "k--", lw=1, label="slope 2 (V ~ m^2)")
        pooled = slopes[(slopes.run == "pooled") & (slopes.metric == m)]
        title = names[m]
        if len(pooled) and np.isfinite(pooled.slope.iloc[0]):
            p = pooled.iloc[0]
            title += (f"\npooled slope {p.slope:.3f} [{p.ci_low:.3f}, {p.ci_high:.3f}] over "
                      f"{p.m_decades:.0f} decades of m")
        ax.set_xlabel("mean m over draws")
        ax.set_ylabel("variance V over draws")
        ax.set_title(title, fontsize="medium")
        ax.legend(fontsize="xx-small", frameon=False, ncol=2)
    for ax, m in zip(axes_all[1], metrics):
        d = points[points.metric == m]
        for run in runs:
            dr = d[d.run == run]
            ax.semilogy(dr.layer, dr.cv2, "o-", ms=2.5, lw=0.7, color=pal[run])
        ax.set_xlabel("layer l")
        ax.set_ylabel("V / m^2 (squared coefficient of variation)")
        ax.set_title(f"{names[m]}: V/m^2 against depth (constant if V ~ m^2 held layer by layer)", fontsize="small")
    fig.suptitle("Universality of gradient fluctuations: per-run and pooled log-log slopes with bootstrap-over-draws "
                 "95% intervals (top); V/m^2 against depth (bottom)", fontsize="large")
    fig.tight_layout()
    return fig


def plot_gia_counterfactual(layers: pd.DataFrame, table: pd.DataFrame) -> plt.Figure:
    """The same network draws backpropagated exactly (filled) and through independent weight copies
    (the GIA made real, open markers): signed mean g_ab (+- s.e.; points at |mean|, only where it is
    more than 2 s.e. from zero) and the spread sd(g_ab), with chi_1^k and chi_c^k through the top
    layer, and for linear runs the exact large-N no-GIA mean (the authors' formula); panel titles give both
    fitted signed-mean rates in GIA-separation units u (0 = xi_1, 1 = xi_c) with their intervals and the
    paired difference over the same draws."""
    runs = [r for r in dict.fromkeys(layers.run) if r in set(table.run)]
    ncol = min(4, len(runs))
    nrow = max(1, math.ceil(len(runs) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=size(1.05 * ncol, 1.13 * nrow), squeeze=False)
    pal = palette(3)
    for ax, run in zip(axes.flat, runs):
        d = layers[(layers.run == run) & (layers.metric == "g_ab")]
        first = d.iloc[0]
        L = int(first.depth)
        for backward, mk, fill in (("exact", "o", None), ("gia", "s", "none")):
            db = d[d.backward == backward].sort_values("layer")
            sig = db["mean"].abs() > 2 * db.se
            ax.errorbar(db.layer[sig], db["mean"][sig].abs(), yerr=db.se[sig], fmt=mk, ms=3, mfc=fill,
                        color=pal[0], elinewidth=0.6, label=f"|mean g_ab| {backward}")
            ax.plot(db.layer, db.sd, mk, ms=2, mfc=fill, color=pal[1], alpha=0.8, label=f"sd g_ab {backward}")
        top = d[(d.backward == "exact") & (d.layer == L)]["mean"].abs().iloc[0]
        ks = L - np.arange(1, L + 1)
        ax.plot(np.arange(1, L + 1), top * first.chi_1**ks, "k-", lw=0.9, label=f"chi_1^k ({first.chi_1:.3f})")
        ax.plot(np.arange(1, L + 1), top * first.chi_c**ks, "k:", lw=0.9, label=f"chi_c^k ({first.chi_c:.3f})")
        th = d[d.backward == "exact"].sort_values("layer")
        if "no_gia" in th.columns and np.isfinite(th.no_gia).any():
            # the authors' exact large-N linear no-GIA curve: what the measured exact mean should follow
            ax.plot(th.layer, th.no_gia.abs(), "-", color=pal[2], lw=1.1, label="|E g_ab| no-GIA theory (exact)")
        t = table[(table.run == run) & (table.curve == "g_ab_mean")]
        sub = ""
        if len(t):
            r = t.iloc[0]
            sub = (f"\nmean g_ab rate u: exact {r.exact_u:.2f} [{r.exact_u_low:.2f}, {r.exact_u_high:.2f}], "
                   f"GIA {r.gia_u:.2f} [{r.gia_u_low:.2f}, {r.gia_u_high:.2f}]")
            if "du" in t.columns and np.isfinite(r.du):
                sub += f"\npaired exact - GIA: {r.du:+.2f} [{r.du_low:+.2f}, {r.du_high:+.2f}]"
        ax.set_yscale("log")
        lo = max(d["sd"][d["sd"] > 0].min(), top * 1e-12) if (d["sd"] > 0).any() else None
        if lo:
            ax.set_ylim(bottom=lo / 3)
        ax.set_title(f"{first.activation} sw2={first.sw2:g} rho={first.rho:g} N={int(first.width)}{sub}", fontsize="x-small")
        ax.set_xlabel("layer l")
        ax.set_ylabel("g_ab statistic")
        ax.legend(fontsize="xx-small", frameon=False, loc="lower right")
    for ax in list(axes.flat)[len(runs):]:
        ax.axis("off")
    fig.suptitle("GIA counterfactual: exact backprop (filled) vs backprop through independent weight copies (open)",
                 fontsize="large")
    fig.tight_layout(rect=(0, 0, 1, 0.975))  # keep the three-line panel titles clear of the suptitle
    return fig
