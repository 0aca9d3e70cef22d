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
from typing import Any


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


def t_quantile(q: float, df: float) -> float:
    """Student-t quantile: ``scipy.stats.t.ppf(q, df)`` value for value (the same ``scipy.special.stdtrit``
    call and the same edge values: NaN unless ``df > 0`` and ``0 <= q <= 1``, -inf/inf at q = 0/1), without
    importing scipy.stats (about 0.5 CPU-s more per job than scipy.special, for every table job)."""
    from scipy import special

    if not (df > 0 and 0 <= q <= 1):
        return math.nan
    if q == 0 or q == 1:
        return math.inf if q == 1 else -math.inf
    return float(special.stdtrit(df, q))


def t_sf(x: float, df: float) -> float:
    """Student-t survival function: ``scipy.stats.t.sf(x, df)`` value for value (``scipy.special.stdtr(df, -x)``;
    NaN unless ``df > 0`` and x is a number, 1 at x = -inf, 0 at x = inf), without importing scipy.stats."""
    from scipy import special

    if not df > 0 or math.isnan(x):
        return math.nan
    if math.isinf(x):
        return 1.0 if x < 0 else 0.0
    return float(special.stdtr(df, -x))


def t_interval(values: Sequence[float], coverage: float) -> Interval:
    """Mean of ``values`` (one per independent unit, e.g. seed-paired differences) with the Student-t
    interval ``mean +- t_{(1+coverage)/2, n-1} * sd / sqrt(n)``: exact coverage for normal data, the honest
    width for few seeds (with 3 seeds, +- 2 SE is an 82 % interval; the 95 % one is +- 4.30 SE)."""
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage}")
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    n = len(v)
    mean = sum(v) / n if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, coverage, f"t, {max(n - 1, 0)} df")
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1))
    half = t_quantile(0.5 + coverage / 2, n - 1) * sd / math.sqrt(n)
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
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if len(v) < 2:
        return None
    mean = sum(v) / len(v)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1))
    if mean == 0 or sd <= 0:
        return None
    for n in range(2, max_n + 1):
        if t_quantile(0.5 + coverage / 2, n - 1) * sd / math.sqrt(n) < abs(mean):
            return n
    return None


# ---- paired two-way intervals over seeds and test images (issue 21) ------------------------------------------------

TWO_WAY_METHOD = "seeds x images bootstrap SE, t"


@dataclass(frozen=True)
class TwoWay:
    """A paired difference over seeds and test images with its two-way interval (:func:`two_way_interval`).

    ``seed_var`` and ``image_var`` are the two variance terms of the mean (their sum is the squared standard error),
    ``df`` the Welch-Satterthwaite degrees of freedom of the t quantile, ``n_images`` the images per seed.
    """

    interval: Interval
    seed_var: float
    image_var: float
    df: float
    n_images: int

    @property
    def se(self) -> float:
        return math.sqrt(self.seed_var + self.image_var)

    def p_value(self) -> float:
        """Two-sided p-value of "the difference is 0" from the same t statistic the interval reads (so that
        ``p < 1 - coverage`` exactly when the interval excludes 0); NaN where there is no interval."""
        if not self.interval.finite or self.se <= 0:
            return math.nan
        return 2 * t_sf(abs(self.interval.estimate) / self.se, self.df)

    def half_width(self, n_seeds: int | None = None, n_images: int | None = None) -> float:
        """The interval's half-width were it over ``n_seeds`` seeds and ``n_images`` images (the observed ones
        by default) at the observed variance components: each term scales as 1 / count."""
        s0, n0 = self.interval.n, self.n_images
        s, n = n_seeds or s0, n_images or n0
        if not self.interval.finite or s < 2:
            return math.nan
        vs, vi = self.seed_var * s0 / s, self.image_var * n0 / n
        df = _satterthwaite(vs, s, vi, n)
        return t_quantile(0.5 + self.interval.coverage / 2, df) * math.sqrt(vs + vi)

    def images_to_decide(self, max_n: int = 10**7) -> int | None:
        """How many test images per seed would make the interval exclude 0 at the observed effect and variance
        components (the seeds as they are); None when the estimate is 0, there is no interval, or the seed term
        alone is too wide (then only more seeds can decide)."""
        est = abs(self.interval.estimate)
        if not self.interval.finite or est == 0 or self.half_width(n_images=max_n) >= est:
            return None
        lo, hi = 1, max_n
        while lo < hi:  # the half-width falls with the image count: bisect for the first count below the effect
            mid = (lo + hi) // 2
            if self.half_width(n_images=mid) < est:
                hi = mid
            else:
                lo = mid + 1
        return lo


def _satterthwaite(v1: float, n1: int, v2: float, n2: int) -> float:
    num = (v1 + v2) ** 2
    den = (v1 * v1 / (n1 - 1) if n1 > 1 else 0.0) + (v2 * v2 / (n2 - 1) if n2 > 1 else 0.0)
    return num / den if den > 0 else float(max(n1 - 1, 1))


