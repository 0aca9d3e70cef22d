"""The reproduction summary: one row per claim of both papers, each verdict computed from the tables.

Papers: SPA = Gao et al., "Robust Deep Learning Models Against Semantic-Preserving Adversarial
Attack" (IJCNN 2023); MF = Huang et al., "Mean field theory for deep dropout networks: digging up
gradient backpropagation deeply" (ECAI 2020).

Each claim is one function ``claim_<id>(<tables>, settings) -> Outcome`` over the phase tables
(pandas DataFrames) or headline dicts it needs; :data:`CLAIMS` registers them with the paper, the
claim's text and the names of its inputs. :func:`evaluate` turns an outcome into a
:class:`ClaimRow`; a claim whose input is missing gets the verdict ``not run`` with the missing file
named, without calling its function. Verdict rules live in :mod:`reproflow.report.verdicts`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reproflow.errors import UserError
from reproflow.report.verdicts import (
    Interval,
    Verdict,
    band_verdict,
    combine,
    count,
    directional_verdict,
    excludes_zero,
    touches_zero,
)

NAN = math.nan


@dataclass(frozen=True)
class Settings:
    """Decision thresholds (the ``report`` section of params.yaml).

    coverage: of the Student-t interval over seeds behind T1 and T2 (the phase tables carry it);
    slope_tolerance: V ~ m^2 holds when the fitted log-log slope's interval lies in 2 +- this;
    rate_tolerance: the band on the GIA-separation units of the signed-mean g_ab rate;
    cstar_margin: c* counts as below 1 when 1 - c* exceeds this (root-finding precision).
    """

    coverage: float
    slope_tolerance: float
    rate_tolerance: float
    cstar_margin: float

    @classmethod
    def of(cls, report: Any) -> Settings:
        """The thresholds of the params.yaml ``report`` section (a :class:`reproflow.settings.sections.Report`)."""
        return cls(**{f.name: getattr(report, f.name) for f in dataclasses.fields(cls)})

    def __post_init__(self) -> None:
        for name in ("slope_tolerance", "rate_tolerance", "cstar_margin"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"report setting {name} must be a finite number >= 0, got {v!r}")
        if not 0.5 < self.coverage < 1:
            raise ValueError(f"report setting coverage must lie in (0.5, 1), got {self.coverage!r}")


@dataclass(frozen=True)
class Outcome:
    """What a claim function returns: the measured number, its uncertainty, the verdict and a
    one-line account of the evidence (which settings held, failed, ...)."""

    measured: float
    uncertainty: float
    verdict: Verdict
    evidence: str


@dataclass(frozen=True)
class ClaimRow:
    """One row of summary.csv."""

    claim: str
    paper: str
    text: str
    measure: str
    measured: float
    uncertainty: float
    scale: str
    verdict: str
    evidence: str
    source: str


COLUMNS = [f.name for f in dataclasses.fields(ClaimRow)]


def _need(df: pd.DataFrame, cols: set[str], what: str) -> None:
    missing = cols - set(df.columns)
    if missing:
        raise UserError(f"{what}: lacks columns {sorted(missing)} (has {sorted(df.columns)}); "
                        "re-run the phase that writes it")


def _se(values: np.ndarray) -> float:
    """Standard error of the mean of ``values`` (NaN with fewer than 2 finite values)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size >= 2 else NAN


# ---- SPA ---------------------------------------------------------------------------------------

def _directional_table(table: pd.DataFrame, keys: list[str], diff: str, low: str, high: str, direction: str,
                       what: str, settings: Settings) -> Outcome:
    """One verdict per row from its paired difference ``diff`` and the interval ``[low, high]`` the phase
    table computed over seeds (coverage in its ``coverage`` column), claimed ``< 0`` or ``> 0`` by
    ``direction``, by the project's one rule (:func:`directional_verdict`); combined "in every setting".
    Measured: the mean difference over rows; uncertainty: the mean interval half-width."""
    _need(table, set(keys) | {diff, low, high}, what)
    secondary = table.iloc[0:0]
    if "role" in table.columns:
        # one primary comparison per claim, declared in params.yaml before the run (issue 21): it decides; the other
        # rows are listed with their Holm-adjusted verdicts
        secondary = table[table["role"] == "secondary"]
        table = table[table["role"] == "primary"]
    if table.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, f"{what} has no primary rows that count" if len(secondary)
                       else f"{what} has no rows")
    diffs, lows, highs = (table[c].to_numpy(float) for c in (diff, low, high))
    ns = table["n_seeds"].to_numpy(int) if "n_seeds" in table.columns else np.zeros(len(table), int)
    cov = float(table["coverage"].iloc[0]) if "coverage" in table.columns else settings.coverage
    vs = [directional_verdict(Interval(d, lo, hi, int(n), cov, "t over seeds"), direction)
          for d, lo, hi, n in zip(diffs, lows, highs, ns)]
    signed = diffs if direction == "greater" else -diffs
    worst = int(np.nanargmin(signed)) if np.isfinite(signed).any() else 0
    label = ", ".join(f"{k}={table.iloc[worst][k]}" for k in keys)
    method = str(table["method"].iloc[0]) if "method" in table.columns else f"t over {int(ns.max()) if len(ns) else 0} seeds"
    which = "primary comparison" + ("s" if len(vs) > 1 else "") if "role" in table.columns else "settings"
    evidence = (f"{count(vs)} of {len(vs)} {which} ({100 * cov:g} % intervals, {method}); "
                f"least favourable {label}: {diffs[worst]:+.3f} [{lows[worst]:+.3f}, {highs[worst]:+.3f}]")
    if "n_images" in table.columns:
        evidence += "; " + "; ".join(image_count_statement(r) for r in table.to_dict("records"))
    if "seeds_to_decide" in table.columns:
        need = pd.to_numeric(table["seeds_to_decide"], errors="coerce").dropna()
        if len(need):
            evidence += f"; undecided rows would need {int(need.min())}-{int(need.max())} seeds at the observed effect"
    if len(secondary):
        parts = [f"{', '.join(f'{k}={r[k]}' for k in keys if k not in ('dataset', 'model'))} {r[diff]:+.3f} "
                 f"[{r[low]:+.3f}, {r[high]:+.3f}] {r['adjusted_verdict']}" for r in secondary.to_dict("records")]
        evidence += f"; secondary rows (Holm-adjusted verdicts): {'; '.join(parts)}"
    half = np.nanmean((highs - lows) / 2) if np.isfinite(highs - lows).any() else NAN
    return Outcome(float(np.nanmean(diffs)), float(half), combine(vs), evidence)


