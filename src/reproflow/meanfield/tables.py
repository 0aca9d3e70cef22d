"""Build the mean-field phase's tables (pandas) from the theory, Monte Carlo and gradient code.

Column conventions are documented in docs/meanfield.md. Library code: paths come from the caller.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reproflow.errors import UserError
from reproflow.settings.sections import (
    MeanfieldForward,
    MeanfieldGradientsMeasure,
    MeanfieldGradientsRunsItem,
    MeanfieldTheory,
)

log = logging.getLogger(__name__)

PHASE_COLUMNS = ["activation", "sw2", "sb2", "rho", "q_star", "c_star", "chi_1", "chi_c", "chi_q",
                 "xi_1", "xi_c", "xi_q"]
METRICS = ("g_aa", "g_ab", "tg_ab")


def sw2_grid(lo: float, hi: float, step: float) -> list[float]:
    """lo, lo + step, ..., hi as exact decimals (rounded to 10 places so 1.0..4.0 step 0.01 hits 1.76)."""
    n = int(round((hi - lo) / step))
    if n < 0 or not math.isclose(lo + n * step, hi, rel_tol=0, abs_tol=1e-9):
        raise UserError(f"meanfield.sw2_max - sw2_min = {hi - lo} is not a multiple of sw2_step = {step}")
    return [round(lo + i * step, 10) for i in range(n + 1)]


def phase_diagram_table(activations: Sequence[str], sw2: Sequence[float], sb2: Sequence[float],
                        rho: Sequence[float]) -> pd.DataFrame:
    """One row per (activation, sw2, sb2, rho) with the columns of :data:`PHASE_COLUMNS` and ``xi_c_kind``."""
    import torch

    from reproflow.meanfield import theory

    S, B, R = torch.meshgrid(*(torch.tensor(v, dtype=torch.float64) for v in (sw2, sb2, rho)), indexing="ij")
    frames = []
    for act in activations:
        fp = theory.fixed_points(act, S.flatten(), B.flatten(), R.flatten())
        cols = {k: getattr(fp, k).numpy() for k in PHASE_COLUMNS[4:]}
        frames.append(pd.DataFrame({"activation": act, "sw2": S.flatten().numpy(), "sb2": B.flatten().numpy(),
                                    "rho": R.flatten().numpy(), **cols}))
        log.info("phase diagram: %s done (%d points)", act, S.numel())
    out = pd.concat(frames, ignore_index=True)[PHASE_COLUMNS]
    # where q* diverges, chi_c = sw2 E[phi'(u1) phi'(u2)] at the limiting c* is the rate of the pair
    # gradients, not the slope of the limiting c-map (for ReLU that slope is 2 rho E[phi'phi'] < 1)
    out["xi_c_kind"] = np.where(np.isfinite(out["q_star"]), "c_map_slope",
                                "pair_gradient_rate_q_star_inf_not_c_map_slope")
    return out


def critical_table(activations: Sequence[str], sb2: Sequence[float], rho: Sequence[float], lo: float,
                   hi: float) -> pd.DataFrame:
    """sw2 at which chi_1 = 1 per (activation, sb2, rho); nan when no crossing in [lo, hi]."""
    import torch

    from reproflow.meanfield import theory

    B, R = torch.meshgrid(torch.tensor(sb2, dtype=torch.float64), torch.tensor(rho, dtype=torch.float64),
                          indexing="ij")
    rows = []
    for act in activations:
        crit = theory.critical_sw2(act, B.flatten(), R.flatten(), lo, hi)
        for b, r, c in zip(B.flatten().tolist(), R.flatten().tolist(), crit.tolist()):
            rows.append({"activation": act, "sb2": b, "rho": r, "sw2_critical": c})
    return pd.DataFrame(rows)


def caption_table(captions: Sequence[Any]) -> pd.DataFrame:
    """The paper's Fig. 1 caption values next to ours (computed; inf q* kept as inf).

    Each caption carries the significant figures it is judged at; ``tolerance`` is half a unit of
    the last of them (|ours - paper| <= tolerance: ours rounds to the quoted value);
    ``printed_tolerance`` the same at the figures as printed (12.450 has 5). q* rows also get
    ``authors_scheme``: q* by the authors' released numerical scheme (:func:`theory.riemann_q_star`),
    to show where the authors' own code gives our number.
    """
    import torch

    from reproflow.meanfield import theory
    from reproflow.settings import dump

    # one record per caption (params.yaml meanfield.captions); the caption's value is the paper's number
    recs = [{("paper" if k == "value" else k): v for k, v in dump(c).items()} for c in captions]
    recs = [dict(r, paper=float(r["paper"])) for r in recs]
    rows = []
    for r in recs:
        if r["quantity"] not in ("q_star", "c_star"):
            raise UserError(f"meanfield.captions: quantity must be q_star or c_star, got {r['quantity']!r}")
        fp = theory.fixed_points(r["activation"], r["sw2"], r["sb2"], torch.tensor([r["rho"]], dtype=torch.float64))
        ours = float(getattr(fp, r["quantity"])[0])
        paper = r["paper"]
        tol = (0.5 * 10.0 ** (math.floor(math.log10(abs(paper))) - r["sig_figs"] + 1)
               if math.isfinite(paper) and paper != 0 else 0.0)
        authors = (theory.riemann_q_star(r["activation"], r["sw2"], r["sb2"], r["rho"])
                   if r["quantity"] == "q_star" else math.nan)
        printed_tol = (0.5 * 10.0 ** (math.floor(math.log10(abs(paper))) - r["printed_figs"] + 1)
                       if math.isfinite(paper) and paper != 0 else 0.0)
        rows.append({**r, "ours": ours, "abs_diff": abs(ours - paper) if math.isfinite(paper) else
                     (0.0 if ours == paper else math.inf), "tolerance": tol, "printed_tolerance": printed_tol,
                     "authors_scheme": authors,
                     "ours_minus_authors_scheme": ours - authors if math.isfinite(authors) else math.nan})
    return pd.DataFrame(rows)


def forward_table(settings: Sequence[dict], rho_grid: Sequence[float], input_q: Sequence[float],
                  input_c: Sequence[float], width: int, depth: int, draws: int, seed: int, device,
                  map_q: Sequence[float], map_c: Sequence[float], map_inputs: int) -> pd.DataFrame:
    """Monte Carlo q^l, c^l (mean, s.e. over draws) and theory per layer, setting, rho and input
    (``quantity`` q, c), and the one-step maps as the paper's Fig. 1 draws them (``quantity`` q_map:
    q^l against q^(l-1) = ``input_q``; c_map: c^l against c^(l-1) = ``input_c`` at q*; mean and s.e.
    over ``map_inputs`` inputs per point, ``layer`` 1). Random numbers are drawn on ``device``."""
    import torch

    from reproflow.meanfield import montecarlo as MC
    from reproflow.meanfield import theory
    from reproflow.seeding import derive_seed

    rows = []
    for st in settings:
        for rho in rho_grid:
            gen = torch.Generator(device=torch.device(device)).manual_seed(derive_seed(seed, "forward", st["name"], rho))
            x, pairs = MC.make_inputs(width, tuple(input_q), tuple(input_c), gen)
            x = x.cpu()
            s = MC.simulate_forward(st["activation"], st["sw2"], st["sb2"], rho, x, pairs, depth, draws, gen, device)
            fp = theory.fixed_points(st["activation"], st["sw2"], st["sb2"], torch.tensor([rho], dtype=torch.float64))
            x64 = x.double()
            q1 = st["sw2"] * (x64**2).mean(1) + st["sb2"]
            q12 = st["sw2"] * (x64[pairs[:, 0]] * x64[pairs[:, 1]]).mean(1) + st["sb2"]
            q_th, _ = theory.iterate_maps(st["activation"], q1, q1, st["sw2"], st["sb2"], rho, depth)
            _, c_th = theory.iterate_maps(st["activation"], q1[pairs[:, 0]], q12, st["sw2"], st["sb2"], rho, depth)
            base = {"setting": st["name"], "activation": st["activation"], "sw2": st["sw2"], "sb2": st["sb2"],
                    "rho": rho, "q_star": float(fp.q_star[0]), "c_star": float(fp.c_star[0])}
            for quantity, meas, th, labels in (
                ("q", s.q, q_th, [(float(q0), math.nan) for q0 in (x64**2).mean(1)]),
                ("c", s.c, c_th, [(float((x64[a] ** 2).mean()), float(torch.nn.functional.cosine_similarity(
                    x64[a], x64[b], dim=0))) for a, b in pairs.tolist()]),
            ):
                mean, se = MC.mean_se(meas)
                for j, (q0, c0) in enumerate(labels):
                    for layer in range(depth):
                        rows.append({**base, "quantity": quantity, "series": j, "input_q": round(q0, 10),
                                     "input_c": round(c0, 10) if not math.isnan(c0) else c0, "layer": layer + 1,
                                     "theory": float(th[layer, j]), "mc_mean": float(mean[layer, j]),
                                     "mc_se": float(se[layer, j])})
            qg = torch.tensor(list(map_q), dtype=torch.float64)
            cg = torch.tensor(list(map_c), dtype=torch.float64)
            qs = float(fp.q_star[0])
            q_out, c_out = MC.one_step_maps(st["activation"], st["sw2"], st["sb2"], rho, qg,
                                            cg if math.isfinite(qs) else cg[:0], qs if math.isfinite(qs) else 1.0,
                                            width, map_inputs, gen, device)
            q_th = theory.length_map(st["activation"], qg, st["sw2"], st["sb2"], rho)
            c_th = theory.correlation_map(st["activation"], cg, fp.q_star[0], st["sw2"], st["sb2"], rho)
            for quantity, grid, meas, th in (("q_map", qg, q_out, q_th), ("c_map", cg, c_out, c_th)):
                for j, v in enumerate(grid.tolist()):
                    m = meas[j] if j < meas.shape[0] else None
                    rows.append({**base, "quantity": quantity, "series": j,
                                 "input_q": v if quantity == "q_map" else (qs if math.isfinite(qs) else math.nan),
                                 "input_c": v if quantity == "c_map" else math.nan, "layer": 1,
                                 "theory": float(th[j]), "mc_mean": float(m.mean()) if m is not None else math.nan,
                                 "mc_se": float(m.std() / math.sqrt(m.numel())) if m is not None else math.nan})
            log.info("forward: %s rho=%s done", st["name"], rho)
    return pd.DataFrame(rows)


def gradient_tables(run: str, act: str, sw2: float, sb2: float, rho: float, width: int, depth: int, draws: int,
                    inputs: str, draws_per_batch: int, generator, device, role: str
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per-draw table, per-layer summary with GIA / no-GIA predictions, per-draw table of the GIA
    counterfactual) for one gradient run; the counterfactual backpropagates the SAME draws through
    independent weight copies (:func:`reproflow.meanfield.gradients.measure_gradient_pair`).

    ``role``: ``paper`` (the paper's Fig. 2-5 settings) or ``stress`` (near-critical, labelled stress
    test); carried as a column so every downstream table can tell them apart.
    """
    from reproflow.meanfield import gradients as G

    exact, gia = G.measure_gradient_pair(act, sw2, sb2, rho, width, depth, draws, inputs, generator, device,
                                         draws_per_batch)
    layers = np.arange(1, depth + 1)
    meta = {"run": run, "role": role, "activation": act, "sw2": sw2, "sb2": sb2, "rho": rho, "width": width,
            "depth": depth, "inputs": inputs}

    def per_draw(s, backward: str) -> pd.DataFrame:
        return pd.DataFrame({
            **meta,
            "backward": backward,
            "draw": np.repeat(np.arange(draws), depth),
            "layer": np.tile(layers, draws),
            **{m: getattr(s, m).numpy().reshape(-1) for m in METRICS},
        })

    pre = G.gia_prefactors(act, sw2, sb2, rho)
    k = depth - layers
    gia_th = {"g_aa": pre["top_aa"] * pre["chi_1"] ** k, "g_ab": pre["top_ab"] * pre["chi_c"] ** k,
              "tg_ab": np.full(depth, np.nan)}
    no_gia = {m: np.full(depth, np.nan) for m in METRICS}
    if act == "linear" and sw2 < rho:
        var, cov = G.input_moments(act, sw2, sb2, rho, inputs)
        a, b = G.linear_no_gia(sw2, sb2, rho, depth, var, cov)
        no_gia["g_aa"], no_gia["g_ab"] = a.numpy(), b.numpy()
    rows = []
    for backward, s in (("exact", exact), ("gia", gia)):
        for m in METRICS:
            vals = getattr(s, m).numpy()
            mean = vals.mean(0)
            sd = vals.std(0, ddof=1) if draws > 1 else np.full(depth, np.nan)
            rows.append(pd.DataFrame({**meta, "backward": backward, "chi_1": pre["chi_1"], "chi_c": pre["chi_c"],
                                      "q_star": pre["q_star"], "c_star": pre["c_star"], "metric": m,
                                      "layer": layers, "k": k, "mean": mean, "se": sd / math.sqrt(draws), "sd": sd,
                                      "gia": gia_th[m], "no_gia": no_gia[m]}))
    return per_draw(exact, "exact"), pd.concat(rows, ignore_index=True), per_draw(gia, "gia")


