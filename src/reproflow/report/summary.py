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
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from reproflow.errors import UserError
from reproflow.report.verdicts import Verdict, band_verdict, combine, count, sign_verdict

NAN = math.nan


@dataclass(frozen=True)
class Settings:
    """Decision thresholds (the ``report`` section of params.yaml).

    z: interval half-width in standard errors for a significant difference (2 ~ 95 %);
    slope_tolerance: V ~ m^2 holds when the fitted log-log slope's interval lies in 2 +- this;
    rate_tolerance: a fitted gradient decay rate "equals" ln chi when the interval of their ratio
    lies in 1 +- this; cstar_margin: c* counts as below 1 when 1 - c* exceeds this (root-finding
    precision); caption_tolerance: a computed fixed point reproduces a Fig. 1 caption value when
    they differ by at most this (half a unit of the captions' last quoted digit).
    """

    z: float
    slope_tolerance: float
    rate_tolerance: float
    cstar_margin: float
    caption_tolerance: float

    def __post_init__(self) -> None:
        for name in ("z", "slope_tolerance", "rate_tolerance", "cstar_margin", "caption_tolerance"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"report setting {name} must be a finite number >= 0, got {v!r}")


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

def _directional_table(table: pd.DataFrame, keys: list[str], diff: str, se: str, direction: str, what: str,
                       settings: Settings) -> Outcome:
    """One verdict per row from its paired difference ``diff`` and standard error ``se`` (over seeds),
    claimed ``< 0`` or ``> 0`` by ``direction``; combined "in every setting". Measured: the mean
    difference over rows; uncertainty: the standard error of that mean (rows independent)."""
    _need(table, set(keys) | {diff, se}, what)
    if table.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, f"{what} has no rows")
    diffs, ses = table[diff].to_numpy(float), table[se].to_numpy(float)
    vs = [sign_verdict(d, s, settings.z, direction) for d, s in zip(diffs, ses)]
    signed = diffs if direction == "greater" else -diffs
    worst = int(np.nanargmin(signed)) if np.isfinite(signed).any() else 0
    label = ", ".join(f"{k}={table.iloc[worst][k]}" for k in keys)
    evidence = (f"{count(vs)} of {len(vs)} settings; least favourable {label}: "
                f"{diffs[worst]:+.3f} +- {settings.z:g} x {ses[worst]:.3f}")
    if "verdict" in table.columns:
        disagree = int(sum(str(a) != b.value for a, b in zip(table["verdict"], vs)))
        if disagree:
            evidence += f"; {disagree} row verdict(s) differ from the table's own (another z?)"
    return Outcome(float(np.nanmean(diffs)), float(np.sqrt(np.nansum(ses ** 2)) / len(ses)), combine(vs), evidence)


def claim_t1(t1: pd.DataFrame, settings: Settings) -> Outcome:
    """SPA T1: at the same eps, accuracy under SPA is lower than under the best existing attack
    (joint-PGD excluded), on every benchmark.

    ``t1`` (attack phase, claims/T1.csv): one row per (dataset, model, eps) with ``difference`` = mean
    over seeds of SPA accuracy - best baseline accuracy (paired) and its standard error
    ``difference_se`` (NaN with one seed). Measured: the mean difference over rows (accuracy as a
    fraction; negative supports T1).
    """
    keys = ["dataset", "model", "eps"]
    if "counts" in t1.columns:
        # rows through a learned editor that failed its semantic gate are reported in T1.csv but do not count
        t1 = t1[t1["counts"].astype(str).str.lower().isin(["true", "1", "1.0"])]
        keys = ["dataset", "model", "editor", "eps"] if "editor" in t1.columns else keys
    return _directional_table(t1, keys, "difference", "difference_se", "less", "claims/T1.csv", settings)


def claim_t2(t2: pd.DataFrame, settings: Settings) -> Outcome:
    """SPA T2: SPA-AT is more accurate under joint perturbations (SPA, joint-PGD) than the existing
    defences (PGD-AT, TRADES, attribute augmentation).

    ``t2`` (advtrain phase, claims/T2.csv): rows of ``kind`` "claim" per (dataset, eps, attack,
    baseline) with ``diff_mean`` = SPA-AT accuracy - baseline accuracy (paired over seeds; positive
    supports T2) and ``diff_se``; rows of ``kind`` "cost" (clean and pixel-PGD accuracy of SPA-AT
    against other defences) are quoted in the evidence, not judged. Measured: the mean difference
    over the claim rows.
    """
    _need(t2, {"kind", "attack", "baseline", "diff_mean"}, "claims/T2.csv")
    out = _directional_table(t2[t2["kind"] == "claim"], ["dataset", "eps", "attack", "baseline"], "diff_mean",
                             "diff_se", "greater", "claims/T2.csv", settings)
    cost = t2[t2["kind"] == "cost"]
    if not cost.empty:
        parts = [f"{r.attack if r.attack != 'none' else 'clean'} vs {r.baseline} {r.diff_mean:+.3f}"
                 for r in cost.itertuples(index=False)]
        out = dataclasses.replace(out, evidence=out.evidence + "; SPA-AT cost: " + ", ".join(parts))
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


