"""The multiplier fit recovers a known k; depth scales are looked up strictly."""

import math

import numpy as np
import pandas as pd
import pytest

from reproflow.depthsweep.fit import CANDIDATES, fit_multiplier, fit_panel, fixed_error, lookup_depth_scales
from reproflow.errors import UserError


def _phase_diagram(sw2=np.round(np.arange(1.0, 4.001, 0.05), 10), rhos=(1.0, 0.98)):
    rows = []
    for rho in rhos:
        for s in sw2:
            # smooth synthetic depth scales with a peak near sw2 = 1.76 (order-to-chaos at rho = 1)
            xi_1 = 2.0 + 30.0 * rho**20 / (1 + 20 * (s - 1.76) ** 2)
            xi_c = 1.5 + 20.0 / (1 + 10 * (s - 1.9) ** 2)
            for act in ("relu", "tanh"):
                rows.append({"activation": act, "sw2": s, "sb2": 0.05, "rho": rho, "q_star": 1.0, "c_star": 1.0,
                             "chi_1": 1.0, "chi_c": 1.0, "chi_q": 1.0, "xi_1": xi_1 if act == "tanh" else -1.0,
                             "xi_c": -xi_c if act == "tanh" else -1.0, "xi_q": 1.0})
    return pd.DataFrame(rows)


def test_fit_recovers_known_k_exact_and_noisy():
    xi = np.linspace(2, 40, 15)
    f = fit_multiplier(7.0 * xi, xi, n_boot=500, seed=0)
    assert f.k == pytest.approx(7.0, rel=1e-12) and f.error == pytest.approx(0.0, abs=1e-12) and f.n == 15
    rng = np.random.default_rng(1)
    noisy = 7.0 * xi * np.exp(rng.normal(0, 0.2, xi.size))
    g = fit_multiplier(noisy, xi, n_boot=2000, seed=0)
    assert g.k_low < 7.0 < g.k_high
    assert g.k == pytest.approx(7.0, rel=0.15)
    assert 0.05 < g.error < 0.35  # E|N(0, 0.2)| = 0.16
    assert fixed_error(noisy, xi, 12.0) > g.error  # the fitted k is the better one


def test_fit_ignores_non_finite_and_handles_empty():
    xi = np.array([2.0, math.inf, 5.0, 4.0])
    d = np.array([20.0, 30.0, math.nan, 40.0])
    f = fit_multiplier(d, xi, n_boot=100, seed=0)
    assert f.n == 2 and f.k == pytest.approx(10.0)
    empty = fit_multiplier(np.array([]), np.array([]), 100, 0)
    assert empty.n == 0 and math.isnan(empty.k)
    one = fit_multiplier(np.array([10.0]), np.array([2.0]), 100, 0)
    assert one.k == pytest.approx(5.0) and math.isnan(one.k_low)


def test_lookup_matches_with_tolerance_and_takes_abs():
    pdg = _phase_diagram()
    sc = lookup_depth_scales(pdg, [1.0, 1.5 + 1e-12, 4.0], rho=0.98, sb2=0.05)
    assert list(sc["sw2"]) == pytest.approx([1.0, 1.5, 4.0])
    assert (sc[["xi_1", "xi_c", "xi_min"]] > 0).all().all()
    assert (sc["xi_min"] == np.minimum(sc["xi_1"], sc["xi_c"])).all()


@pytest.mark.parametrize("sw2,rho,sb2", [(1.03, 1.0, 0.05), (1.0, 0.95, 0.05), (1.0, 1.0, 0.1)])
def test_lookup_missing_point_is_a_user_error(sw2, rho, sb2):
    with pytest.raises(UserError, match=f"sw2={sw2:g}, rho={rho:g}, sb2={sb2:g}"):
        lookup_depth_scales(_phase_diagram(), [1.0, sw2], rho=rho, sb2=sb2)