def theory_tables(theory: MeanfieldTheory) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(phase diagram, critical points, caption checks) of ``meanfield``'s theory keys: the grid sw2_min..sw2_max
    step sw2_step by sb2_grid by rho_grid per activation, chi_1 = 1 crossings in critical_sw2_bracket, and the
    paper's Fig. 1 caption values against ours."""
    grid = sw2_grid(theory.sw2_min, theory.sw2_max, theory.sw2_step)
    lo, hi = theory.critical_sw2_bracket
    return (phase_diagram_table(theory.activations, grid, theory.sb2_grid, theory.rho_grid),
            critical_table(theory.activations, theory.sb2_grid, theory.rho_grid, lo, hi),
            caption_table(theory.captions))


def forward_mc_table(forward: MeanfieldForward, seed: int, device: Any) -> pd.DataFrame:
    """:func:`forward_table` of ``meanfield.forward`` (the Fig. 1 networks and the simulation's size)."""
    from reproflow.settings import dump

    return forward_table([dump(x) for x in forward.settings], forward.rho_grid, forward.input_q_grid,
                         forward.input_c_grid, forward.width, forward.depth, forward.draws, seed, device,
                         forward.map_q_grid, forward.map_c_grid, forward.map_inputs)


def gradient_group_tables(runs: Sequence[MeanfieldGradientsRunsItem], measure: MeanfieldGradientsMeasure, seed: int,
                          device: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`gradient_tables` of several runs, concatenated (draws, layers, GIA draws). Each run draws from its own
    seed (``derive_seed(seed, "gradients", name)``, on ``device``), so its numbers do not depend on its group."""
    import torch

    from reproflow.seeding import derive_seed, seed_everything

    tables: list[tuple[pd.DataFrame, ...]] = []
    for r in runs:
        run_seed = derive_seed(seed, "gradients", r.name)
        seed_everything(run_seed)
        # weights, masks and inputs are drawn on the run's device (no CPU generator feeding a GPU)
        gen = torch.Generator(device=device).manual_seed(run_seed)
        try:
            tables.append(gradient_tables(r.name, r.activation, r.sw2, r.sb2, r.rho, r.width, measure.depth,
                                          measure.draws, r.inputs, measure.draws_per_batch, gen, device, r.role))
        except ValueError as exc:
            raise UserError(f"meanfield.gradients.runs '{r.name}': {exc}") from None
    draws, layers, gia = (pd.concat([t[i] for t in tables], ignore_index=True) for i in range(3))
    return draws, layers, gia


def read_tables(paths: Iterable[Path]) -> pd.DataFrame:
    frames = []
    for p in paths:
        if not Path(p).exists():
            raise UserError(f"{p}: table not found; run the workflow step that writes it first")
        frames.append(pd.read_csv(p))
    return pd.concat(frames, ignore_index=True)


def run_chis(draws: pd.DataFrame) -> pd.DataFrame:
    """chi_1, chi_c, c* per run of a per-draw table (from the theory at the run's activation, sw2, sb2, rho)."""
    import torch

    from reproflow.meanfield import theory

    rows = []
    for run, d in draws.groupby("run", sort=False):
        r = d.iloc[0]
        fp = theory.fixed_points(r.activation, float(r.sw2), float(r.sb2),
                                 torch.tensor([float(r.rho)], dtype=torch.float64))
        rows.append({"run": run, "chi_1": float(fp.chi_1[0]), "chi_c": float(fp.chi_c[0]), "c_star": float(fp.c_star[0])})
    return pd.DataFrame(rows)


def _f(x: Any) -> Any:
    x = float(x)
    return x if math.isfinite(x) else (None if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def headline(phase_diagram: Path, critical: Path, captions: Path, rates: Path, universality: Path,
             scale: str) -> dict[str, Any]:
    """The numbers behind the summary's mean-field claims (keys documented in docs/meanfield.md)."""
    pdg, crit, cap, rt, un = (read_tables((p,)) for p in (phase_diagram, critical, captions, rates, universality))
    drop = pdg[pdg.rho < 1]
    row = drop.loc[drop.c_star.idxmax()]
    tanh_crit = crit[(crit.activation == "tanh") & (crit.rho == 1.0)]
    out: dict[str, Any] = {
        "scale": scale,
        "c_star_max_rho_lt_1": {"value": _f(row.c_star), "activation": row.activation, "sw2": _f(row.sw2),
                                "sb2": _f(row.sb2), "rho": _f(row.rho), "n_rows": int(len(drop)),
                                "claim_holds": bool((drop.c_star < 1).all())},
        "tanh_order_to_chaos_sw2": [{"sb2": _f(r.sb2), "sw2": _f(r.sw2_critical)} for r in tanh_crit.itertuples()],
        "fig1_captions": [{"activation": r.activation, "sw2": _f(r.sw2), "sb2": _f(r.sb2), "rho": _f(r.rho),
                           "quantity": r.quantity, "paper": _f(r.paper), "ours": _f(r.ours),
                           "abs_diff": _f(r.abs_diff)} for r in cap.itertuples()],
        "gradient_decay": [],
        "universality": [],
    }
    for (run, backward), d in rt.groupby(["run", "backward"], sort=False):
        entry = {"run": run, "backward": backward, "role": d.role.iloc[0], "activation": d.activation.iloc[0],
                 "sw2": _f(d.sw2.iloc[0]), "rho": _f(d.rho.iloc[0]), "width": int(d.width.iloc[0]),
                 "ln_chi_1": _f(d.ln_chi_1.iloc[0]), "ln_chi_c": _f(d.ln_chi_c.iloc[0])}
        for r in d.itertuples():
            entry[r.curve] = {"slope": _f(r.slope), "ci": [_f(r.ci_low), _f(r.ci_high)], "u": _f(r.u),
                              "u_ci": [_f(r.u_low), _f(r.u_high)], "closer_to": r.closer_to}
        out["gradient_decay"].append(entry)
    for r in un.itertuples():
        out["universality"].append({"run": r.run, "metric": r.metric, "activation": r.activation, "rho": _f(r.rho),
                                    "width": _f(r.width), "slope": _f(r.slope), "ci": [_f(r.ci_low), _f(r.ci_high)],
                                    "m_decades": _f(r.m_decades), "contains_2": bool(r.ci_low <= 2 <= r.ci_high)})
    fin = un[np.isfinite(un.slope) & (un.run != "pooled")]
    pooled = un[un.run == "pooled"]
    out["universality_pooled"] = {r.metric: {"slope": _f(r.slope), "ci": [_f(r.ci_low), _f(r.ci_high)],
                                             "m_decades": _f(r.m_decades)} for r in pooled.itertuples()}
    out["universality_summary"] = {"median_slope": _f(fin.slope.median()) if len(fin) else None,
                                   "n_fits": int(len(fin)),
                                   "n_ci_contains_2": int(((fin.ci_low <= 2) & (fin.ci_high >= 2)).sum())}
    return out