# gradient curves of the decay-rate table judged by the "same depth scale" claim: the single-input
# g_aa, the pair tilde g_ab and the spread of the signed pair g_ab (its mean is statistically zero deep
# below the output, spec section 3; |mean g_ab| over the significant layers is too sparse to judge)
RATE_CURVES = ("g_aa", "tg_ab", "g_ab_sd")


def claim_same_depth_scale(rates: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: measured with real backpropagation (no GIA), single-input and pair gradients decay with the
    same depth scale xi_1 (the GIA predicts xi_c = xi_2 for pairs).

    ``rates`` (meanfield gradient_rates table): one row per (run, curve) with the fitted slope of
    ln(value) against the layers below the output (``slope``, an estimate of ln chi), its 95 %
    interval ``ci_low``, ``ci_high`` and the theory ``ln_chi_1``, ``ln_chi_c``. Each curve of
    :data:`RATE_CURVES` holds when the interval of slope / ln chi_1 lies in 1 +- rate_tolerance.
    Measured: the mean ratio over the pair curves (tg_ab, g_ab_sd); uncertainty: their mean
    interval half-width.
    """
    _need(rates, {"run", "curve", "slope", "ci_low", "ci_high", "ln_chi_1", "ln_chi_c"}, "gradient_rates table")
    t = rates[rates["curve"].isin(RATE_CURVES)]
    if t.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, f"gradient_rates table has no {'/'.join(RATE_CURVES)} rows")
    ln1 = t["ln_chi_1"].to_numpy(float)
    a, b = t["ci_low"].to_numpy(float) / ln1, t["ci_high"].to_numpy(float) / ln1
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    ratio = t["slope"].to_numpy(float) / ln1
    tol = settings.rate_tolerance
    vs = [band_verdict(x, y, 1 - tol, 1 + tol) for x, y in zip(lo, hi)]
    pair = t["curve"].isin(["tg_ab", "g_ab_sd"]).to_numpy() & np.isfinite(ratio)
    gia = (t["ln_chi_c"] / t["ln_chi_1"]).to_numpy(float)
    discriminating = np.abs(gia - 1) > tol
    off = [f"{r.run}/{r.curve} {x:.2f}" for r, x, v in zip(t.itertuples(index=False), ratio, vs) if v is not Verdict.HOLDS]
    evidence = (f"{count(vs)} of {len(vs)} curves in {t['run'].nunique()} runs; slope/ln chi_1 "
                f"{np.nanmin(ratio):.3f}..{np.nanmax(ratio):.3f}; the GIA ratio ln chi_c/ln chi_1 is outside "
                f"1 +- {tol:g} in {int(discriminating.sum())} curves")
    if off:
        evidence += "; not holding: " + ", ".join(off[:6]) + (" ..." if len(off) > 6 else "")
    if not pair.any():
        return Outcome(NAN, NAN, combine(vs), evidence)
    return Outcome(float(np.mean(ratio[pair])), float(np.nanmean((hi - lo)[pair] / 2)), combine(vs), evidence)


def claim_universality(slopes: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: over layers, the variance V of a gradient metric is proportional to the square of its
    mean m (log-log slope 2) for every activation, rho and width.

    ``slopes`` (meanfield universality table): one row per (run, metric) with the fitted ``slope`` of
    log V against log m and its 95 % interval ``ci_low``, ``ci_high`` (NaN when too few layers).
    Each holds when its interval lies in 2 +- slope_tolerance. Measured: the mean slope over the
    finite fits; uncertainty: their mean interval half-width.
    """
    _need(slopes, {"slope", "ci_low", "ci_high"}, "universality slope table")
    fin = slopes[np.isfinite(slopes["slope"].to_numpy(float))]
    if fin.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, f"universality slope table has no finite fit ({len(slopes)} rows)")
    tol = settings.slope_tolerance
    lo, hi = fin["ci_low"].to_numpy(float), fin["ci_high"].to_numpy(float)
    vs = [band_verdict(a, b, 2 - tol, 2 + tol) for a, b in zip(lo, hi)]
    s_ = fin["slope"].to_numpy(float)
    evidence = (f"{count(vs)} of {len(vs)} fits; slopes {s_.min():.3f}..{s_.max():.3f} vs 2 +- {tol:g}; "
                f"{int(((lo <= 2) & (hi >= 2)).sum())} intervals contain 2")
    if len(fin) < len(slopes):
        evidence += f"; {len(slopes) - len(fin)} fits without enough layers left out"
    return Outcome(float(s_.mean()), float(np.nanmean((hi - lo) / 2)), combine(vs), evidence)