def image_count_statement(row: dict[str, Any]) -> str:
    """Whether a claim row's attacked image count can decide it, from its interval width against its effect and its
    seed and image terms (issue 21: the quick scale attacks few images): decided; undecided but this many images
    would decide at the observed effect; or undecided with a seed term alone wider than the effect."""
    n = row.get("n_images")
    est, lo, hi = (float(row.get(k, NAN)) for k in _interval_keys(row))
    if n is None or not np.isfinite(float(n)) or not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval over images (fewer than 2 seeds)"
    n, half = int(n), (hi - lo) / 2
    head = f"{n} images per seed: half-width {half:.3f} against an effect of {abs(est):.3f}"
    if lo > 0 or hi < 0:
        return head + ", so the image count decides"
    need = pd.to_numeric(pd.Series([row.get("images_to_decide")]), errors="coerce").iloc[0]
    if np.isfinite(need):
        return head + f"; this image count cannot decide it (about {int(need)} images per seed would, at this effect)"
    return head + "; this image count cannot decide it, and no image count would: the seed term alone is wider"


def _interval_keys(row: dict[str, Any]) -> tuple[str, str, str]:
    return ("difference", "difference_low", "difference_high") if "difference" in row else ("diff_mean", "diff_low",
                                                                                              "diff_high")


def _counting(claims: pd.DataFrame) -> pd.DataFrame:
    """The rows that count: those through a learned editor that failed its semantic gate are reported in T1.csv /
    T2.csv but do not count (no ``counts`` column: every row counts)."""
    if "counts" not in claims.columns:
        return claims
    return claims[claims["counts"].astype(str).str.lower().isin(["true", "1", "1.0"])]


def claim_t1(t1: pd.DataFrame, settings: Settings) -> Outcome:
    """SPA T1: at the same eps, accuracy under SPA is lower than under the best existing attack
    (joint-PGD excluded), on every benchmark.

    ``t1`` (attack phase, claims/T1.csv): one row per (dataset, model, eps) with ``difference`` = mean
    over seeds of SPA accuracy - best baseline accuracy (paired) and its standard error
    ``difference_low``/``difference_high`` (its t-interval over seeds; NaN with one seed). Measured: the mean difference over rows (accuracy as a
    fraction; negative supports T1).
    """
    return _t1_reading(t1, "single", settings)


def claim_t1_composed(t1: pd.DataFrame, settings: Settings) -> Outcome:
    """SPA T1, composed reading (issue 21): accuracy under SPA is lower than under the best existing attack
    composed in SPA's own threat model (grid-PGD, joint-PGD, joint-APGD with the grid start). The T1 rows of
    ``reading`` "composed"; not run where the table has none (no composed baseline evaluated)."""
    if "reading" not in t1.columns or not (t1["reading"] == "composed").any():
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "claims/T1.csv has no composed-reading rows")
    return _t1_reading(t1, "composed", settings)


def _t1_reading(t1: pd.DataFrame, reading: str, settings: Settings) -> Outcome:
    """The verdict of T1's rows of one ``reading`` (every row for a table written before readings existed), with
    SPA's gap to the reference ensemble (the per-image worst case of attack.reference) in the evidence."""
    keys = ["dataset", "model", "eps"]
    if "reading" in t1.columns:
        t1 = t1[t1["reading"] == reading]
    if "counts" in t1.columns:
        t1 = _counting(t1)
        keys = ["dataset", "model", "editor", "eps"] if "editor" in t1.columns else keys
    out = _directional_table(t1, keys, "difference", "difference_low", "difference_high", "less", "claims/T1.csv",
                             settings)
    if "reference_gap" in t1.columns and t1["reference_gap"].notna().any():
        gaps = ", ".join(f"eps {r.eps:g} {r.reference_gap:+.3f}" for r in t1.itertuples(index=False)
                         if pd.notna(r.reference_gap))
        out = dataclasses.replace(out, evidence=out.evidence + "; SPA's accuracy minus the reference's (per-image worst "
                                  f"case of SPA and the composed attacks): {gaps}")
    return out


def claim_t2(t2: pd.DataFrame, settings: Settings) -> Outcome:
    """SPA T2: SPA-AT is more accurate under joint perturbations (SPA, joint-PGD) than the existing
    defences (PGD-AT, TRADES, attribute augmentation).

    ``t2`` (advtrain phase, claims/T2.csv): rows of ``kind`` "claim" per (dataset, eps, attack,
    baseline) with ``diff_mean`` = SPA-AT accuracy - baseline accuracy (paired over seeds; positive
    supports T2) and its t-interval ``diff_low``/``diff_high``; rows of ``kind`` "cost" (clean and pixel-PGD accuracy of SPA-AT
    against other defences) are quoted in the evidence, not judged, as is ``defence_schedule`` (how the defences
    were trained at this scale). Measured: the mean difference over the claim rows.
    """
    _need(t2, {"kind", "attack", "baseline", "diff_mean"}, "claims/T2.csv")
    claims = t2[t2["kind"] == "claim"]
    # the rows that decide: the primary comparison where the table declares one (a secondary row whose defences are
    # not at their plateau does not count, apply_plateau, but cannot make the claim undecidable)
    judged = claims[claims["role"] == "primary"] if "role" in claims.columns else claims
    if "plateau" in t2.columns and not judged.empty and (judged["plateau"].astype(str) != "yes").any():
        # training adequacy (issue 21): a verdict on defences whose robust accuracy was still moving tests the
        # schedule, not the paper
        short = sorted({d.strip() for p in judged["plateau"] if str(p) != "yes"
                        for d in str(p).removeprefix("no: ").split(",")})
        evidence = ("not decidable at this scale: the plateau test did not show the defences' robust accuracy had "
                    f"stopped moving ({', '.join(short)}; claims/T2.md lists each defence's change over its last "
                    "epochs with its interval)")
        if "n_images" in claims.columns:
            # what the attacked image count could decide once the defences are trained (issue 21, the quick page)
            prim = claims[claims["role"] == "primary"] if "role" in claims.columns else claims
            evidence += "; primary comparison: " + "; ".join(image_count_statement(r) for r in prim.to_dict("records"))
        return Outcome(float(claims["diff_mean"].mean()), NAN, Verdict.INCONCLUSIVE, evidence)
    out = _directional_table(_counting(t2[t2["kind"] == "claim"]), ["dataset", "eps", "attack", "baseline"], "diff_mean",
                             "diff_low", "diff_high", "greater", "claims/T2.csv", settings)
    cost = t2[t2["kind"] == "cost"]
    if not cost.empty:
        parts = [f"{r.attack if r.attack != 'none' else 'clean'} vs {r.baseline} {r.diff_mean:+.3f}"
                 for r in cost.itertuples(index=False)]
        out = dataclasses.replace(out, evidence=out.evidence + "; SPA-AT cost: " + ", ".join(parts))
    if "defence_schedule" in t2.columns:
        sched = "; ".join(dict.fromkeys(str(x) for x in t2["defence_schedule"].dropna()))
        out = dataclasses.replace(out, evidence=out.evidence + f"; defences trained at this scale: {sched}")
    return out


