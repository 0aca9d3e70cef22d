"""The one verdict rule: t-intervals of stated coverage over independent units, directional decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reproflow.report.verdicts import Verdict, directional_verdict, t_interval, units_to_decide


def test_t_interval_has_its_stated_coverage():
    """Monte Carlo: the 95 % interval over 3 normal seeds covers the true mean ~95 % of the time
    (a +- 2 SE rule would cover ~82 %)."""
    rng = np.random.default_rng(0)
    draws = rng.normal(0.3, 1.0, size=(4000, 3))
    cover = np.mean([iv.low <= 0.3 <= iv.high for iv in (t_interval(d, 0.95) for d in draws)])
    assert abs(cover - 0.95) < 0.015, cover
    naive = np.mean([abs(d.mean() - 0.3) <= 2 * d.std(ddof=1) / math.sqrt(3) for d in draws])
    assert abs(naive - 0.82) < 0.03, naive


def test_t_interval_width_for_three_seeds():
    iv = t_interval([1.0, 2.0, 3.0], 0.95)
    assert iv.estimate == 2.0 and iv.n == 3
    assert iv.high - iv.estimate == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)
    assert "2 df" in iv.method


@pytest.mark.parametrize(
    "values, direction, expected",
    [
        ([-0.3, -0.25, -0.35, -0.3, -0.28], "less", Verdict.HOLDS),
        ([-0.3, -0.25, -0.35, -0.3, -0.28], "greater", Verdict.FAILS),
        ([-0.3, 0.2, 0.05, -0.1, 0.1], "less", Verdict.INCONCLUSIVE),
        ([-0.2, -0.2, -0.2], "less", Verdict.INCONCLUSIVE),  # zero spread never holds on its own
        ([-0.2], "less", Verdict.INCONCLUSIVE),
    ],
)
def test_directional_verdict(values, direction, expected):
    assert directional_verdict(t_interval(values, 0.95), direction) is expected


def test_units_to_decide_matches_the_interval():
    values = [0.1, -0.05, 0.2, 0.05]
    n = units_to_decide(values, 0.95)
    assert n is not None and n > len(values)
    rng_mean, sd = np.mean(values), np.std(values, ddof=1)
    from scipy import stats

    assert stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < rng_mean
    assert stats.t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) >= rng_mean
    assert units_to_decide([0.1, 0.1], 0.95) is None