def claim_trainable_depth(boundaries: pd.DataFrame, settings: Settings) -> Outcome:
    """MF: the trainable depth is better described by 12 x depth scale (12 min(xi_1, xi_2)) than by
    Schoenholz et al.'s 6 xi_c.

    ``boundaries`` (depth_sweep boundary table): columns panel, sw2, depth_boundary, censored
    ("none" for a measured boundary), xi_min, xi_c. Per uncensored sw2 column the paired difference
    |ln(L_b / (12 xi_min))| - |ln(L_b / (6 xi_c))|; measured: its mean over every column of every
    panel (negative favours 12 x depth scale), uncertainty: its standard error.
    """
    _need(boundaries, {"panel", "sw2", "depth_boundary", "censored", "xi_min", "xi_c"}, "depth-sweep boundaries")
    b = boundaries[(boundaries["censored"] == "none")]
    lb, xm, xc = (b[c].to_numpy(float) for c in ("depth_boundary", "xi_min", "xi_c"))
    ok = np.isfinite(lb) & np.isfinite(xm) & np.isfinite(xc) & (lb > 0) & (xm > 0) & (xc > 0)
    if not ok.any():
        return Outcome(NAN, NAN, Verdict.NOT_RUN,
                       f"no uncensored, finite boundary among {len(boundaries)} sw2 columns")
    d = np.abs(np.log(lb[ok] / (12 * xm[ok]))) - np.abs(np.log(lb[ok] / (6 * xc[ok])))
    mean, se = float(d.mean()), _se(d)
    panels = b[ok]["panel"].nunique()
    evidence = (f"{ok.sum()} uncensored sw2 columns in {panels} panel(s); mean |ln error| "
                f"12 min(xi_1,xi_2): {np.abs(np.log(lb[ok] / (12 * xm[ok]))).mean():.3f}, "
                f"6 xi_c: {np.abs(np.log(lb[ok] / (6 * xc[ok]))).mean():.3f}")
    return Outcome(mean, se, sign_verdict(mean, se, settings.z, "less"), evidence)


def claim_fig1_fixed_points(captions: pd.DataFrame, settings: Settings) -> Outcome:
    """MF Fig. 1 captions: the fixed points q* and c* quoted for linear, tanh, ReLU and erf networks.

    ``captions`` (meanfield caption_checks table): one row per quoted value with columns activation,
    rho, quantity (q_star | c_star), ``paper`` (the quoted value; inf = "q diverges") and ``ours``
    (large-width theory). A value holds when |ours - paper| <= caption_tolerance (half a unit of the
    captions' last quoted digit: ours rounds to the quoted value), or both are inf. Measured: the
    largest |ours - paper| over the finite quoted values (the evidence adds it relative to the value).
    """
    _need(captions, {"activation", "rho", "quantity", "paper", "ours"}, "caption table")
    if captions.empty:
        return Outcome(NAN, NAN, Verdict.NOT_RUN, "caption table has no rows")
    tol = settings.caption_tolerance
    vs, errs, misses = [], [], []
    for r in captions.itertuples(index=False):
        paper, ours = float(r.paper), float(r.ours)
        if math.isinf(paper):
            v = Verdict.HOLDS if ours == paper else Verdict.FAILS
        else:
            v = band_verdict(ours, ours, paper - tol, paper + tol)
            if math.isfinite(ours):
                errs.append(abs(ours - paper))
        vs.append(v)
        if v is not Verdict.HOLDS:
            rel = abs(ours - paper) / abs(paper) if math.isfinite(paper) and paper else NAN
            misses.append(f"{r.activation} rho={r.rho:g} {r.quantity}: {ours:.6g} vs {paper:g} ({100 * rel:.3g} %)")
    evidence = f"{count(vs)} of {len(vs)} caption values within {tol:g}"
    if misses:
        evidence += "; off: " + "; ".join(misses)
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
          "(PGD, generator, attribute-only), on every benchmark",
          "mean accuracy difference SPA - best baseline (negative supports)", ("t1",), claim_t1),
    Claim("T2", SPA, "SPA-AT is more accurate under joint perturbations (SPA, joint-PGD) than PGD-AT, "
          "TRADES and attribute augmentation",
          "mean accuracy difference SPA-AT - baseline defence (positive supports)", ("t2",), claim_t2),
    Claim("MF-no-transition", MF, "With dropout (rho < 1), c* < 1 for every sw2: no order-to-chaos transition",
          "largest c* over every rho < 1 grid point", ("phase_diagram",), claim_no_transition),
    Claim("MF-same-depth-scale", MF, "Without the GIA, single-input and pair gradients decay with the same "
          "depth scale xi_1", "mean fitted pair decay rate / ln chi_1 (1 = same scale)", ("gradient_rates",),
          claim_same_depth_scale),
    Claim("MF-universality", MF, "The variance of gradient metrics is proportional to their mean squared "
          "(V ~ m^2) across activations, rho and widths", "mean fitted log-log slope of V vs m (claim: 2)",
          ("universality",), claim_universality),
    Claim("MF-trainable-depth", MF, "The trainable depth is better described by 12 x depth scale "
          "(12 min(xi_1, xi_2)) than by 6 xi_c",
          "mean |ln error| of 12 min(xi_1,xi_2) minus that of 6 xi_c (negative supports)",
          ("depth_boundaries",), claim_trainable_depth),
    Claim("MF-fig1", MF, "Fig. 1 captions: q* and c* of linear, tanh, ReLU and erf networks at rho = 1, 0.7, 0.4",
          "largest |ours - quoted| fixed point", ("captions",), claim_fig1_fixed_points),
)


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