# ---- mean field --------------------------------------------------------------------------------

def claim_no_transition(phase_diagram: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: with dropout (rho < 1) the correlation fixed point c* < 1 for every sw2, so there is no
    order-to-chaos transition (at rho = 1, c* = 1 throughout the ordered phase).

    ``phase_diagram``: columns activation, sw2, sb2, rho, c_star. Measured: the largest c* over
    every rho < 1 row; holds when 1 - max c* > ``cstar_margin`` for every (activation, rho).
    """
    _need(phase_diagram, {"activation", "sw2", "rho", "c_star"}, "phase_diagram.csv")
    drop = phase_diagram[(phase_diagram["rho"] < 1.0) & np.isfinite(phase_diagram["c_star"])]
    if drop.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "phase_diagram.csv has no rows with rho < 1")
    vs = []
    for _key, g in drop.groupby(["activation", "rho"]):
        cmax = float(g["c_star"].max())
        vs.append(Verdict.HOLDS if 1.0 - cmax > settings.cstar_margin else Verdict.FAILS)
    worst = drop.loc[drop["c_star"].idxmax()]
    ones = phase_diagram[(phase_diagram["rho"] >= 1.0) & (phase_diagram["c_star"] >= 1.0 - settings.cstar_margin)]
    evidence = (f"{count(vs)} of {len(vs)} (activation, rho<1) blocks over {drop['sw2'].nunique()} sw2; "
                f"max c* = {worst['c_star']:.6f} at {worst['activation']}, rho={worst['rho']:g}, "
                f"sw2={worst['sw2']:g}; contrast: {len(ones)} rho=1 rows have c* = 1")
    return Outcome(float(worst["c_star"]), NAN, combine(vs), evidence)


def separation_verdict(u_low: float, u_high: float, tol: float) -> Verdict:
    """MF-same-depth-scale decision on one run from the interval [u_low, u_high] of a decay rate in
    GIA-separation units u = (rate - ln chi_1) / (ln chi_c - ln chi_1) (0: decay with xi_1, the
    paper's claim; 1: decay with xi_c, the GIA's pair prediction): holds inside 0 +- tol, fails when
    disjoint from it, else inconclusive."""
    return band_verdict(u_low, u_high, -tol, tol)


# the curve that separates real backprop from the GIA (spec section 3; review of issue #12): the GIA
# also predicts chi_1 decay for g_aa, tilde g_ab and the spread of g_ab, so only the signed mean of
# g_ab can show whether pair gradients follow xi_1 (the paper) or xi_c (the GIA)
SEPARATING_CURVE = "g_ab_mean"
SPREAD_CURVES = ("g_aa", "tg_ab", "g_ab_sd")
U_UNITS = "u = (rate - ln chi_1) / (ln chi_c - ln chi_1): 0 = decay with xi_1, 1 = with xi_c"


def _discriminating(rates: pd.DataFrame, tol: float) -> pd.Series:
    """Paper-setting rows whose chi_c differs from chi_1 by more than ``tol`` in ln (where u is defined)."""
    role = rates["role"] if "role" in rates.columns else pd.Series("paper", index=rates.index)
    ratio = rates["ln_chi_c"] / rates["ln_chi_1"]
    return (role == "paper") & np.isfinite(ratio) & ((ratio - 1).abs() > tol)


def claim_same_depth_scale_observables(rates: pd.DataFrame, settings: Settings) -> Outcome:
    """MF (a): the paper's plotted observables -- the mean single-input gradient g_aa, tilde g_ab and the
    spread sd(g_ab) of the pair gradient -- decay with xi_1 (Figs 2d, 3).

    ``rates`` (meanfield gradient_rates table): one row per (run, backward, curve) with ``u``, ``u_low``,
    ``u_high`` (:data:`U_UNITS`, bootstrap over draws). Each exact (run, curve) of :data:`SPREAD_CURVES`
    in the discriminating paper runs by :func:`separation_verdict` (0 +- rate_tolerance). The GIA
    counterfactual predicts the same chi_1 decay for these curves, so its intervals are printed as a
    control: this row reproduces the figures but says nothing about the GIA. Measured: the mean exact
    u; uncertainty: the mean interval half-width.
    """
    _need(rates, {"run", "curve", "backward", "u", "u_low", "u_high", "ln_chi_1", "ln_chi_c"}, "gradient_rates table")
    tol = settings.rate_tolerance
    disc = _discriminating(rates, tol) & rates["curve"].isin(SPREAD_CURVES)
    t = rates[disc & (rates["backward"] == "exact")]
    if t.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "gradient_rates table has no exact g_aa / tilde g_ab / sd g_ab rows "
                       "of paper-setting runs where chi_c differs from chi_1")
    vs = [separation_verdict(r.u_low, r.u_high, tol) for r in t.itertuples(index=False)]
    worst = t.iloc[int(np.nanargmax(np.abs(t["u"].to_numpy(float))))]
    evidence = (f"g_aa, tilde g_ab, sd(g_ab) under exact backprop, {U_UNITS}, 95 % bootstrap over draws vs 0 +- {tol:g}: "
                f"{count(vs)} of {len(vs)} (run, curve) pairs over {t['run'].nunique()} runs; u "
                f"{np.nanmin(t.u):.2f}..{np.nanmax(t.u):.2f}, farthest {worst.run} {worst.curve} "
                f"{worst.u:.2f} [{worst.u_low:.2f}, {worst.u_high:.2f}]")
    g = rates[disc & (rates["backward"] == "gia")]
    if len(g):
        lo, hi = g["u_low"].to_numpy(float), g["u_high"].to_numpy(float)
        contain = int(((lo <= 0) & (0 <= hi)).sum())
        inside = int(((lo >= -tol) & (hi <= tol)).sum())
        evidence += (f". GIA control (same draws): {contain} of {len(g)} GIA intervals contain the same value 0 "
                     f"({inside} lie inside 0 +- {tol:g}): the GIA predicts this decay too, so this row does not "
                     "test the GIA")
    half = ((t["u_high"] - t["u_low"]) / 2).to_numpy(float)
    return Outcome(float(np.nanmean(t["u"])), float(np.nanmean(half)), combine(vs), evidence)


def pair_shift_verdict(du_low: float, du_high: float, tol: float) -> Verdict:
    """MF (b) decision on one run from the paired interval of exact u - GIA u (signed pair-gradient mean,
    same draws): holds when it lies below -tol (real backprop moves the decay from xi_c toward xi_1 by
    more than tol), fails when it lies above -tol (no such move), inconclusive when it straddles -tol."""
    return band_verdict(du_low, du_high, -math.inf, -tol)


def claim_same_depth_scale(rates: pd.DataFrame, settings: Settings) -> Outcome:
    """MF (b): without the GIA, the pair gradient decays with xi_1 rather than the GIA's xi_c = xi_2; tested
    on the one statistic whose rate differs between the two, the signed mean of g_ab.

    ``rates`` (meanfield gradient_rates table): the exact rows of curve ``g_ab_mean`` carry ``du``,
    ``du_low``, ``du_high``: exact u minus GIA-counterfactual u over the same resampled draws (the fit
    window re-selected in every resample), :data:`U_UNITS`. Each discriminating paper run by
    :func:`pair_shift_verdict`; a run whose signed mean is significant over too few layers for a rate
    (small c*: hard-tanh at sw2 1.4) is undecidable at its setting and quotes the draws that would resolve
    it (``draws_needed``). Linear runs are also compared with the exact large-N no-GIA theory over the
    same layers (``theory_u``), and the deep-layer bound (``deep_bound``: |mean / sd| of g_ab in the
    deepest k-band) bounds any part of E[g_ab] that decays at the chi_1 rate. Measured: the mean paired
    difference; uncertainty: its mean interval half-width.
    """
    _need(rates, {"run", "curve", "backward", "u", "u_low", "u_high", "ln_chi_1", "ln_chi_c"}, "gradient_rates table")
    tol = settings.rate_tolerance
    disc = _discriminating(rates, tol) & (rates["curve"] == SEPARATING_CURVE)
    t = rates[disc & (rates["backward"] == "exact")]
    if t.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "gradient_rates table has no exact signed-mean g_ab rows of "
                       "paper-setting runs where chi_c differs from chi_1")
    if "du" not in t.columns:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "gradient_rates table lacks the paired difference du (exact u - "
                       "GIA u); re-run fit_gradients")
    ctrl = rates[disc & (rates["backward"] == "gia")].set_index("run")
    vs, parts, undecidable = [], [], []
    for r in t.itertuples(index=False):
        g = ctrl.loc[r.run] if r.run in ctrl.index else None
        if not (math.isfinite(r.du_low) and math.isfinite(r.du_high)) or not math.isfinite(r.u):
            vs.append(Verdict.INCONCLUSIVE)
            need = getattr(r, "draws_needed", NAN)
            cs = getattr(r, "c_star", NAN)
            undecidable.append(f"{r.run} (c* {cs:.2f}, top-layer mean/sd {getattr(r, 'top_z', NAN):.2f}): "
                               + (f"~{need:.0g} draws for 5 significant layers" if math.isfinite(need) else "no signal"))
            continue
        vs.append(pair_shift_verdict(r.du_low, r.du_high, tol))
        parts.append(f"{r.run} {r.du:+.2f} [{r.du_low:+.2f}, {r.du_high:+.2f}] (exact u {r.u:.2f}"
                     + (f", GIA u {g.u:.2f}" if g is not None and math.isfinite(g.u) else "") + f", k {r.k_min}-{r.k_max})")
    d = t[np.isfinite(t["du"].to_numpy(float))]
    evidence = (f"signed mean of g_ab, paired difference exact u - GIA u over the same draws ({U_UNITS}; window "
                f"re-selected in each of the bootstrap resamples, 95 % percentile), holds below -{tol:g}, fails above: "
                f"{count(vs)} of {len(vs)} runs; " + "; ".join(parts))
    if undecidable:
        evidence += ". Undecidable at this setting (the signed mean is significant over fewer than 3 layers): " + \
            "; ".join(undecidable)
    if "theory_u" in t.columns:
        th = t[np.isfinite(t["theory_u"].to_numpy(float))]
        if len(th):
            inside = int(((th["u_low"] <= th["theory_u"]) & (th["theory_u"] <= th["u_high"])).sum())
            evidence += (". Exact large-N no-GIA linear theory over the same layers: u "
                         + ", ".join(f"{r.run} {r.theory_u:.2f} (measured {r.u:.2f} [{r.u_low:.2f}, {r.u_high:.2f}])"
                                     for r in th.itertuples(index=False))
                         + f"; {inside} of {len(th)} inside the measured intervals (a transient of the no-GIA "
                         "prefactor, not a depth scale xi_1)")
    if "deep_bound" in t.columns and np.isfinite(t["deep_bound"].to_numpy(float)).any():
        j = int(np.nanargmax(t["deep_bound"].to_numpy(float)))
        w = t.iloc[j]
        evidence += (f". Deep layers (deep_layers.csv): |mean/sd| of g_ab in the deepest k-band <= "
                     f"{np.nanmax(t['deep_bound']):.3f} in every run (largest {w.run}, k >= {int(w.deep_k_low)}): a part of "
                     "E[g_ab] decaying at the chi_1 rate is below that many sd")
    role = rates["role"] if "role" in rates.columns else pd.Series("paper", index=rates.index)
    stress = rates[(role == "stress") & (rates["curve"] == "tg_ab")]
    if len(stress):
        # keyed by run: the paper's stress runs share widths (stress_tanh_w1000 and stress_linear_w1000 at N = 1000)
        ex = stress[stress["backward"] == "exact"].sort_values(["width", "run"]).set_index("run")
        gi = stress[stress["backward"] == "gia"].set_index("run")
        evidence += (". Stress test (near-critical, not judged; a finite-width excess seen under both passes, its "
                     f"1/N scaling not claimed from {ex['width'].nunique()} widths): tilde g_ab rate / ln chi_1 exact vs "
                     "GIA " + ", ".join(f"{r} N={int(ex.loc[r, 'width'])} {ex.loc[r, 'slope'] / ex.loc[r, 'ln_chi_1']:.3f}"
                                        + (f" vs {gi.loc[r, 'slope'] / gi.loc[r, 'ln_chi_1']:.3f}" if r in gi.index else "")
                                        for r in ex.index))
    half = ((d["du_high"] - d["du_low"]) / 2).to_numpy(float)
    return Outcome(float(np.nanmean(d["du"])) if len(d) else NAN, float(np.nanmean(half)) if len(d) else NAN,
                   combine(vs), evidence)


def universality_verdict(ci_low: float, ci_high: float, tol: float) -> Verdict:
    """A pooled log-log slope interval against 2 +- tol (quoted as the reproduction of the paper's plot)."""
    return band_verdict(ci_low, ci_high, 2 - tol, 2 + tol)


def spread_verdict(low: float, high: float, band: float) -> Verdict:
    """MF-universality decision on one spread of log10(V/m^2) (decades) from its interval: holds inside
    [0, band], fails above it, inconclusive when it straddles the band's edge."""
    return band_verdict(low, high, 0.0, band)


def claim_universality(slopes: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: over layers, the variance V of a gradient metric is proportional to the square of its
    mean m (V/m^2 one constant) for every activation, rho and width.

    ``slopes`` (meanfield universality table): per metric two spread rows (run ``between_runs``: the sd
    of log10 V/m^2 over runs at matched depth; ``along_depth``: its sd over a run's layers, averaged over
    runs) with ``spread``, its bootstrap-over-draws interval ``spread_low``, ``spread_high`` and the
    ``band`` (meanfield.gradients.cv2_band) it is judged against by :func:`spread_verdict`; per run and
    pooled the log-log slope of V against m. The pooled slope, the paper's plot, is about 2 for any
    statistic of bounded coefficient of variation when m spans many decades, so it is quoted, not
    judged. Measured: the largest spread; uncertainty: the mean interval half-width.
    """
    _need(slopes, {"run", "metric", "slope", "ci_low", "ci_high"}, "universality slope table")
    if "spread" not in slopes.columns:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "universality table has no spread rows of log10 V/m^2; re-run "
                       "fit_universality")
    sp = slopes[slopes["run"].isin(["between_runs", "along_depth"]) & np.isfinite(slopes["spread"].to_numpy(float))]
    if sp.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "universality table has no finite spread row (one run only?)")
    vs = [spread_verdict(r.spread_low, r.spread_high, r.band) for r in sp.itertuples(index=False)]
    band = float(sp["band"].iloc[0])
    parts = [f"{r.metric} {r.run.replace('_', ' ')} {r.spread:.2f} [{r.spread_low:.2f}, {r.spread_high:.2f}]"
             for r in sp.itertuples(index=False)]
    evidence = (f"sd of log10(V/m^2) in decades (95 % bootstrap over draws) vs [0, {band:g}]: {count(vs)} of {len(vs)}; "
                + "; ".join(parts))
    pooled = slopes[(slopes["run"] == "pooled") & np.isfinite(slopes["slope"].to_numpy(float))]
    if len(pooled):
        tol = settings.slope_tolerance
        evidence += (". Pooled log-log slope (the paper's plot; ~2 for any bounded coefficient of variation, not "
                     f"judged), vs 2 +- {tol:g}: " + "; ".join(
                         f"{r.metric} {r.slope:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
                         + (f" over {r.m_decades:.0f} decades" if "m_decades" in pooled.columns else "")
                         for r in pooled.itertuples(index=False)))
    lo, hi = sp["spread_low"].to_numpy(float), sp["spread_high"].to_numpy(float)
    return Outcome(float(sp["spread"].max()), float(np.nanmean((hi - lo) / 2)), combine(vs), evidence)


def shape_verdict(low: float, high: float) -> Verdict:
    """MF-trainable-depth decision on one panel from the interval [low, high] of the shape difference
    sigma(min(xi_1, xi_2)) - sigma(xi_c) (each candidate at its own fitted k): holds when the interval
    lies below 0 (the paper's depth scale has the better shape), fails above 0, else inconclusive: also when
    an end touches 0, as a bootstrap whose resamples tie (both candidates fit equally well) makes it."""
    side = excludes_zero(low, high)
    return Verdict.HOLDS if side < 0 else Verdict.FAILS if side > 0 else Verdict.INCONCLUSIVE


def _trainable_depth(shape: pd.DataFrame, dropout: bool) -> Outcome:
    """Shared body of the two MF-trainable-depth rows: the project panels with rho < 1 (``dropout``) or
    rho = 1, each judged by :func:`shape_verdict` on its interval widened by the design bias."""
    _need(shape, {"panel", "shape_diff", "shape_diff_low", "shape_diff_high"}, "depth-sweep shape table")
    src = shape["source"] if "source" in shape.columns else pd.Series("project", index=shape.index)
    rho = shape["rho"] if "rho" in shape.columns else pd.Series(1.0, index=shape.index)
    cls = (rho < 1) if dropout else (rho >= 1)
    which = "rho < 1" if dropout else "rho = 1"
    ran = shape[(src == "project") & cls]
    if ran.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, f"no project panel with {which} in the shape table ({len(shape)} rows)")
    ours = ran[np.isfinite(ran["shape_diff"].to_numpy(float))]
    if ours.empty:
        # the panels ran, but their depth grid located no boundary to compare the formulas on
        return Outcome(NAN, NAN, Verdict.INCONCLUSIVE,
                       f"{len(ran)} project panel(s) with {which} ran but none has a finite shape comparison: the depth "
                       "grid brackets too few boundaries; more depths and sw2 columns per panel would decide it")
    vs, parts, need, undecidable = [], [], [], []
    for r in ours.itertuples(index=False):
        bias = float(getattr(r, "design_bias", NAN))
        plat = float(getattr(r, "platform_shift", NAN))
        b = (bias if math.isfinite(bias) else 0.0) + (plat if math.isfinite(plat) else 0.0)
        lo, hi = r.shape_diff_low - b, r.shape_diff_high + b
        v = shape_verdict(lo, hi)
        vs.append(v)
        ks = ", ".join(f"k({c})={getattr(r, 'k_' + c):.1f}" for c in ("xi_c", "min_xi1_xi2") if hasattr(r, "k_" + c))
        touches = (" (an end touches 0: tied bootstrap resamples)"
                   if touches_zero(r.shape_diff_low, r.shape_diff_high) else "")
        design = (f"; design bias +-{bias:.3f} (authors' {getattr(r, 'design_bias_reference', '')} through this "
                  "design)" if math.isfinite(bias) else "; design bias not measured")
        design += _platform_note(r, plat) + f" -> [{lo:+.3f}, {hi:+.3f}]"
        parts.append(f"{r.panel} {r.shape_diff:+.3f} [{r.shape_diff_low:+.3f}, {r.shape_diff_high:+.3f}]{design} "
                     f"({ks}){touches}")
        if v is Verdict.INCONCLUSIVE:
            cols = int(getattr(r, "n_points", 0) or 0) + int(getattr(r, "n_censored", 0) or 0)
            half = (r.shape_diff_high - r.shape_diff_low) / 2
            room = abs(r.shape_diff) - b
            if cols and room > 0 and half > 0:
                # the interval comes from the column scatter (seeds add about a tenth): it narrows as
                # 1/sqrt(columns); the design bias is held fixed (it too shrinks with more columns)
                need.append(f"{r.panel}: ~{math.ceil(cols * (half / room) ** 2)} sw2 columns at the observed effect")
            else:
                extra = " plus the platform shift" if math.isfinite(plat) else ""
                need.append(f"{r.panel}: |shape_diff| {abs(r.shape_diff):.3f} is inside the design bias{extra} {b:.3f}; "
                            "a denser design (more columns, finer depths) must shrink the bias first")
                if room <= 0:
                    # no number of seeds or resamples can decide it on this design: even a zero-width interval,
                    # widened by the shift the design alone puts on the authors' panels, would straddle 0
                    undecidable.append(f"{r.panel} (|shape_diff| {abs(r.shape_diff):.3f} <= design shift{extra} "
                                       f"+-{b:.3f})")
    evidence = ((f"{which}: undecidable at this scale: " + ", ".join(undecidable) + ". ") if undecidable else "")
    level = float(ours["level"].iloc[0]) if "level" in ours.columns else 0.95  # fit_depth_formula's depth_sweep.level
    evidence += (f"{which}: shape error sigma(min(xi_1,xi_2)) - sigma(xi_c) at fitted k ({100 * level:g} % bootstrap over seeds and "
                f"sw2 columns, widened by the design bias and the platform shift), per panel: {count(vs)} of {len(vs)}; "
                + "; ".join(parts))
    ref = shape[(src == "authors") & cls]
    if len(ref):
        sides = [excludes_zero(lo, hi) for lo, hi in zip(ref["shape_diff_low"], ref["shape_diff_high"])]
        better, worse = sides.count(-1), sides.count(1)
        evidence += (f". Authors' released {which} panels, same code, full data: min(xi_1,xi_2) better in {better}, "
                     f"worse in {worse}, undecided in {len(ref) - better - worse} of {len(ref)}")
        if "k_xi_c" in ref.columns and "k_min_xi1_xi2" in ref.columns:
            evidence += (f"; fitted k(xi_c) {ref['k_xi_c'].min():.1f}..{ref['k_xi_c'].max():.1f}, "
                         f"k(min) {ref['k_min_xi1_xi2'].min():.1f}..{ref['k_min_xi1_xi2'].max():.1f} (paper: 6, 12)")
    if "settle_step" in ours.columns:
        steps = [f"{r.panel} by step {int(r.settle_step)} of {int(r.last_step)}" for r in ours.itertuples(index=False)
                 if math.isfinite(float(r.settle_step)) and int(r.settle_step) >= 0]
        if steps:
            evidence += ". Shape difference within 0.02 of its final value from " + ", ".join(steps) + " (k_steps.png)"
    if "k_xi_c" in ours.columns and "k_min_xi1_xi2" in ours.columns:
        evidence += ("; final k(xi_c) " + ", ".join(f"{v:.1f}" for v in ours["k_xi_c"]) + " vs the paper's 6, k(min) "
                     + ", ".join(f"{v:.1f}" for v in ours["k_min_xi1_xi2"]) + " vs 12 (k grows with the training budget)")
    if need:
        evidence += ". To decide: " + ", ".join(need)
    half = ((ours["shape_diff_high"] - ours["shape_diff_low"]) / 2).to_numpy(float)
    return Outcome(float(ours["shape_diff"].mean()), float(np.nanmean(half)), combine(vs), evidence)


def _platform_note(r: Any, shift: float) -> str:
    """The platform check of one shape row (fit_depth_formula's platform_check.csv): how many re-trained
    networks changed their trained status and how far the shape difference moved with them."""
    if not math.isfinite(shift):
        return "; platform variation not measured (depth_sweep.platform_check names no cell of this panel)"
    of = float(getattr(r, "platform_of_depths", NAN))
    cells = f"{len(str(getattr(r, 'platform_depths', '')).split())} of {int(of)} depths" if math.isfinite(of) else "cells"
    return (f"; platform +-{shift:.3f} (L={getattr(r, 'platform_depths', '')} re-trained with "
            f"{getattr(r, 'platform_kernels', '')}: {int(getattr(r, 'platform_flips', 0))} of "
            f"{int(getattr(r, 'platform_networks', 0))} networks changed status; a lower bound, as another machine "
            f"changes all cells, not {cells}; platform_check.csv)")


def claim_trainable_depth(shape: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: with dropout (rho < 1), the trainable depth is better described by 12 x depth scale
    (12 min(xi_1, xi_2)) than by Schoenholz et al.'s 6 xi_c.

    ``shape`` (depth_sweep formula_shape table): one row per panel (``source`` project | authors, ``rho``)
    with ``shape_diff`` = sigma of min(xi_1, xi_2) minus sigma of xi_c, where sigma is the scatter of the
    measured boundary ln L_b about ln(k xi) at each candidate's own fitted k (censored fit), its
    bootstrap interval over seeds and columns (``shape_diff_low``, ``shape_diff_high``), the fitted
    ``k_<candidate>`` and ``design_bias``: the largest |shift| of the authors' released panels of the
    same dropout class when run through this panel's columns and depths (design_check.csv), and
    ``platform_shift``: how far the shape difference moves when a cell re-trained under another CPU kernel
    dispatch replaces the sweep's own (platform_check.csv; identical code rounds differently across
    machines and training amplifies it). The
    multipliers 12 and 6 grow with the training budget, so the budget-free comparison is the shape.
    Each project panel by :func:`shape_verdict` on its interval widened by the design bias and the
    platform shift on both sides (a verdict smaller than the bias the design alone causes is not a verdict). The authors'
    panels are quoted, not judged. rho = 1 is :func:`claim_trainable_depth_rho1` (there
    min(xi_1, xi_2) = xi_1, and the authors' own panels disagree). Measured: the mean
    shape_diff over project panels (negative supports); uncertainty: the mean interval half-width.
    """
    return _trainable_depth(shape, dropout=True)


def claim_trainable_depth_rho1(shape: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: without dropout (rho = 1), the same comparison as :func:`claim_trainable_depth`."""
    return _trainable_depth(shape, dropout=False)


def claim_fig1_fixed_points(captions: pd.DataFrame, settings: Settings) -> Outcome:
    """MF Fig. 1 captions: the fixed points q* and c* quoted for linear, tanh, ReLU and erf networks.

    ``captions`` (meanfield caption_checks table): one row per quoted value with columns activation,
    rho, quantity (q_star | c_star), ``paper`` (the quoted value; inf = "q diverges"), ``ours``
    (large-width theory), ``tolerance`` (half a unit of the caption's last quoted significant figure)
    and ``authors_scheme`` (q* by the authors' released numerical scheme). A value holds when
    |ours - paper| <= its tolerance (ours rounds to the quoted value at its quoted digits), or both
    are inf. Measured: the largest |ours - paper| relative to its tolerance (<= 1 holds).
    """
    _need(captions, {"activation", "rho", "quantity", "paper", "ours", "tolerance"}, "caption table")
    if captions.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "caption table has no rows")
    vs, errs, misses = [], [], []
    for r in captions.itertuples(index=False):
        paper, ours, tol = float(r.paper), float(r.ours), float(r.tolerance)
        if math.isinf(paper):
            v = Verdict.HOLDS if ours == paper else Verdict.FAILS
        else:
            v = band_verdict(ours, ours, paper - tol, paper + tol)
            if math.isfinite(ours) and tol > 0:
                errs.append(abs(ours - paper) / tol)
        vs.append(v)
        if v is not Verdict.HOLDS:
            misses.append(f"{r.activation} rho={r.rho:g} {r.quantity}: {ours:.6g} vs {paper:g} (+- {tol:g})")
    evidence = f"{count(vs)} of {len(vs)} caption values at their quoted significant figures"
    if misses:
        evidence += "; off: " + "; ".join(misses)
    if "authors_scheme" in captions.columns:
        a = captions[np.isfinite(captions["authors_scheme"].to_numpy(float))
                     & np.isfinite(captions["ours"].to_numpy(float))]
        if len(a):
            d = (a["ours"] - a["authors_scheme"]).abs().to_numpy(float)
            w = a.iloc[int(np.argmax(np.abs(a["ours"] - a["paper"]).to_numpy(float)))]
            evidence += (f"; the authors' own numerical scheme gives our q* to {d.max():.1e} on all {len(a)} q* rows "
                         f"(e.g. {w.activation} rho={w.rho:g}: scheme {w.authors_scheme:.6f}, ours {w.ours:.6f}, "
                         f"caption {w.paper:g})")
    if {"printed_figs", "sig_figs", "printed_tolerance"} <= set(captions.columns):
        # a caption printed with more figures than it is judged at (12.450 read as 12.45 padded): say how it
        # compares at the printed figures, for ours and for the authors' own scheme
        for r in captions[captions["printed_figs"] > captions["sig_figs"]].itertuples(index=False):
            ours, paper, tol = float(r.ours), float(r.paper), float(r.printed_tolerance)
            scheme = float(getattr(r, "authors_scheme", NAN))
            fig = f"{paper:.{max(int(r.printed_figs) - 1 - math.floor(math.log10(abs(paper))), 0)}f}"
            line = (f"; {r.activation} rho={r.rho:g} {r.quantity} as printed, {fig} at {int(r.printed_figs)} significant "
                    f"figures: ours {ours:.4f} {'matches' if abs(ours - paper) <= tol else 'misses'} it by "
                    f"{abs(ours - paper):.4f}")
            if math.isfinite(scheme):
                line += (f", the authors' own scheme {scheme:.4f} {'matches' if abs(scheme - paper) <= tol else 'misses'}"
                         f" it by {abs(scheme - paper):.4f}")
            evidence += line + f" (judged at {int(r.sig_figs)})"
    return Outcome(max(errs) if errs else NAN, NAN, combine(vs), evidence)


# ---- registry ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A registered claim: id, paper, text, what the measured number is, the names of the inputs the
    function takes (keys of the inputs mapping) and the function."""

    id: str
    paper: str
    text: str
    measure: str
    inputs: tuple[str, ...]
    fn: Callable[..., Outcome]


SPA = "SPA (Gao et al., IJCNN 2023)"
MF = "MF dropout (Huang et al., ECAI 2020)"

CLAIMS: tuple[Claim, ...] = (
    Claim("T1", SPA, "At the same eps, accuracy under SPA is lower than under every existing attack "
          "(PGD, generator, attribute-only; each in its own threat model, the paper's wording), on every benchmark",
          "mean accuracy difference SPA - best baseline (negative supports)", ("t1",), claim_t1),
    Claim("T1-composed", SPA, "(reading of T1, issue 21) accuracy under SPA is lower than under existing attacks "
          "composed in SPA's own threat model (grid-PGD, joint-PGD, joint-APGD), on every benchmark",
          "mean accuracy difference SPA - best composed attack (negative supports)", ("t1",), claim_t1_composed),
    Claim("T2", SPA, "SPA-AT is more accurate under joint perturbations (SPA, joint-PGD, joint-APGD) than PGD-AT, "
          "TRADES, attribute augmentation and worst-of-k rotation + PGD training",
          "mean accuracy difference SPA-AT - baseline defence (positive supports)", ("t2",), claim_t2),
    Claim("MF-no-transition", MF, "With dropout (rho < 1), c* < 1 for every sw2: no order-to-chaos transition",
          "largest c* over every rho < 1 grid point", ("phase_diagram",), claim_no_transition),
    Claim("MF-same-depth-scale-observables", MF, "The plotted gradient observables (g_aa, tilde g_ab, spread of "
          "g_ab) decay with the depth scale xi_1",
          "mean u of their decay rates (u: 0 = xi_1, 1 = xi_c)", ("gradient_rates",),
          claim_same_depth_scale_observables),
    Claim("MF-same-depth-scale", MF, "Without the GIA, pair gradients follow single-input ones (depth scale xi_1), "
          "not the GIA's xi_c: real backprop moves the signed pair-gradient decay away from xi_c",
          "mean paired difference exact u - GIA u of the signed pair-gradient mean (u: 0 = xi_1, 1 = xi_c; "
          "negative supports)", ("gradient_rates",), claim_same_depth_scale),
    Claim("MF-universality", MF, "The variance of gradient metrics is proportional to their mean squared "
          "(V ~ m^2) across activations, rho and widths",
          "largest sd of log10(V/m^2) in decades, between runs at matched depth or along depth (claim: small)",
          ("universality",), claim_universality),
    Claim("MF-trainable-depth", MF, "With dropout (rho < 1), the trainable depth is better described by 12 x "
          "depth scale (12 min(xi_1, xi_2)) than by 6 xi_c",
          "mean shape error (fitted-k scatter of ln L_b) of min(xi_1,xi_2) minus that of xi_c (negative supports)",
          ("depth_shape",), claim_trainable_depth),
    Claim("MF-trainable-depth-rho1", MF, "Without dropout (rho = 1), the trainable depth is better described by "
          "12 x depth scale (12 xi_1) than by 6 xi_c",
          "mean shape error (fitted-k scatter of ln L_b) of min(xi_1,xi_2) minus that of xi_c (negative supports)",
          ("depth_shape",), claim_trainable_depth_rho1),
    Claim("MF-fig1", MF, "Fig. 1 captions: q* and c* of linear, tanh, ReLU and erf networks at rho = 1, 0.7, 0.4",
          "largest |ours - quoted| / half a unit of the quoted last digit", ("captions",), claim_fig1_fixed_points),
)


# scales that exercise the code paths only: every claim is computed (so its code runs) but no verdict is
# drawn, and the row says why
NO_VERDICT_SCALES = {"smoke": "smoke: numbers mean nothing"}


def evaluate(claim: Claim, inputs: Mapping[str, Any], sources: Mapping[str, str], scale: str,
             settings: Settings) -> ClaimRow:
    """Run one claim. ``inputs`` maps input names to tables/dicts, or None where the file is missing
    (-> verdict ``not run`` naming it); ``sources`` maps input names to the file they came from."""
    src = "; ".join(str(sources.get(k, k)) for k in claim.inputs)
    missing = [k for k in claim.inputs if inputs.get(k) is None]
    if missing:
        out = Outcome(NAN, NAN, Verdict.NOT_RUN,
                      "missing input: " + ", ".join(str(sources.get(k, k)) for k in missing))
    else:
        out = claim.fn(*(inputs[k] for k in claim.inputs), settings)
    if scale in NO_VERDICT_SCALES and out.verdict is not Verdict.NOT_RUN:  # "not run" stays: a code path that did not run
        out = Outcome(out.measured, out.uncertainty, Verdict.NO_VERDICT, f"{NO_VERDICT_SCALES[scale]}; {out.evidence}")
    return ClaimRow(claim.id, claim.paper, claim.text, claim.measure, out.measured, out.uncertainty, scale,
                    out.verdict.value, out.evidence, src)


def summarise(inputs: Mapping[str, Any], sources: Mapping[str, str], scale: str, settings: Settings,
              claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """The summary table: one row per registered claim, columns :data:`COLUMNS`."""
    rows = [dataclasses.asdict(evaluate(c, inputs, sources, scale, settings)) for c in claims]
    return pd.DataFrame(rows, columns=COLUMNS)


def _fmt(v: float) -> str:
    return "n/a" if not (isinstance(v, float) and math.isfinite(v)) else format(v, ".4g")


def to_markdown(summary: pd.DataFrame, scale: str) -> str:
    """summary.md: a short header, the verdict tally and one table row per claim."""
    tally = summary["verdict"].value_counts()
    lines = [
        f"# Reproduction summary ({scale} scale)",
        "",
        "Every verdict below is computed from the phase tables by `reproflow.report.summary`; "
        "none is typed by hand. Verdicts: holds / fails / inconclusive (the interval straddles the "
        "decision boundary, or too few seeds) / not run (an input file is missing).",
        "",
        "Tally: " + ", ".join(f"{v}: {int(tally.get(v, 0))}" for v in (x.value for x in Verdict)),
        "",
        "| claim | paper | claim text | measure | measured | +- | verdict | evidence | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples(index=False):
        lines.append(f"| {r.claim} | {r.paper} | {r.text} | {r.measure} | {_fmt(r.measured)} | "
                     f"{_fmt(r.uncertainty)} | **{r.verdict}** | {r.evidence} | `{r.source}` |")
    return "\n".join(lines) + "\n"


def to_metrics(summary: pd.DataFrame) -> dict[str, Any]:
    """metrics.json for ``dvc metrics show``: per claim the measured number, its uncertainty and the
    verdict as a code (1 holds, 0 inconclusive, -1 fails, null not run), plus the tally."""
    code = {Verdict.HOLDS.value: 1, Verdict.INCONCLUSIVE.value: 0, Verdict.FAILS.value: -1}

    def num(v: float) -> float | None:
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    out: dict[str, Any] = {"claims": {}}
    for r in summary.itertuples(index=False):
        out["claims"][r.claim] = {"measured": num(r.measured), "uncertainty": num(r.uncertainty),
                                  "verdict": code.get(r.verdict)}
    out["tally"] = {v.value.replace(" ", "_"): int((summary["verdict"] == v.value).sum()) for v in Verdict}
    return out