def test_fit_panel_recovers_the_generating_candidate():
    sw2 = np.round(np.arange(1.0, 4.001, 0.25), 10)
    sc = lookup_depth_scales(_phase_diagram(), sw2, rho=1.0, sb2=0.05)
    bnd = pd.DataFrame({"sw2": sw2, "depth_boundary": 12.0 * sc["xi_1"].to_numpy(), "censored": "none"})
    bnd.loc[0, "censored"] = "above"  # censored columns are left out
    bnd.loc[0, "depth_boundary"] = 1e6
    t = fit_panel(bnd, sc, n_boot=200, seed=0).set_index("candidate")
    assert list(t.index) == list(CANDIDATES)
    assert t.loc["xi_1", "k"] == pytest.approx(12.0) and t.loc["xi_1", "paper_error"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["xi_1", "fit_error"] < t.loc["xi_c", "fit_error"]
    assert (t["n_points"] == len(sw2) - 1).all() and (t["n_censored"] == 1).all()


def test_censored_fit_keeps_censored_columns_and_removes_their_bias():
    from reproflow.depthsweep.fit import censored_fit

    rng = np.random.default_rng(3)
    xi = np.geomspace(8.0, 20.0, 80)
    k, s = 8.0, 0.3
    true = k * xi * np.exp(rng.normal(0, s, xi.size))
    l_max = 110.0  # grid top: deeper boundaries are only known to exceed it (informative censoring)
    cen = np.where(true > l_max, "above", "none")
    depth = np.where(cen == "none", true, l_max)
    lower = np.where(cen == "above", l_max, np.nan)
    assert (cen == "above").sum() >= 10
    mu, sig = censored_fit(depth, lower, np.full(xi.size, np.nan), cen, xi)
    assert abs(math.exp(mu) / k - 1) < 0.08 and abs(sig / s - 1) < 0.3
    # dropping the censored columns (the old fit) biases k low
    unc = cen == "none"
    dropped = math.exp(np.mean(np.log(depth[unc] / xi[unc])))
    assert dropped < 0.9 * k and abs(math.exp(mu) - k) < abs(dropped - k)


def test_bootstrap_panel_prefers_the_generating_shape_and_resamples_seeds():
    from reproflow.depthsweep.fit import bootstrap_panel

    rng = np.random.default_rng(4)
    sw2 = np.round(np.arange(1.0, 4.01, 0.25), 2)
    xi_min = 2.0 + 6.0 * np.exp(-((sw2 - 2.0) ** 2))
    xi_c = 1.5 + 0.5 * sw2  # a different shape
    scales = pd.DataFrame({"sw2": sw2, "xi_1": xi_min, "xi_c": xi_c, "xi_min": xi_min})
    depths = np.arange(5, 125, 5)
    rows = []
    for s, xm in zip(sw2, xi_min):
        for seed in range(3):
            lb = 10.0 * xm * math.exp(rng.normal(0, 0.05))
            for d in depths:
                acc = 0.1 + 0.85 / (1 + math.exp((d - lb) / 2.0))
                rows.append({"sw2": s, "depth": d, "seed": seed, "metric": "train_accuracy", "value": acc})
    fit, comp = bootstrap_panel(pd.DataFrame(rows), scales, 10, 0.5, "train_accuracy", 60, 0)
    fit = fit.set_index("candidate")
    assert fit.loc["min_xi1_xi2", "n_seeds"] == 3
    assert fit.loc["min_xi1_xi2", "k_low"] <= 10.0 * 1.05 and fit.loc["min_xi1_xi2", "k_high"] >= 10.0 * 0.95
    assert fit.loc["min_xi1_xi2", "sigma"] < fit.loc["xi_c", "sigma"]
    assert comp["shape_diff"] < 0 and comp["shape_diff_high"] < 0 and comp["n_boot_usable"] == 60


def test_design_check_reproduces_the_bias_of_the_coarse_cpu_design_on_the_authors_panels():
    # review of 5805f97, section 3: the authors' rho = 1 panels b, c run through the 7-column, 8-depth cpu
    # design of that commit read -0.21 / -0.20 instead of about -0.03 (full data); the design check must see it,
    # and must see (almost) none for the 16-column, 1.25x-depth design that replaced it
    from pathlib import Path

    from reproflow.depthsweep.fit import bootstrap_panel, design_shift, design_subset
    from reproflow.depthsweep.reference import load_reference_panel
    from reproflow.meanfield.tables import phase_diagram_table, sw2_grid

    root = Path(__file__).resolve().parents[2] / "workflow/resources/huang2020_fig7"
    acc = load_reference_panel(next(root.glob("panel_b_*.csv")))
    pdg = phase_diagram_table(["tanh"], sw2_grid(1.0, 4.0, 0.1), [0.05], [1.0])
    scales = lookup_depth_scales(pdg, sorted(acc.sw2.unique()), 1.0, 0.05)
    _, comp = bootstrap_panel(acc, scales, 10, 0.5, "train_accuracy", 0, 0)
    coarse = design_shift(acc, scales, 10, 0.5, "train_accuracy", [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0],
                          [4, 8, 16, 32, 48, 64, 96, 128], 0, 0, comp["shape_diff"])
    assert comp["shape_diff"] == pytest.approx(-0.027, abs=0.01)
    assert coarse["design_shape_diff"] == pytest.approx(-0.21, abs=0.03) and coarse["design_shift"] < -0.15
    assert (coarse["design_columns"], coarse["design_depths"]) == (7, 8)
    dense = design_shift(acc, scales, 10, 0.5, "train_accuracy", list(np.round(np.arange(1.0, 4.01, 0.2), 1)),
                         [8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 62, 77, 96], 0, 0, comp["shape_diff"])
    assert abs(dense["design_shift"]) < 0.03
    # the panel's own grid is no shift at all
    own = design_subset(acc, list(acc.sw2.unique()), list(acc.depth.unique()))
    assert len(own) == len(acc)
    with pytest.raises(ValueError, match="columns"):
        design_subset(acc, [9.0], [10, 20])


def test_settle_step_and_the_k_steps_table():
    from reproflow.depthsweep.fit import k_steps_table, settle_step

    steps = np.array([10, 20, 30, 40, 50])
    assert settle_step(steps, np.array([0.3, 0.1, -0.05, -0.06, -0.05])) == 30
    assert settle_step(steps, np.array([0.0, 0.0, 0.0, 0.0, 0.0])) == 10
    assert settle_step(steps, np.array([0.0, 0.0, 0.0, 0.0, 0.5])) == 50
    assert settle_step(steps, np.array([0.0, math.nan])) == -1
    rows = [{"panel": "p", "rho": 0.98, "step": s, "candidate": c, "k": k0 * (1 + s / 100), "sigma": sg}
            for s in range(10, 110, 10) for c, k0, sg in (("xi_c", 4.0, 0.2), ("xi_1", 6.0, 0.3),
                                                         ("min_xi1_xi2", 6.0, 0.1 if s >= 40 else 0.3))]
    t = k_steps_table(pd.DataFrame(rows), n_steps=4)
    assert t["step"].tolist() == [10, 40, 70, 100] and (t["settle_step"] == 40).all()
    assert t["shape_diff"].iloc[-1] == pytest.approx(-0.1) and t["k_xi_c"].iloc[-1] == pytest.approx(8.0)
