"""The paired two-way interval over seeds and test images behind every T1 / T2 verdict (issue 21), checked on
synthetic data with a known difference: its closed form against Monte Carlo resampling, its coverage, and that it
widens (and keeps its coverage) where the shared image draw dominates, where the seeds-only t-interval does not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reproflow.report.verdicts import (
    Verdict,
    adjusted_verdict,
    holm,
    t_interval,
    two_way_interval,
    two_way_replicates,
    two_way_row,
)


def crossed(rng: np.random.Generator, mu: float, seeds: int, images: int, sd_seed: float, sd_image: float,
            sd_noise: float) -> np.ndarray:
    """[S, N] paired differences mu + a_s + b_i + e_si: a seed effect, an image effect shared by every seed (the
    evaluation attacks the same images with every seed's model), and their interaction."""
    a = rng.normal(0, sd_seed, (seeds, 1))
    b = rng.normal(0, sd_image, (1, images))
    return mu + a + b + rng.normal(0, sd_noise, (seeds, images))


def coverage_of(fn, mu: float, reps: int, seed: int, **kw) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        iv = fn(crossed(rng, mu, **kw))
        hits += iv.low <= mu <= iv.high
    return hits / reps


def test_closed_form_matches_monte_carlo_resampling():
    # the closed form is the bootstrap's variance rescaled by n/(n-1) per axis; the Monte Carlo replicates of the
    # same resampling must agree at a stated tolerance (5000 replicates: ~2 % relative SE on a variance)
    d = crossed(np.random.default_rng(0), 0.1, seeds=5, images=300, sd_seed=0.03, sd_image=0.4, sd_noise=0.3)
    tw = two_way_interval(d, 0.95)
    reps = two_way_replicates(d, 5000, seed=1)
    s, n = d.shape
    # the Monte Carlo bootstrap variance: both marginal terms at their plug-in (n-1)/n plus the interaction once
    mc = float(reps.var())
    plug = tw.seed_var * (s - 1) / s + tw.image_var * (n - 1) / n
    assert abs(reps.mean() - d.mean()) < 4 * math.sqrt(mc / 5000)
    assert mc == pytest.approx(plug, rel=0.12)


def test_reduces_to_the_t_interval_without_an_image_term():
    rng = np.random.default_rng(3)
    seed_means = rng.normal(0.05, 0.02, 5)
    d = np.repeat(seed_means[:, None], 40, axis=1)  # every image the same within a seed
    tw, t = two_way_interval(d, 0.95).interval, t_interval(list(seed_means), 0.95)
    assert tw.low == pytest.approx(t.low) and tw.high == pytest.approx(t.high)


@pytest.mark.parametrize("sd_seed,sd_image", [(0.03, 0.0), (0.02, 0.5), (0.0, 0.5)])
def test_coverage_on_synthetic_data_with_a_known_difference(sd_seed, sd_image):
    # 95 % nominal; 400 replications give a Monte Carlo SE of ~0.011. The two-way SE counts the interaction twice
    # (conservative), so coverage may exceed 0.95 a little, but must not fall below 0.92: a seeds-only interval
    # falls to ~0.4 in the image-dominated cases (next test), a percentile bootstrap over 5 seeds to ~0.85.
    cov = coverage_of(lambda d: two_way_interval(d, 0.95).interval, mu=-0.04, reps=400, seed=11, seeds=5, images=200,
                      sd_seed=sd_seed, sd_image=sd_image, sd_noise=0.3)
    assert 0.92 <= cov <= 0.995


def test_interval_widens_when_the_image_term_is_large_and_the_seed_only_interval_undercovers():
    kw = dict(seeds=5, images=200, sd_seed=0.01, sd_image=0.5, sd_noise=0.3)
    rng = np.random.default_rng(5)
    d = crossed(rng, 0.0, **kw)
    tw = two_way_interval(d, 0.95)
    seed_only = t_interval(list(d.mean(axis=1)), 0.95)
    assert tw.image_var > 5 * tw.seed_var
    assert (tw.interval.high - tw.interval.low) > 2 * (seed_only.high - seed_only.low)
    # what the interval is for: the seeds-only interval treats the one draw of images as fixed and misses the truth
    cov_seed_only = coverage_of(lambda x: t_interval(list(x.mean(axis=1)), 0.95), mu=0.0, reps=300, seed=7, **kw)
    cov_two_way = coverage_of(lambda x: two_way_interval(x, 0.95).interval, mu=0.0, reps=300, seed=7, **kw)
    assert cov_seed_only < 0.8 < 0.92 <= cov_two_way


def test_binary_outcomes_paired_on_the_same_images():
    # correctness bits of two arms on the same images: a shared per-image difficulty, arm B harder by a known 0.05
    rng = np.random.default_rng(2)
    hits, reps = 0, 200
    for _ in range(reps):
        p = rng.uniform(0.2, 0.9, 400)  # image difficulty, drawn anew each replication (images are random)
        a = rng.random((4, 400)) < p
        b = rng.random((4, 400)) < np.clip(p - 0.05, 0, 1)
        iv = two_way_interval(a.astype(float) - b.astype(float), 0.95).interval
        true = float(np.mean(p - np.clip(p - 0.05, 0, 1)))
        hits += iv.low <= true <= iv.high
    assert hits / reps >= 0.92


def test_one_seed_gives_no_interval_and_no_verdict():
    row = two_way_row(np.array([[1.0, 0.0, -1.0, 0.0]]), 0.95, "less")
    assert math.isnan(row["low"]) and row["verdict"] is Verdict.INCONCLUSIVE


def test_images_to_decide_grows_the_image_count_until_the_interval_excludes_zero():
    d = crossed(np.random.default_rng(9), -0.05, seeds=5, images=60, sd_seed=0.002, sd_image=0.5, sd_noise=0.3)
    row = two_way_row(d, 0.95, "less")
    tw = two_way_interval(d, 0.95)
    if row["verdict"] is Verdict.INCONCLUSIVE:
        need = row["images_to_decide"]
        assert need is not None and need > 60
        assert tw.half_width(n_images=need) < abs(tw.interval.estimate) <= tw.half_width(n_images=need - 1)
    # a seed term wider than the effect: no image count decides
    wide = crossed(np.random.default_rng(1), 0.001, seeds=3, images=100, sd_seed=0.05, sd_image=0.1, sd_noise=0.1)
    assert two_way_interval(wide, 0.95).images_to_decide() is None


def test_holm_and_adjusted_verdicts():
    adj = holm([0.01, 0.04, 0.03, math.nan])
    assert adj[0] == pytest.approx(0.03) and adj[2] == pytest.approx(0.06) and adj[1] == pytest.approx(0.06)
    assert math.isnan(adj[3])
    assert adjusted_verdict(-0.1, 0.03, 0.05, "less") is Verdict.HOLDS
    assert adjusted_verdict(-0.1, 0.06, 0.05, "less") is Verdict.INCONCLUSIVE
    assert adjusted_verdict(0.1, 0.01, 0.05, "less") is Verdict.FAILS


def test_p_value_agrees_with_the_interval():
    rng = np.random.default_rng(4)
    for _ in range(50):
        tw = two_way_interval(crossed(rng, 0.02, seeds=5, images=100, sd_seed=0.02, sd_image=0.2, sd_noise=0.2), 0.95)
        excludes = tw.interval.low > 0 or tw.interval.high < 0
        assert excludes == (tw.p_value() < 0.05)


def test_why_not_the_percentile_interval_few_seeds_undercover():
    # the design choice documented in two_way_interval: where the seed term dominates, the percentile interval of
    # the same resampling undercovers with 3 seeds (~0.79), the t form keeps ~0.95
    from reproflow.report.verdicts import Interval

    def percentile(d):
        r = two_way_replicates(d, 1000, seed=0)
        lo, hi = np.quantile(r, [0.025, 0.975])
        return Interval(float(d.mean()), float(lo), float(hi), d.shape[0], 0.95, "percentile")

    kw = dict(seeds=3, images=200, sd_seed=0.05, sd_image=0.0, sd_noise=0.05)
    assert coverage_of(percentile, 0.0, reps=300, seed=3, **kw) < 0.88
    assert coverage_of(lambda d: two_way_interval(d, 0.95).interval, 0.0, reps=300, seed=3, **kw) >= 0.92
