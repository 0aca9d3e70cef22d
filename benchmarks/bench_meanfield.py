"""Benchmark: the full paper phase-diagram grid (301 sw2 x 8 rho x 5 activations, c* by bracketing)
and a side-by-side with a per-point scipy.integrate reference on a subset of the grid.

    .venv/bin/python benchmarks/bench_meanfield.py [--threads 2] [--subset 12]

Prints wall times, the speed-up per point, and the largest relative difference of q*, c*, chi_1, chi_c.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import torch
from scipy import integrate, optimize

from reproflow.meanfield import theory as T

PHI = {
    "linear": (lambda x: x, lambda x: 1.0),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "relu": (lambda x: max(x, 0.0), lambda x: float(x > 0)),
    "hardtanh": (lambda x: min(max(x, -1.0), 1.0), lambda x: float(abs(x) < 1)),
    "erf": (lambda x: math.erf(math.sqrt(math.pi) / 2 * x), lambda x: math.exp(-math.pi / 4 * x * x)),
}


def gauss1(f, q):
    s = math.sqrt(q)
    pts = [0.0, 1 / s, -1 / s]
    return integrate.quad(lambda z: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12,
                          points=pts, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


KINKS = (-1.0, 0.0, 1.0)  # kinks of ReLU / hard-tanh (harmless break points for the others)


def gauss2(f, g, q, c):
    s, sc = math.sqrt(q), math.sqrt(max(1 - c * c, 0.0))

    def inner(z1):
        m = c * s * z1
        pts = [(k - m) / (s * sc) for k in KINKS if sc > 0 and abs((k - m) / (s * sc)) < 12]
        return integrate.quad(lambda z2: g(m + s * sc * z2) * math.exp(-z2 * z2 / 2), -12, 12, points=pts,
                              epsabs=1e-13, epsrel=1e-12, limit=200)[0] / math.sqrt(2 * math.pi)

    pts = sorted({k / s for k in KINKS if abs(k / s) < 12} | {k / (c * s) for k in KINKS if c and abs(k / (c * s)) < 12})
    return integrate.quad(lambda z1: f(s * z1) * inner(z1) * math.exp(-z1 * z1 / 2) / math.sqrt(2 * math.pi),
                          -12, 12, points=pts, epsabs=1e-12, epsrel=1e-11, limit=200)[0]


def reference_point(act, sw2, sb2, rho):
    """The usual per-point approach: scipy quad + brentq for q*, c*, then chi's."""
    f, df = PHI[act]
    if act in ("linear", "relu"):
        gain = sw2 / rho * gauss1(lambda u: f(u) ** 2, 1.0)
        if gain >= 1:
            return None
        qs = sb2 / (1 - gain)
    else:
        qs = optimize.brentq(lambda q: sw2 / rho * gauss1(lambda u: f(u) ** 2, q) + sb2 - q, sb2, sw2 / rho + sb2,
                             xtol=1e-13)
    chi1 = sw2 / rho * gauss1(lambda u: df(u) ** 2, qs)

    def F(c):
        return (sw2 * gauss2(f, f, qs, c) + sb2) / qs - c

    if rho >= 1 and chi1 <= 1:
        cs = 1.0
    else:
        hi = 1.0 if rho < 1 else 1 - 1e-7
        cs = optimize.brentq(F, 0.0, hi, xtol=1e-12) if F(hi) < 0 else 1.0
    chic = sw2 * gauss2(df, df, qs, cs) if cs < 1 else chi1 * rho
    return qs, cs, chi1, chic


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subset", type=int, default=4, help="reference points per activation")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=integrate.IntegrationWarning)
    torch.set_num_threads(args.threads)
    sw2 = torch.tensor([round(1.0 + 0.01 * i, 10) for i in range(301)], dtype=torch.float64)
    rho = torch.tensor([1.0, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.6], dtype=torch.float64)
    S, R = (t.flatten() for t in torch.meshgrid(sw2, rho, indexing="ij"))
    T.fixed_points("tanh", S[:8], 0.05, R[:8])  # warm-up (Hermite table, first-call overheads)
    t0 = time.perf_counter()
    results = {act: T.fixed_points(act, S, 0.05, R) for act in T.ACTIVATIONS}
    t_grid = time.perf_counter() - t0
    n = S.numel() * len(T.ACTIVATIONS)
    print(f"full grid: {n} points (301 sw2 x 8 rho x 5 activations) in {t_grid:.2f} s "
          f"({args.threads} threads) = {1e3 * t_grid / n:.3f} ms/point")
    rng = np.random.default_rng(0)
    t_ref, n_ref, worst = 0.0, 0, 0.0
    for act in T.ACTIVATIONS:
        fp = results[act]
        idx = [int(i) for i in rng.choice(S.numel(), size=args.subset, replace=False)
               if math.isfinite(float(fp.q_star[int(i)]))]
        for i in idx:
            t1 = time.perf_counter()
            ref = reference_point(act, float(S[i]), 0.05, float(R[i]))
            t_ref += time.perf_counter() - t1
            n_ref += 1
            ours = (fp.q_star[i], fp.c_star[i], fp.chi_1[i], fp.chi_c[i])
            rel = max(abs(float(a) - b) / max(abs(b), 1e-12) for a, b in zip(ours, ref))
            worst = max(worst, rel)
            print(f"  {act:8s} sw2={float(S[i]):.2f} rho={float(R[i]):.2f}: ref q*={ref[0]:.10f} c*={ref[1]:.10f}"
                  f" chi_1={ref[2]:.8f} chi_c={ref[3]:.8f}  max rel diff {rel:.2e}")
    per_ref = t_ref / n_ref
    per_ours = t_grid / n
    print(f"scipy.integrate reference: {n_ref} points in {t_ref:.1f} s = {1e3 * per_ref:.1f} ms/point")
    print(f"speed-up per point: {per_ref / per_ours:.0f}x; largest relative difference: {worst:.2e}")
    print(f"target: full grid < 5 s -> {'met' if t_grid < 5 else 'NOT met'}; >= 100x at <= 1e-6 -> "
          f"{'met' if per_ref / per_ours >= 100 and worst <= 1e-6 else 'NOT met'}")


if __name__ == "__main__":
    main()