def two_way_interval(diffs: Any, coverage: float) -> TwoWay:
    """Mean paired difference over seeds and test images with an interval that counts both as random.

    ``diffs``: ``[S, N]`` per-(seed, image) differences of the two arms, e.g. ``correct_A - correct_B`` in
    {-1, 0, 1}, the same N test images in every seed (the evaluation attacks the same split with every seed's
    model, so seeds and images are *crossed*, not nested). The estimate is the mean over both axes.

    Uncertainty: the two-way (pigeonhole) bootstrap of Owen (2007, Ann. Appl. Stat. 1(2)) for crossed
    random effects: resample seeds, and images with the same indices for both arms and for every seed (resampling
    images anew within each seed would treat the shared image draw as S independent draws and shrink its term
    S-fold). Its variance has a closed form, used here instead of Monte Carlo replicates (exact, deterministic):
    resampling the S seed means gives ``var(m_s) (S-1)/S^2`` and resampling the N image means ``var(m_i) (N-1)/N^2``;
    each is rescaled by n/(n-1) to the unbiased ``seed_var = var(m_s)/S`` and ``image_var = var(m_i)/N`` (ddof 1).
    Their sum counts the seed x image interaction twice, so the SE is conservative (Owen's result).

    Interval: ``mean +- t_{(1+coverage)/2, df} * SE`` with Welch-Satterthwaite df of the two terms. Not the
    percentile interval: with 3-5 seeds a percentile bootstrap over seeds is the plug-in distribution of 3-5
    values and misses the t quantile and the (S-1)/S bias: where the seed term dominates it covers a 95 % target
    at 0.79 with 3 seeds and 0.83 with 5 (simulation, tests/unit/test_two_way_intervals.py); the t form
    reduces exactly to :func:`t_interval` over the seed means when the image term is 0, and to a normal interval
    when the image term dominates. With one seed there is no seed term and no interval (inconclusive).
    """
    import numpy as np

    if not 0 < coverage < 1:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage}")
    d = np.asarray(diffs, dtype=float)
    if d.ndim != 2:
        raise ValueError(f"two_way_interval needs [seeds, images] differences, got shape {d.shape}")
    d = d[np.isfinite(d).all(axis=1)]
    s, n = d.shape
    if s == 0 or n == 0:
        return TwoWay(Interval(math.nan, math.nan, math.nan, s, coverage, TWO_WAY_METHOD), math.nan, math.nan,
                      math.nan, n)
    est = float(d.mean())
    if s < 2:
        return TwoWay(Interval(est, math.nan, math.nan, s, coverage, TWO_WAY_METHOD + ", 1 seed"), math.nan,
                      math.nan, math.nan, n)
    seed_var = float(d.mean(axis=1).var(ddof=1) / s)
    image_var = float(d.mean(axis=0).var(ddof=1) / n) if n > 1 else 0.0
    df = _satterthwaite(seed_var, s, image_var, n)
    half = t_quantile(0.5 + coverage / 2, df) * math.sqrt(seed_var + image_var)
    method = f"{TWO_WAY_METHOD} {df:.3g} df, {s} seeds x {n} images"
    return TwoWay(Interval(est, est - half, est + half, s, coverage, method), seed_var, image_var, df, n)


def two_way_replicates(diffs: Any, n_boot: int, seed: int) -> Any:
    """Monte Carlo replicates of the two-way bootstrap :func:`two_way_interval` computes in closed form
    (``[n_boot]`` means of ``diffs[s*, i*]``, seeds and images resampled with replacement, the same image indices
    for every seed): the check of the closed form, and what a percentile interval would read."""
    import numpy as np

    d = np.asarray(diffs, dtype=float)
    s, n = d.shape
    rng = np.random.default_rng(seed)
    cs = rng.multinomial(s, np.full(s, 1 / s), size=n_boot).astype(float)  # seed counts [B, S]
    ci = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)  # image counts [B, N]
    return np.einsum("bs,sn,bn->b", cs, d, ci) / (s * n)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979; strong control of the family-wise error rate): sort
    ascending, ``p_(k) * (m - k + 1)`` made monotone and capped at 1. NaN entries stay NaN and do not count in m."""
    idx = [i for i, p in enumerate(p_values) if _finite(p)]
    m = len(idx)
    out = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        out[i] = running
    return out


def adjusted_verdict(estimate: float, p_adjusted: float, alpha: float, direction: str) -> Verdict:
    """The directional verdict of a secondary row after multiplicity correction: decided (holds on the claimed
    side, fails on the other) only when its adjusted p-value is below ``alpha`` = 1 - coverage."""
    if direction not in ("less", "greater"):
        raise ValueError(f"direction must be 'less' or 'greater', got {direction!r}")
    if not _finite(p_adjusted) or not _finite(estimate) or p_adjusted >= alpha or estimate == 0:
        return Verdict.INCONCLUSIVE
    on_side = estimate < 0 if direction == "less" else estimate > 0
    return Verdict.HOLDS if on_side else Verdict.FAILS


def two_way_row(diffs: Any, coverage: float, direction: str, max_seeds: int = 1000) -> dict[str, Any]:
    """The columns every T1 / T2 claim row carries from its ``[S, N]`` paired differences (:func:`two_way_interval`):
    the estimate and interval, the method, the seed and image standard errors, the two-sided p-value, the directional
    verdict (:func:`directional_verdict`) and, for an undecided row, how many seeds (images as they are) or images
    (seeds as they are) would decide it at the observed effect and variance components (None: that count cannot)."""
    tw = two_way_interval(diffs, coverage)
    iv = tw.interval
    v = directional_verdict(iv, direction)
    seeds_need = images_need = None
    if v is Verdict.INCONCLUSIVE and iv.finite and iv.estimate != 0:
        seeds_need = next((s for s in range(2, max_seeds + 1) if tw.half_width(n_seeds=s) < abs(iv.estimate)), None)
        images_need = tw.images_to_decide()
    return {
        "estimate": iv.estimate, "low": iv.low, "high": iv.high, "method": iv.method, "n_seeds": iv.n,
        "n_images": tw.n_images, "seed_se": math.sqrt(tw.seed_var) if _finite(tw.seed_var) else math.nan,
        "image_se": math.sqrt(tw.image_var) if _finite(tw.image_var) else math.nan, "p_value": tw.p_value(),
        "verdict": v, "seeds_to_decide": seeds_need, "images_to_decide": images_need,
    }
