"""Decision rules that turn measured numbers into a claim verdict.

Every verdict in the reproduction summary comes from one of these rules applied to a measured
value and its uncertainty; none is typed by hand. Three outcomes are possible for a claim that
ran (``holds``, ``fails``, ``inconclusive``) and a fourth, ``not run``, when its input is missing.

- :func:`t_interval` + :func:`directional_verdict`: a directional claim over seeds ("SPA accuracy is LOWER
  than the best baseline"): the Student-t interval of stated coverage (params.yaml ``report.coverage``) must
  lie on the claimed side of 0 (holds) or on the other side (fails); an interval that contains 0, has no
  width (zero spread) or does not exist (one seed) is inconclusive, and :func:`units_to_decide` says how
  many seeds would decide it at the observed effect. T1 (attack phase), T2 (advtrain phase) and the
  reproduction summary all call these; nothing else decides a claim over seeds.
- :func:`band_verdict`: an equality claim with a tolerance ("the slope is 2", "the fixed point is
  4.286"): an interval inside the tolerance band holds, one disjoint from it fails (a two
  one-sided test in the spirit of equivalence testing), a straddling one is inconclusive.
- :func:`combine`: a claim over many settings ("on every benchmark"): any failure fails it, all
  holding holds it, anything else is inconclusive; no settings at all means it did not run.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Verdict(str, enum.Enum):
    """The closed set of verdicts (the ``verdict`` column of summary.csv)."""

    HOLDS = "holds"
    FAILS = "fails"
    INCONCLUSIVE = "inconclusive"
    NOT_RUN = "not run"
    NO_VERDICT = "no verdict"  # a scale whose numbers mean nothing (summary.NO_VERDICT_SCALES): the claim runs, nothing is concluded


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


# An interval end closer to 0 than this (relative to the interval's scale) touches 0: a percentile bootstrap whose
# resamples tie exactly (both sides equal) puts its end at 0 plus rounding (1.6e-19 in a cpu run), which does
# not exclude 0 and must not decide a claim.
ZERO_TOL = 1e-9


def _zero_tol(low: float, high: float) -> float:
    return ZERO_TOL * max(1.0, abs(low), abs(high))


def touches_zero(low: float, high: float) -> bool:
    """An end of the finite interval ``[low, high]`` lies within :data:`ZERO_TOL` times its scale of 0."""
    return _finite(low) and _finite(high) and min(abs(low), abs(high)) <= _zero_tol(low, high)


def excludes_zero(low: float, high: float) -> int:
    """+1 when ``[low, high]`` lies clearly above 0, -1 clearly below, 0 when it contains or touches 0
    (:func:`touches_zero`) or is not finite."""
    if not (_finite(low) and _finite(high)) or touches_zero(low, high):
        return 0
    low, high = min(low, high), max(low, high)
    return 1 if low > 0 else -1 if high < 0 else 0


def band_verdict(low: float, high: float, band_low: float, band_high: float) -> Verdict:
    """Verdict on "the quantity lies in ``[band_low, band_high]``" from its interval ``[low, high]``.

    Holds when the interval lies inside the band, fails when the two are disjoint, inconclusive
    when they overlap only partly or the interval is not finite. A point value is the interval
    ``[v, v]``.
    """
    if band_low > band_high:
        raise ValueError(f"empty band [{band_low}, {band_high}]")
    if not (_finite(low) and _finite(high)):
        return Verdict.INCONCLUSIVE
    low, high = min(low, high), max(low, high)
    if band_low <= low and high <= band_high:
        return Verdict.HOLDS
    if high < band_low or low > band_high:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """A claim over several settings: any fails -> fails; all hold -> holds; none -> not run;
    otherwise inconclusive. Settings that did not run are ignored unless all of them did not."""
    vs = [v for v in verdicts if v is not Verdict.NOT_RUN]
    if not vs:
        return Verdict.NOT_RUN
    if any(v is Verdict.FAILS for v in vs):
        return Verdict.FAILS
    if all(v is Verdict.HOLDS for v in vs):
        return Verdict.HOLDS
    return Verdict.INCONCLUSIVE


def count(verdicts: Iterable[Verdict]) -> str:
    """``"3 hold, 1 inconclusive"``: a compact tally for the evidence column."""
    vs = list(verdicts)
    parts = []
    for v, word in ((Verdict.HOLDS, "hold"), (Verdict.FAILS, "fail"), (Verdict.INCONCLUSIVE, "inconclusive"),
                    (Verdict.NOT_RUN, "not run")):
        n = sum(1 for x in vs if x is v)
        if n:
            parts.append(f"{n} {word}")
    return ", ".join(parts) if parts else "no settings"


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided interval of stated coverage.

    ``n`` counts the independent units the interval is over (seeds, network draws); ``method`` says how
    it was made (e.g. ``"t, 4 df"``, ``"bootstrap over 200 draws"``), so every summary row can state it.
    """

    estimate: float
    low: float
    high: float
    n: int
    coverage: float
    method: str

    @property
    def finite(self) -> bool:
        return _finite(self.low) and _finite(self.high)

    def describe(self) -> str:
        if not self.finite:
            return f"{self.estimate:.4g} (no interval: n = {self.n})"
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}] ({100 * self.coverage:.0f} %, {self.method})"


def t_interval(values: Sequence[float], coverage: float) -> Interval:
    """Mean of ``values`` (one per independent unit, e.g. seed-paired differences) with the Student-t
    interval ``mean +- t_{(1+coverage)/2, n-1} * sd / sqrt(n)``: exact coverage for normal data, the honest
    width for few seeds (with 3 seeds, +- 2 SE is an 82 % interval; the 95 % one is +- 4.30 SE)."""
    from scipy import stats

    if not 0 < coverage < 1:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage}")
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    n = len(v)
    mean = sum(v) / n if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, coverage, f"t, {max(n - 1, 0)} df")
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1))
    half = float(stats.t.ppf(0.5 + coverage / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, coverage, f"t, {n - 1} df")


def directional_verdict(interval: Interval, direction: str) -> Verdict:
    """Verdict on "the estimate is below 0" (``direction="less"``) or "above 0" (``"greater"``).

    Holds when the whole interval lies on the claimed side of 0, fails when it lies on the other side,
    inconclusive otherwise (also when an end touches 0: :func:`excludes_zero`). An interval of zero width (no spread between units) or no interval at all
    (fewer than two units) never decides a claim on its own: it is inconclusive.
    """
    if direction not in ("less", "greater"):
        raise ValueError(f"direction must be 'less' or 'greater', got {direction!r}")
    if not interval.finite or interval.high - interval.low <= 1e-12 * max(1.0, abs(interval.estimate)):
        return Verdict.INCONCLUSIVE
    side = excludes_zero(interval.low, interval.high) * (-1 if direction == "less" else 1)
    if side > 0:
        return Verdict.HOLDS
    if side < 0:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


def units_to_decide(values: Sequence[float], coverage: float, max_n: int = 1000) -> int | None:
    """How many units (seeds, draws) the t-interval would need to exclude 0 at the observed mean and spread.

    None when the observed mean is 0 or there is no spread to extrapolate from (fewer than two units).
    """
    from scipy import stats

    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if len(v) < 2:
        return None
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1))
    if mean == 0 or sd <= 0:
        return None
    for n in range(2, max_n + 1):
        if float(stats.t.ppf(0.5 + coverage / 2, n - 1)) * sd / math.sqrt(n) < abs(mean):
            return n
    return None
