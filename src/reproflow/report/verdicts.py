"""Decision rules that turn measured numbers into a claim verdict.

Every verdict in the reproduction summary comes from one of these rules applied to a measured
value and its uncertainty; none is typed by hand. Three outcomes are possible for a claim that
ran (``holds``, ``fails``, ``inconclusive``) and a fourth, ``not run``, when its input is missing.

- :func:`sign_verdict`: a directional claim ("SPA accuracy is LOWER than the best baseline"):
  the interval ``diff +- z * se`` must exclude 0 on the claimed side (holds) or on the other side
  (fails); an interval that contains 0, or a missing standard error, is inconclusive.
- :func:`band_verdict`: an equality claim with a tolerance ("the slope is 2", "the fixed point is
  4.286"): an interval inside the tolerance band holds, one disjoint from it fails (a two
  one-sided test in the spirit of equivalence testing), a straddling one is inconclusive.
- :func:`combine`: a claim over many settings ("on every benchmark"): any failure fails it, all
  holding holds it, anything else is inconclusive; no settings at all means it did not run.
"""

from __future__ import annotations

import enum
import math
from typing import Iterable


class Verdict(str, enum.Enum):
    """The closed set of verdicts (the ``verdict`` column of summary.csv)."""

    HOLDS = "holds"
    FAILS = "fails"
    INCONCLUSIVE = "inconclusive"
    NOT_RUN = "not run"


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def sign_verdict(diff: float, se: float, z: float, direction: str) -> Verdict:
    """Verdict on the claim ``diff < 0`` (``direction="less"``) or ``diff > 0`` (``"greater"``).

    ``diff``: the measured difference; ``se``: its standard error (NaN when unknown, e.g. one
    seed); ``z``: the interval half-width in standard errors (2 ~ a 95 % interval). Holds when
    ``diff +- z se`` lies entirely on the claimed side of 0, fails when it lies entirely on the
    other side, inconclusive otherwise (including a non-finite ``se`` or ``diff``).
    """
    if direction not in ("less", "greater"):
        raise ValueError(f"direction must be 'less' or 'greater', got {direction!r}")
    if z < 0:
        raise ValueError(f"z must be >= 0, got {z}")
    if not (_finite(diff) and _finite(se)) or se < 0:
        return Verdict.INCONCLUSIVE
    sign = -1.0 if direction == "less" else 1.0
    lo, hi = sign * diff - z * se, sign * diff + z * se
    if lo > 0:
        return Verdict.HOLDS
    if hi < 0:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


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
