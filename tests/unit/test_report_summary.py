"""Verdict logic of the reproduction summary on hand-made tables: holds, fails, inconclusive, not run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reproflow.errors import UserError
from reproflow.report import summary as S
from reproflow.report.verdicts import Interval, Verdict, band_verdict, combine, directional_verdict, excludes_zero

SET = S.Settings(coverage=0.95, slope_tolerance=0.25, rate_tolerance=0.2, cstar_margin=1e-9)


# ---- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "low, high, expected",
    [(-0.3, -0.1, Verdict.HOLDS), (0.1, 0.3, Verdict.FAILS), (-0.1, 0.05, Verdict.INCONCLUSIVE),
     (math.nan, -0.1, Verdict.INCONCLUSIVE), (-0.2, -0.2, Verdict.INCONCLUSIVE)],
)
def test_directional_verdict_less(low, high, expected):
    iv = Interval((low + high) / 2, low, high, 3, 0.95, "t, 2 df")
    assert directional_verdict(iv, "less") is expected
    # the mirrored claim swaps holds and fails
    mirrored = {Verdict.HOLDS: Verdict.FAILS, Verdict.FAILS: Verdict.HOLDS}.get(expected, expected)
    assert directional_verdict(iv, "greater") is mirrored
    with pytest.raises(ValueError):
        directional_verdict(iv, "lower")


@pytest.mark.parametrize(
    "lo, hi, expected",
    [(1.9, 2.1, Verdict.HOLDS), (2.6, 2.9, Verdict.FAILS), (1.5, 2.1, Verdict.INCONCLUSIVE),
     (math.nan, 2.0, Verdict.INCONCLUSIVE), (2.1, 1.9, Verdict.HOLDS)],
)
def test_band_verdict(lo, hi, expected):
    assert band_verdict(lo, hi, 1.75, 2.25) is expected


def test_combine():
    H, F, I, N = Verdict.HOLDS, Verdict.FAILS, Verdict.INCONCLUSIVE, Verdict.NOT_RUN
    assert combine([H, H]) is H
    assert combine([H, I]) is I
    assert combine([H, I, F]) is F
    assert combine([N, H]) is H
    assert combine([N, N]) is N
    assert combine([]) is N


# ---- SPA claims ----------------------------------------------------------------------------------

def _t1(diffs, halves, n=3):
    """T1 rows with t-intervals diff +- half (as the attack phase writes them)."""
    d, h = np.asarray(diffs, float), np.asarray(halves, float)
    return pd.DataFrame({"dataset": ["digits_rot"] * len(diffs), "model": "standard",
                         "eps": [0.05, 0.1, 0.2][: len(diffs)], "difference": d, "difference_low": d - h,
                         "difference_high": d + h, "coverage": 0.95, "n_seeds": n})


def test_t1_holds_fails_inconclusive():
    assert S.claim_t1(_t1([-0.3, -0.2], [0.02, 0.03]), SET).verdict is Verdict.HOLDS
    # one benchmark where SPA is clearly weaker fails "on every benchmark"
    out = S.claim_t1(_t1([-0.3, 0.2], [0.02, 0.03]), SET)
    assert out.verdict is Verdict.FAILS and "eps=0.1: +0.200" in out.evidence
    assert S.claim_t1(_t1([-0.3, -0.01], [0.02, 0.1]), SET).verdict is Verdict.INCONCLUSIVE
    # a single seed has no interval, and zero spread no width: never a verdict either way
    assert S.claim_t1(_t1([-0.3], [math.nan], n=1), SET).verdict is Verdict.INCONCLUSIVE
    assert S.claim_t1(_t1([-0.3], [0.0]), SET).verdict is Verdict.INCONCLUSIVE


def test_t1_measured_is_mean_difference_with_mean_half_width():
    out = S.claim_t1(_t1([-0.3, -0.1], [0.1, 0.2]), SET)
    assert out.measured == pytest.approx(-0.2)
    assert out.uncertainty == pytest.approx(0.15)
    assert "95 % intervals, t over 3 seeds" in out.evidence


def _t2(diffs):
    claim = pd.DataFrame({"dataset": "digits_rot", "eps": 0.1, "kind": "claim", "attack": ["spa", "joint_pgd"],
                          "baseline": ["pgd_at", "trades"], "diff_mean": diffs,
                          "diff_low": np.asarray(diffs) - 0.04, "diff_high": np.asarray(diffs) + 0.04, "n_seeds": 3})
    cost = pd.DataFrame({"dataset": "digits_rot", "eps": 0.1, "kind": "cost", "attack": ["none", "pgd"],
                         "baseline": "pgd_at", "diff_mean": [-0.5, -0.6], "diff_low": [-0.52, -0.62],
                         "diff_high": [-0.48, -0.58], "n_seeds": 3})
    return pd.concat([claim, cost], ignore_index=True)


def test_t2_judges_claim_rows_only_and_quotes_the_cost():
    # the cost rows (SPA-AT far worse in clean / pixel-PGD accuracy) do not decide T2
    out = S.claim_t2(_t2([0.2, 0.15]), SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(0.175)
    assert "clean vs pgd_at -0.500" in out.evidence and "pgd vs pgd_at -0.600" in out.evidence
    assert S.claim_t2(_t2([0.2, -0.15]), SET).verdict is Verdict.FAILS
    assert S.claim_t2(_t2([0.2, 0.01]), SET).verdict is Verdict.INCONCLUSIVE
    # the defences' schedule at this scale travels with the rows into the evidence
    sized = _t2([0.2, -0.15]).assign(defence_schedule="2 epochs (0 clean warm-up), SPA-AT T=2 R=1")
    assert "defences trained at this scale: 2 epochs (0 clean warm-up), SPA-AT T=2 R=1" in S.claim_t2(sized, SET).evidence
    # training adequacy (issue 21): a row whose defences were still learning makes T2 not decidable, never "fails"
    moving = _t2([0.2, -0.15]).assign(plateau=["yes", "no: pgd_at", "yes", "yes"])
    out = S.claim_t2(moving, SET)
    assert out.verdict is Verdict.INCONCLUSIVE and out.evidence.startswith("not decidable at this scale")
    assert "pgd_at" in out.evidence
    assert S.claim_t2(_t2([0.2, -0.15]).assign(plateau="yes"), SET).verdict is Verdict.FAILS
    # the image count's capacity to decide is stated even when the schedule is not (the quick page)
    counted = _t2([0.2, -0.15]).assign(plateau=["no: pgd_at", "yes", "yes", "yes"], n_images=60,
                                       role=["primary", "secondary", "cost", "cost"], images_to_decide=None)
    assert "primary comparison: 60 images per seed: half-width 0.040 against an effect of 0.200, so the image count " \
           "decides" in S.claim_t2(counted, SET).evidence
    # a secondary row off its plateau does not count (apply_plateau) but leaves the primary row to decide
    secondary_moving = moving.assign(role=["primary", "secondary", "cost", "cost"], counts=[True, False, True, True])
    assert S.claim_t2(secondary_moving, SET).verdict is Verdict.HOLDS


def test_bad_table_names_the_file_and_columns():
    with pytest.raises(UserError, match=r"claims/T1.csv.*difference"):
        S.claim_t1(pd.DataFrame({"dataset": ["a"], "eps": [0.1]}), SET)


# ---- mean-field claims ---------------------------------------------------------------------------

def _pd(c_drop):
    rows = []
    for sw2 in (1.0, 2.0, 3.0):
        rows.append({"activation": "tanh", "sw2": sw2, "sb2": 0.05, "rho": 1.0, "c_star": 1.0 if sw2 < 2 else 0.5})
        rows.append({"activation": "tanh", "sw2": sw2, "sb2": 0.05, "rho": 0.9, "c_star": c_drop(sw2)})
    return pd.DataFrame(rows)


def test_no_transition():
    out = S.claim_no_transition(_pd(lambda s: 0.9 - 0.1 * s), SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(0.8)
    assert S.claim_no_transition(_pd(lambda s: 1.0 if s == 1.0 else 0.5), SET).verdict is Verdict.FAILS
    only_rho1 = _pd(lambda s: 0.5)
    assert S.claim_no_transition(only_rho1[only_rho1["rho"] == 1.0], SET).verdict is Verdict.NOT_RUN


def _rates(u_exact, u_gia=1.0, half=0.05, role="paper", lc1=-0.05, lcc=-0.20, draws=40, du_half=0.05):
    """A gradient_rates table of one run: exact and GIA rows for every curve, the signed-mean g_ab
    rate at ``u_exact`` / ``u_gia`` GIA-separation units (0 = ln chi_1, 1 = ln chi_c), the exact rows with
    the paired difference du = u_exact - u_gia +- ``du_half``."""
    rows = []
    for backward, u_mean in (("exact", u_exact), ("gia", u_gia)):
        for curve in ("g_aa", "tg_ab", "g_ab_sd", "g_ab_mean"):
            u = u_mean if curve == "g_ab_mean" else 0.02
            du = u_exact - u_gia if curve == "g_ab_mean" else 0.0
            slope = lc1 + u * (lcc - lc1)
            rows.append({"run": "tanh_rho0.8", "role": role, "activation": "tanh", "rho": 0.8, "width": 200,
                         "backward": backward, "curve": curve, "draws": draws, "slope": slope,
                         "ci_low": slope - half * abs(lcc - lc1), "ci_high": slope + half * abs(lcc - lc1),
                         "u": u, "u_low": u - half, "u_high": u + half, "ln_chi_1": lc1, "ln_chi_c": lcc,
                         "k_min": 0, "k_max": 9, "c_star": 0.6, "top_z": 0.5, "draws_needed": 900.0,
                         "deep_k_low": 45, "deep_bound": 0.03,
                         "du": du if backward == "exact" else math.nan,
                         "du_low": du - du_half if backward == "exact" else math.nan,
                         "du_high": du + du_half if backward == "exact" else math.nan})
    return pd.DataFrame(rows)


def test_same_depth_scale_observables_row_prints_the_gia_control():
    out = S.claim_same_depth_scale_observables(_rates(0.95), SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(0.02)
    assert "3 of 3 GIA intervals contain the same value 0" in out.evidence
    far = _rates(0.95)
    far.loc[far.curve == "tg_ab", ["u", "u_low", "u_high"]] = [0.6, 0.5, 0.7]
    assert S.claim_same_depth_scale_observables(far, SET).verdict is Verdict.FAILS
    assert S.claim_same_depth_scale_observables(_rates(0.05, role="stress"), SET).verdict is Verdict.NOT_RUN


def test_same_depth_scale_is_judged_on_the_paired_exact_minus_gia_difference():
    # real backprop moves the signed-mean decay from xi_c (GIA u 1.0) to u 0.05: paired du -0.95, holds
    out = S.claim_same_depth_scale(_rates(0.05), SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(-0.95)
    assert out.uncertainty == pytest.approx(0.05) and "GIA u 1.00" in out.evidence
    assert "k 0-9" in out.evidence and "<= 0.030" in out.evidence
    # exact = GIA within the band (tanh, hard-tanh): fails, although the spread curves all sit at u = 0.02
    out = S.claim_same_depth_scale(_rates(0.95), SET)
    assert out.verdict is Verdict.FAILS and "tanh_rho0.8 -0.05 [-0.10, " in out.evidence
    # an interval straddling -tol: inconclusive, and no draws-to-decide (a windowed rate is not
    # sampling noise alone)
    out = S.claim_same_depth_scale(_rates(0.75, du_half=0.1), SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "To decide" not in out.evidence
    # an exact theory curve fitted over the same window is quoted with whether the interval covers it
    out = S.claim_same_depth_scale(_rates(0.95).assign(theory_u=0.9), SET)
    assert "no-GIA linear theory" in out.evidence and "1 of 1 inside the measured intervals" in out.evidence
    # no rate (signed mean significant over < 3 layers, small c*): undecidable, with the draws that would do
    t = _rates(0.95)
    t.loc[t.curve == "g_ab_mean", ["u", "du", "du_low", "du_high"]] = math.nan
    out = S.claim_same_depth_scale(t, SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "Undecidable at this setting" in out.evidence
    assert "c* 0.60" in out.evidence and "~9e+02 draws" in out.evidence
    # stress-test runs and runs where chi_c = chi_1 (rho = 1) are not judged
    assert S.claim_same_depth_scale(_rates(0.05, role="stress"), SET).verdict is Verdict.NOT_RUN
    assert S.claim_same_depth_scale(_rates(0.05, lcc=-0.05), SET).verdict is Verdict.NOT_RUN
    # the stress runs are quoted exact beside GIA, without a 1/N claim
    both = pd.concat([_rates(0.05), _rates(0.05, role="stress").assign(run="s", width=100)])
    out = S.claim_same_depth_scale(both, SET)
    assert "N=100" in out.evidence and " vs " in out.evidence and "not claimed" in out.evidence
    # two stress runs at one width (the paper's stress_tanh_w1000 and stress_linear_w1000): each quoted by name
    two = pd.concat([both, _rates(0.05, role="stress").assign(run="s2", width=100, slope=-0.1)])
    out = S.claim_same_depth_scale(two, SET)
    assert "s N=100" in out.evidence and "s2 N=100 2.000" in out.evidence and "from 1 widths" in out.evidence


def test_universality_is_judged_on_the_spread_of_v_over_m2_not_the_pooled_slope():
    t = pd.DataFrame({"run": ["r", "pooled", "between_runs", "along_depth"], "metric": ["g_aa"] * 4,
                      "slope": [1.0, 2.0, math.nan, math.nan], "ci_low": [0.9, 1.97, math.nan, math.nan],
                      "ci_high": [1.1, 2.03, math.nan, math.nan], "m_decades": [1.0, 20.0, math.nan, math.nan],
                      "spread": [math.nan, math.nan, 0.2, 0.1], "spread_low": [math.nan, math.nan, 0.15, 0.05],
                      "spread_high": [math.nan, math.nan, 0.3, 0.2], "band": [math.nan, math.nan, 0.5, 0.5]})
    out = S.claim_universality(t, SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(0.2)
    assert "g_aa between runs 0.20 [0.15, 0.30]" in out.evidence and "not judged" in out.evidence
    # the runs' constants differ by ~1.7 decades at matched depth: fails, whatever the pooled slope says
    t.loc[2, ["spread", "spread_low", "spread_high"]] = [0.8, 0.6, 1.1]
    assert S.claim_universality(t, SET).verdict is Verdict.FAILS
    t.loc[2, ["spread", "spread_low", "spread_high"]] = [0.45, 0.3, 0.7]
    assert S.claim_universality(t, SET).verdict is Verdict.INCONCLUSIVE
    assert S.claim_universality(t.drop(columns=["spread"]), SET).verdict is Verdict.NOT_RUN


def _shape(rows, rho=0.98, bias=None):
    """A formula_shape table: (panel, source, diff, low, high, n_seeds) per panel."""
    t = pd.DataFrame(rows, columns=["panel", "source", "shape_diff", "shape_diff_low", "shape_diff_high",
                                    "n_seeds"]).assign(k_xi_c=5.0, k_min_xi1_xi2=8.0, rho=rho, n_points=12, n_censored=4)
    if bias is not None:
        t = t.assign(design_bias=bias, design_bias_reference="authors_f")
    return t


def test_trainable_depth_is_judged_per_panel_on_the_shape_at_fitted_k():
    # min(xi_1, xi_2) scatters less about its fitted curve in both project panels: holds
    ok = _shape([("a", "project", -0.1, -0.2, -0.05, 3), ("b", "project", -0.05, -0.08, -0.01, 3),
                 ("authors_a", "authors", 0.1, 0.05, 0.2, 1)])
    out = S.claim_trainable_depth(ok, SET)
    assert out.verdict is Verdict.HOLDS and out.measured == pytest.approx(-0.075)
    # the authors' panel, where xi_c has the better shape, is quoted, not judged
    assert "better in 0, worse in 1" in out.evidence
    # the evidence names the level fit_depth_formula used (depth_sweep.level; 95 % for a table without the column)
    assert "(95 % bootstrap over seeds" in out.evidence
    assert "(90 % bootstrap over seeds" in S.claim_trainable_depth(ok.assign(level=0.9), SET).evidence
    # rho = 1 is a row of its own
    assert S.claim_trainable_depth_rho1(ok, SET).verdict is Verdict.NOT_RUN
    assert S.claim_trainable_depth_rho1(ok.assign(rho=1.0), SET).verdict is Verdict.HOLDS
    assert S.claim_trainable_depth(ok.assign(rho=1.0), SET).verdict is Verdict.NOT_RUN
    # one project panel with xi_c clearly better: fails
    bad = _shape([("a", "project", -0.1, -0.2, -0.05, 3), ("b", "project", 0.1, 0.02, 0.2, 3)])
    assert S.claim_trainable_depth(bad, SET).verdict is Verdict.FAILS
    # an interval across 0: inconclusive, with the sw2 columns that would decide it (16 * (0.1 / 0.05)^2)
    mid = _shape([("a", "project", -0.05, -0.15, 0.05, 3)])
    out = S.claim_trainable_depth(mid, SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "a: ~64 sw2 columns" in out.evidence
    assert S.claim_trainable_depth(ok[ok.source == "authors"], SET).verdict is Verdict.NOT_RUN
    # a bootstrap whose resamples tie puts an end at 0 plus rounding (a cpu run: 1.6e-19): not a decision
    tie = _shape([("a", "project", 0.214, 1.6e-19, 0.4, 5)])
    out = S.claim_trainable_depth(tie, SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "touches 0" in out.evidence
    assert S.claim_trainable_depth(_shape([("a", "project", -0.2, -0.4, -1e-17, 5)]), SET).verdict is Verdict.INCONCLUSIVE
    assert S.claim_trainable_depth(_shape([("a", "project", 0.214, 1e-4, 0.4, 5)]), SET).verdict is Verdict.FAILS


def test_trainable_depth_names_the_step_the_shape_settles_and_the_final_k():
    t = _shape([("a", "project", -0.1, -0.2, -0.05, 3)]).assign(settle_step=150, last_step=300)
    out = S.claim_trainable_depth(t, SET)
    assert "a by step 150 of 300" in out.evidence and "final k(xi_c) 5.0 vs the paper's 6, k(min) 8.0 vs 12" in out.evidence


def test_trainable_depth_verdict_must_clear_the_design_bias():
    # the cpu "holds" of 5805f97 (-0.131 [-0.208, -0.016]) against the 7-column design's bias of ~0.18
    # (the authors' panels b, c through it): not a verdict
    out = S.claim_trainable_depth(_shape([("a", "project", -0.131, -0.208, -0.016, 5)], bias=0.18), SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "design bias +-0.180" in out.evidence
    assert "inside the design bias" in out.evidence
    # the quick scale's rho = 1 panel (+0.033 against a design shift of 0.214): undecidable at this scale, not a verdict
    out = S.claim_trainable_depth_rho1(_shape([("digits_orth", "project", 0.033, -0.128, 0.197, 2)], rho=1.0,
                                              bias=0.214), SET)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence.startswith("rho = 1: undecidable at this scale: digits_orth (|shape_diff| 0.033 <= design "
                                   "shift +-0.214)")
    # an effect larger than the shift is not called undecidable, even when its interval is too wide
    out = S.claim_trainable_depth(_shape([("a", "project", -0.1, -0.3, 0.1, 2)], bias=0.05), SET)
    assert out.verdict is Verdict.INCONCLUSIVE and "undecidable" not in out.evidence
    # the same interval with a design bias of 0.01 decides
    assert S.claim_trainable_depth(_shape([("a", "project", -0.131, -0.208, -0.016, 5)], bias=0.01),
                                   SET).verdict is Verdict.HOLDS


def test_trainable_depth_verdict_must_clear_the_platform_shift_too():
    # a holds on its bootstrap and design bias alone (-0.131 [-0.208, -0.016], bias 0.01) ...
    t = _shape([("a", "project", -0.131, -0.208, -0.016, 5)], bias=0.01)
    assert S.claim_trainable_depth(t, SET).verdict is Verdict.HOLDS
    assert "platform variation not measured" in S.claim_trainable_depth(t, SET).evidence
    # ... is no verdict when a re-trained cell moves the shape difference by more than the room left
    t = t.assign(platform_shift=0.02, platform_flips=3, platform_networks=32, platform_depths="33",
                 platform_kernels="AVX2 MKL_CBWR=AVX2", platform_of_depths=13)
    out = S.claim_trainable_depth(t, SET)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert "platform +-0.020 (L=33 re-trained with AVX2 MKL_CBWR=AVX2: 3 of 32 networks changed status" in out.evidence
    assert "a lower bound, as another machine changes all cells, not 1 of 13 depths" in out.evidence
    assert "-> [-0.238, +0.014]" in out.evidence
    # a platform shift of 0 (the re-run was identical) leaves the verdict as it was
    assert S.claim_trainable_depth(t.assign(platform_shift=0.0, platform_flips=0), SET).verdict is Verdict.HOLDS


@pytest.mark.parametrize("low, high, side", [(1e-4, 1.0, 1), (1.6e-19, 1.0, 0), (-1.0, -2e-16, 0), (-1.0, -1e-3, -1),
                                             (-0.5, 0.5, 0), (math.nan, 1.0, 0)])
def test_excludes_zero_treats_an_end_at_rounding_distance_as_touching(low, high, side):
    assert excludes_zero(low, high) == side
    iv = Interval((low + high) / 2, low, high, 5, 0.95, "bootstrap")
    expected = {1: Verdict.HOLDS, -1: Verdict.FAILS, 0: Verdict.INCONCLUSIVE}[side]
    assert directional_verdict(iv, "greater") is expected


def _captions():
    # (activation, rho, quantity, paper, ours, tolerance, authors_scheme): the Fig. 1 caption values, each
    # with half a unit of its last quoted significant figure, and plausible computed ones
    rows = [("linear", 1.0, "q_star", 3.0, 3.0, 0.05, 3.0), ("tanh", 0.4, "q_star", 12.45, 12.4513, 0.005, 12.4513),
            ("relu", 0.7, "c_star", 0.736, 0.7362, 0.0005, math.nan),
            ("relu", 0.4, "q_star", math.inf, math.inf, 0.0, math.inf),
            ("erf", 0.4, "c_star", 0.306, 0.3061, 0.0005, math.nan)]
    return pd.DataFrame(rows, columns=["activation", "rho", "quantity", "paper", "ours", "tolerance",
                                       "authors_scheme"])


def test_fig1_fixed_points():
    out = S.claim_fig1_fixed_points(_captions(), SET)
    assert out.verdict is Verdict.HOLDS, out.evidence
    # worst |ours - paper| / tolerance: relu 0.0002 / 0.0005 (tanh is 0.0013 / 0.005)
    assert out.measured == pytest.approx(0.4)
    assert "authors' own numerical scheme gives our q*" in out.evidence
    # off by more than half a unit of the quoted last digit: fails
    near = _captions()
    near.loc[1, "ours"] = 12.4563
    out = S.claim_fig1_fixed_points(near, SET)
    assert out.verdict is Verdict.FAILS and "tanh rho=0.4 q_star: 12.4563 vs 12.45 (+- 0.005)" in out.evidence
    off = _captions()
    off.loc[4, "ours"] = 0.32
    out = S.claim_fig1_fixed_points(off, SET)
    assert out.verdict is Verdict.FAILS and "erf rho=0.4 c_star" in out.evidence
    finite_relu = _captions()
    finite_relu.loc[3, "ours"] = 5.0
    assert S.claim_fig1_fixed_points(finite_relu, SET).verdict is Verdict.FAILS
    assert S.claim_fig1_fixed_points(_captions().iloc[:0], SET).verdict is Verdict.NOT_RUN
    # 12.450 as printed has 5 significant figures: the evidence says ours and the authors' scheme both miss it
    printed = _captions().assign(sig_figs=[2, 4, 3, 2, 3], printed_figs=[2, 5, 3, 2, 3],
                                 printed_tolerance=[0.05, 0.0005, 0.0005, 0.0, 0.0005])
    out = S.claim_fig1_fixed_points(printed, SET)
    assert out.verdict is Verdict.HOLDS
    assert ("tanh rho=0.4 q_star as printed, 12.450 at 5 significant figures: ours 12.4513 misses it by 0.0013, "
            "the authors' own scheme 12.4513 misses it by 0.0013 (judged at 4)") in out.evidence


# ---- the registry --------------------------------------------------------------------------------

def test_summary_marks_missing_inputs_not_run_and_keeps_one_row_per_claim():
    inputs = {"t1": _t1([-0.3, -0.2], [0.02, 0.03]), "phase_diagram": None}
    sources = {"t1": "results/attack/claims/T1.csv", "phase_diagram": "results/meanfield/phase_diagram.csv"}
    table = S.summarise(inputs, sources, "tiny", SET)
    assert list(table.columns) == S.COLUMNS
    assert table["claim"].tolist() == [c.id for c in S.CLAIMS]
    assert table["claim"].is_unique
    by = table.set_index("claim")
    assert by.loc["T1", "verdict"] == "holds"
    assert by.loc["MF-no-transition", "verdict"] == "not run"
    assert "results/meanfield/phase_diagram.csv" in by.loc["MF-no-transition", "evidence"]
    assert set(table["verdict"]) <= {v.value for v in Verdict}
    assert (table["scale"] == "tiny").all()
    md = S.to_markdown(table, "tiny")
    assert md.count("\n| ") == len(S.CLAIMS) + 1  # header + one line per claim
    metrics = S.to_metrics(table)
    assert metrics["claims"]["T1"]["verdict"] == 1 and metrics["claims"]["MF-fig1"]["verdict"] is None
    assert sum(metrics["tally"].values()) == len(S.CLAIMS)


def test_settings_reject_negative_thresholds():
    with pytest.raises(ValueError, match="slope_tolerance"):
        S.Settings(coverage=0.95, slope_tolerance=-0.2, rate_tolerance=0.2, cstar_margin=1e-9)
    with pytest.raises(ValueError, match="coverage"):
        S.Settings(coverage=1.5, slope_tolerance=0.2, rate_tolerance=0.2, cstar_margin=1e-9)


def test_smoke_scale_computes_claims_but_draws_no_verdict():
    t1 = S.CLAIMS[[c.id for c in S.CLAIMS].index("T1")]
    inputs = {"t1": _t1([-0.3, -0.2], [0.02, 0.03])}
    for key in t1.inputs:
        inputs.setdefault(key, inputs["t1"])
    paper = S.evaluate(t1, inputs, {}, "paper", SET)
    smoke = S.evaluate(t1, inputs, {}, "smoke", SET)
    assert paper.verdict == "holds" and smoke.verdict == "no verdict"
    assert smoke.measured == paper.measured and smoke.evidence == f"smoke: numbers mean nothing; {paper.evidence}"
    # a claim whose input is missing still says so
    assert S.evaluate(t1, {}, {}, "smoke", SET).verdict == "not run"


def test_t1_primary_row_decides_secondary_rows_are_listed_and_the_image_count_is_judged():
    t1 = _t1([-0.01, 0.2], [0.05, 0.03])
    t1["role"] = ["primary", "secondary"]
    t1["adjusted_verdict"] = ["inconclusive", "fails"]
    t1["n_images"] = 60
    t1["images_to_decide"] = [400, None]
    t1["method"] = "seeds x images bootstrap SE, t 40 df, 3 seeds x 60 images"
    out = S.claim_t1(t1, SET)
    # the secondary row's "fails" does not decide the claim; it is listed with its adjusted verdict
    assert out.verdict is Verdict.INCONCLUSIVE and out.measured == pytest.approx(-0.01)
    assert "secondary rows (Holm-adjusted verdicts): eps=0.1 +0.200 [+0.170, +0.230] fails" in out.evidence
    assert "60 images per seed: half-width 0.050 against an effect of 0.010; this image count cannot decide it " \
           "(about 400 images per seed would" in out.evidence
    t1["images_to_decide"] = [None, None]
    assert "no image count would" in S.claim_t1(t1, SET).evidence
    t1["difference_low"], t1["difference_high"] = [-0.02, 0.17], [-0.005, 0.23]
    assert "so the image count decides" in S.claim_t1(t1, SET).evidence
