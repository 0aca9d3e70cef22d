"""GIA counterfactual against its closed forms, and the bootstrap-over-draws rate and slope intervals."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from reproflow.meanfield import gradients as G
from reproflow.meanfield import montecarlo as MC
from reproflow.meanfield import rates as RT


def test_gia_counterfactual_matches_the_gia_closed_forms_and_keeps_the_exact_pass():
    # linear dropout net at its fixed point: with the backward pass through independent weight copies,
    # g_aa = 4 q*^2/rho chi_1^k and g_ab = 4 q_ab*^2 chi_c^k exactly in expectation (spec section 3)
    sw2, sb2, rho, depth = 0.9, 0.05, 0.95, 12
    gen = torch.Generator().manual_seed(1)
    ex, gi = G.measure_gradient_pair("linear", sw2, sb2, rho, width=600, depth=depth, draws=48,
                                     inputs="fixed_point", generator=gen, draws_per_batch=8, dtype=torch.float64)
    pre = G.gia_prefactors("linear", sw2, sb2, rho)
    k = torch.arange(depth - 1, -1, -1, dtype=torch.float64)
    for meas, th in ((gi.g_aa, pre["top_aa"] * pre["chi_1"] ** k), (gi.g_ab, pre["top_ab"] * pre["chi_c"] ** k)):
        mean, se = MC.mean_se(meas)
        # layers 2..L (layer 1 sees the raw input); 4 standard errors plus 3 % for O(1/N) bias
        assert ((mean - th).abs()[1:] <= 4 * se[1:] + 0.03 * th.abs()[1:]).all(), (mean, th, se)
    # the exact pass of the pair equals measure_gradients on the same seed over the first batch (later
    # batches differ because the counterfactual's weight copies are drawn from the same generator)
    gen = torch.Generator().manual_seed(1)
    ex2 = G.measure_gradients("linear", sw2, sb2, rho, width=600, depth=depth, draws=8, inputs="fixed_point",
                              generator=gen, draws_per_batch=8, dtype=torch.float64)
    assert torch.equal(ex.g_aa[:8], ex2.g_aa) and torch.equal(ex.g_ab[:8], ex2.g_ab)
    # the top layer has no backward step: identical in both passes; below it they differ
    assert torch.equal(ex.g_aa[:, -1], gi.g_aa[:, -1]) and not torch.equal(ex.g_aa[:, 0], gi.g_aa[:, 0])


def _synthetic(n_draws, depth, rate, rng):
    """Per-draw curves A_d exp(rate k) (1 + 0.1 eps + AR(1) noise): a per-draw amplitude shared by all
    layers and noise correlated over neighbouring layers (what makes an OLS interval over layers too
    narrow); the mean over draws decays exactly at ``rate``."""
    layers = np.arange(1, depth + 1)
    k = depth - layers
    amp = np.exp(rng.normal(0, 0.5, (n_draws, 1)))
    ar = np.zeros((n_draws, depth))
    e = rng.normal(0, 0.1, (n_draws, depth))
    for j in range(depth):
        ar[:, j] = (0.9 * ar[:, j - 1] if j else 0) + e[:, j]
    v = amp * np.exp(rate * k[None, :]) * np.exp(ar - 0.5 * ar.var())
    return v, layers


def test_bootstrap_rate_interval_covers_at_about_its_level():
    rng = np.random.default_rng(0)
    boot = RT.BootSettings(200, 0.9, 0)
    hits, ols_hits, n = 0, 0, 60
    for _ in range(n):
        v, layers = _synthetic(30, 40, -0.1, rng)
        vals = {"g_aa": v, "g_ab": v, "tg_ab": v}
        row = RT.run_rates(vals, layers, 40, math.exp(-0.1), math.exp(-0.3), 0, 0.0, 2.0, boot)[0]
        hits += row["ci_low"] <= -0.1 <= row["ci_high"]
        k = 40 - layers[1:]
        fit = stats.linregress(k, np.log(v.mean(0)[1:]))  # OLS over layers, t interval at 90 %
        half = stats.t.ppf(0.95, k.size - 2) * fit.stderr
        ols_hits += fit.slope - half <= -0.1 <= fit.slope + half
    # nominal 90 %: binomial sd over 60 repeats ~ 4 %; the layer OLS interval undercovers badly
    assert 0.78 <= hits / n <= 0.99, hits / n
    assert ols_hits / n < 0.6, ols_hits / n


def test_fit_window_starts_after_the_transient():
    assert RT.transient_start(0.95, 200, 5, 1.0) == 20
    assert RT.transient_start(0.5, 200, 5, 1.0) == 5
    assert RT.transient_start(0.999, 100, 5, 1.0) == 50  # capped at half the depth
    assert RT.separation(-0.05, -0.05, -0.2) == 0 and RT.separation(-0.2, -0.05, -0.2) == 1


def test_pooled_universality_slope_is_two_for_lognormal_draws():
    # V / m^2 constant at every layer (per-draw values m_l * lognormal): pooled slope 2 over many decades
    rng = np.random.default_rng(1)
    rows = []
    for run, rate in (("a", -0.3), ("b", -0.1)):
        for d in range(50):
            amp = np.exp(rng.normal(0, 0.7, 30))
            for layer in range(1, 31):
                x = math.exp(rate * (30 - layer)) * amp[layer - 1]
                rows.append({"run": run, "activation": "linear", "draw": d, "layer": layer,
                             "g_aa": x, "g_ab": x, "tg_ab": x})
    slopes, points = RT.universality(pd.DataFrame(rows), 2, 2.0, RT.BootSettings(100, 0.95, 0), math.nan)
    pooled = slopes[slopes.run == "pooled"].set_index("metric")
    assert set(pooled.index) == {"g_aa", "g_ab", "tg_ab"}
    assert pooled.loc["g_aa", "ci_low"] <= 2.0 <= pooled.loc["g_aa", "ci_high"]
    assert abs(pooled.loc["g_aa", "slope"] - 2) < 0.05 and pooled.loc["g_aa", "m_decades"] > 3
    assert "cv2" in points.columns and np.allclose(points.cv2, points.V / points.m**2)
    # one constant V/m^2 in both runs: the spread between runs and along depth is the sampling noise of
    # log10 cv2 over 50 draws (~0.15-0.2 decades), inside the 0.5 band
    sp = slopes[slopes.run.isin(["between_runs", "along_depth"])].set_index(["run", "metric"])
    assert sp.loc[("between_runs", "g_aa"), "spread_high"] < 0.35 and sp.loc[("along_depth", "g_aa"), "spread_high"] < 0.35


def test_spread_of_v_over_m2_fails_when_the_runs_have_different_constants():
    # run b's coefficient of variation is 10x run a's: the pooled slope is still ~2, the between-run spread is not
    rng = np.random.default_rng(2)
    rows = []
    for run, rate, s in (("a", -3.0, 0.1), ("b", -1.5, 1.0)):  # m over ~38 decades, as in the runs
        for d in range(60):
            for layer in range(1, 31):
                x = math.exp(rate * (30 - layer)) * (1 + s * rng.normal())
                rows.append({"run": run, "activation": "linear", "draw": d, "layer": layer, "g_aa": x, "g_ab": x,
                             "tg_ab": x})
    slopes, _ = RT.universality(pd.DataFrame(rows), 2, 2.0, RT.BootSettings(100, 0.95, 0), band=0.5)
    sp = slopes[slopes.run == "between_runs"].set_index("metric")
    assert sp.loc["g_aa", "spread_low"] > 0.5 and sp.loc["g_aa", "band"] == 0.5
    pooled = slopes[slopes.run == "pooled"].set_index("metric")
    assert abs(pooled.loc["g_aa", "slope"] - 2) < 0.1


def test_linear_signed_mean_rate_matches_the_exact_no_gia_theory_over_the_same_layers():
    # a linear run near the paper's Fig. 2 setting: the fitted signed-mean g_ab rate and the exact large-N
    # curve fitted over the same window agree within the bootstrap interval (plus 0.05 for finite width)
    from reproflow.meanfield.tables import gradient_tables, run_chis

    draws, _, gia = gradient_tables("lin", "linear", 0.5, 0.1, 0.8, 200, 40, 32, "standard", 8,
                                    torch.Generator().manual_seed(3), "cpu", "paper")
    rates = RT.rate_table(pd.concat([draws, gia]), run_chis(draws), 5, 1.0, 2.0, RT.BootSettings(200, 0.95, 0))
    row = rates[(rates.backward == "exact") & (rates.curve == "g_ab_mean")].iloc[0]
    assert row.n_layers >= 5 and math.isfinite(row.theory_slope)
    assert row.ci_low - 0.05 <= row.theory_slope <= row.ci_high + 0.05, row
    # the theory column is for exact backprop of linear nets only
    assert rates[rates.backward == "gia"]["theory_slope"].isna().all()

    # exact and GIA passes share their draws: the paired difference at the full sample is exact u - GIA u
    ex = rates[(rates.backward == "exact") & (rates.curve == "g_ab_mean")].iloc[0]
    gi = rates[(rates.backward == "gia") & (rates.curve == "g_ab_mean")].iloc[0]
    assert ex.du == pytest.approx(ex.u - gi.u) and ex.du_low <= ex.du <= ex.du_high
    assert math.isnan(gi.du)


def test_signed_mean_window_is_chosen_again_in_every_resample():
    ks = np.arange(6)
    mean = np.array([[1.0, 0.5, 0.25, 0.05, 0.3, 0.3],    # drops below 2 se at k = 3: window k 0-2
                     [1.0, -0.5, 0.2, 0.2, 0.2, 0.2],     # changes sign at k = 1: window k 0 only
                     [-1.0, -0.5, -0.3, -0.3, -0.3, -0.3]])  # negative throughout: every layer
    se = np.full_like(mean, 0.1)
    w = RT.sig_windows(mean, se, ks, 2.0)
    assert w.sum(1).tolist() == [3, 1, 6]
    # the layer order of the columns does not matter (ks may run either way)
    assert (RT.sig_windows(mean[:, ::-1], se, ks[::-1], 2.0)[:, ::-1] == w).all()


def test_signed_mean_interval_carries_the_window_variability():
    # a mean decaying at rate -0.3 whose significance ends near k ~ 8: with the window re-selected per
    # resample some resamples fit fewer layers; the interval must still cover the true rate at about its level
    rng = np.random.default_rng(4)
    boot = RT.BootSettings(200, 0.9, 0)
    hits, n = 0, 40
    for _ in range(n):
        layers = np.arange(1, 21)
        k = 20 - layers
        g = np.exp(-0.3 * k)[None, :] + rng.normal(0, 1.0, (400, 20)) * 0.3
        vals = {"g_aa": np.abs(g) + 1, "g_ab": g, "tg_ab": np.abs(g) + 1}
        row = [r for r in RT.run_rates(vals, layers, 20, math.exp(-0.1), math.exp(-0.3), 0, 0.0, 2.0, boot)
               if r["curve"] == "g_ab_mean"][0]
        hits += row["ci_low"] <= -0.3 <= row["ci_high"]
    assert 0.75 <= hits / n <= 1.0, hits / n


def test_draws_needed_follows_the_ratio_of_the_two_decays():
    # hard-tanh sw2 1.4, rho 0.7 (review of 5805f97, 2.4): top mean/sd 0.07, chi_c/chi_1 0.58/1.27: ~5e5 draws
    # (the review: "about 5e5" and "1e4" draws for five significant layers)
    assert RT.draws_needed(0.07, 1.27, 0.58, 2.0) == pytest.approx((2 / (0.07 * (0.58 / 1.27) ** 4)) ** 2, rel=1e-6)
    assert 3e5 < RT.draws_needed(0.07, 1.27, 0.58, 2.0) < 7e5
    assert 5e3 < RT.draws_needed(0.22, 1.19, 0.66, 2.0) < 2e4
    assert math.isnan(RT.draws_needed(0.0, 1.2, 0.6, 2.0))


@pytest.mark.parametrize("floor", [0.0, 0.1])
def test_deep_layer_table_bounds_a_part_decaying_at_the_chi_1_rate(floor):
    # sd of g_ab decays with chi_1; its mean is a fast part (chi_c) plus ``floor`` sd decaying with chi_1
    rng = np.random.default_rng(5)
    depth, n = 60, 2000
    layers = np.arange(1, depth + 1)
    k = depth - layers
    sd = 0.97 ** k
    mean = 2.0 * 0.6 ** k * sd + floor * sd
    g = mean[None, :] + sd[None, :] * rng.normal(0, 1, (n, depth))
    t = RT.deep_layer_table(g, layers, depth, RT.BootSettings(200, 0.95, 0))
    deep = t.iloc[-1]
    assert deep.k_low >= 45 and deep.ci_low <= floor <= deep.ci_high
    assert deep.bound < floor + 0.1 and (floor == 0 or deep.bound >= floor)
