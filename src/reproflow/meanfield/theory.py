"""Large-width mean-field maps of fully connected networks with inverted dropout.

Implements section 2 of Huang et al., "Mean field theory for deep dropout networks: digging up
gradient backpropagation deeply" (ECAI 2020, arXiv 1912.09132), which extends Schoenholz et al.,
"Deep Information Propagation" (ICLR 2017). Notation: ``sw2``/``sb2`` are weight/bias VARIANCES,
``rho`` is the dropout KEEP probability, ``z, z1, z2 ~ N(0, 1)``, ``u1 = sqrt(q) z1``,
``u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2)``.

- length map      q' = (sw2 / rho) E[phi(u)^2] + sb2                  (fixed point q*)
- covariance map  q12' = sw2 E[phi(u1) phi(u2)] + sb2                 (independent masks: no 1/rho)
- correlation map c' = F(c) = (sw2 E[phi(u1) phi(u2)] + sb2) / q*     (fixed point c*)
- slopes          chi_1 = (sw2/rho) E[phi'(u)^2], chi_c = sw2 E[phi'(u1) phi'(u2)] at (q*, c*),
                  chi_q = (sw2/rho) E[phi'^2 + phi phi''] (computed as (sw2/rho) E[z phi phi'] / sqrt(q)
                  by Stein's lemma, which needs no delta functions for ReLU / hard-tanh)
- depth scales    xi = 1 / |ln chi|  (chi < 1: the signal/gradient vanishes over xi layers;
                  chi > 1: it explodes; chi = 1: xi = inf)

Numerics. Gaussian expectations use composite Gauss-Legendre rules in z-space on [-z_max, z_max]
whose panel boundaries include the activation's kinks (ReLU: 0; hard-tanh: +-1) and, for tanh, the
real part of its poles (0), so every panel integrates an analytic function and the rule converges
spectrally (plain Gauss-Hermite converges only algebraically across a kink: ~1e-3 for ReLU). In
2-D the inner expectation E[g(c u1 + sigma z2) | u1] is a closed form for linear, ReLU, hard-tanh and
erf (Gaussian integrals of piecewise-linear functions and of erf) and a second panel rule, broken
where the argument crosses 0, for tanh. Everything is float64 torch, vectorised over whole grids.
Fixed points are found by vectorised bracketing (Illinois regula falsi), never by plain iteration.

Diverging q*: for the unbounded, positively homogeneous activations (linear, ReLU) q* is infinite
when (sw2/rho) E[phi(z)^2] >= 1. Such rows keep ``q_star = inf``; c* is then the fixed point of the
limiting map F_inf(c) = rho E[phi(z1) phi(c z1 + s z2)] / E[phi(z)^2] (the ratio q12'/q' as q -> inf),
and chi_1, chi_c, chi_q use their defining formulas at q = 1 (they do not depend on q for these
activations).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch

ACTIVATIONS: tuple[str, ...] = ("linear", "tanh", "relu", "hardtanh", "erf")
DTYPE = torch.float64

# erf(sqrt(pi)/2 x): slope 1 at the origin, like tanh
_ERF_A = math.sqrt(math.pi) / 2
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)

# Points where phi is not analytic (kinks), or where it is steepest (tanh's poles nearest the real
# axis sit at +- i pi/2; erf's steep part at 0), in u-space; panel boundaries go there. Steep smooth
# activations also get graded boundaries around 0 so that panels next to a pole are short.
_KINKS: dict[str, tuple[float, ...]] = {
    "linear": (),
    "tanh": (),
    "relu": (0.0,),
    "hardtanh": (-1.0, 1.0),
    "erf": (),
}
_GRADED = (-6.0, -2.0, -0.5, 0.0, 0.5, 2.0, 6.0)
_BREAKS: dict[str, tuple[float, ...]] = {
    "linear": (),
    "tanh": _GRADED,
    "relu": (0.0,),
    "hardtanh": (-1.0, 1.0),
    "erf": _GRADED,
}
# Offsets (in units of the inner standard deviation) of extra outer boundaries around the point
# where a closed-form inner expectation switches (it is a smoothed step of width sigma there).
_SMOOTHED_STEP = (-6.0, -2.0, -0.5, 0.5, 2.0, 6.0)
HOMOGENEOUS = frozenset({"linear", "relu"})  # unbounded, phi(a x) = a phi(x) for a > 0
BOUNDED = frozenset({"tanh", "hardtanh", "erf"})  # |phi| <= 1


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return name


def phi(name: str, x: torch.Tensor) -> torch.Tensor:
    """The activation function ``phi(x)`` (elementwise)."""
    if name == "linear":
        return x
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return torch.clamp_min(x, 0.0)
    if name == "hardtanh":
        return torch.clamp(x, -1.0, 1.0)
    if name == "erf":
        return torch.erf(_ERF_A * x)
    raise ValueError(f"unknown activation {name!r}")


def dphi(name: str, x: torch.Tensor) -> torch.Tensor:
    """The derivative ``phi'(x)`` (elementwise; the step functions take 0 on the kink itself)."""
    if name == "linear":
        return torch.ones_like(x)
    if name == "tanh":
        return 1.0 - torch.tanh(x) ** 2
    if name == "relu":
        return (x > 0).to(x.dtype)
    if name == "hardtanh":
        return (x.abs() < 1).to(x.dtype)
    if name == "erf":
        return (2 * _ERF_A / math.sqrt(math.pi)) * torch.exp(-(_ERF_A**2) * x * x)
    raise ValueError(f"unknown activation {name!r}")


@dataclass(frozen=True)
class Quadrature:
    """Composite Gauss-Legendre settings (z-space, standard-normal weight).

    ``panels`` equal panels on [-z_max, z_max] plus the activation's break points, each with
    ``order`` nodes; ``mehler_*``: the fixed rule and the number of Hermite terms of the Mehler
    series used for 2-D expectations without a closed-form inner integral (tanh).
    """

    z_max: float = 9.0
    panels: int = 10
    order: int = 10
    mehler_terms: int = 256
    mehler_panels: int = 32
    mehler_z_max: float = 12.0


DEFAULT_QUAD = Quadrature()


def _gl(order: int) -> tuple[torch.Tensor, torch.Tensor]:
    import numpy as np

    x, w = np.polynomial.legendre.leggauss(order)
    return torch.as_tensor(x, dtype=DTYPE), torch.as_tensor(w, dtype=DTYPE)


def _panel_rule(breaks: torch.Tensor, z_max: float, panels: int, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights (shape ``(..., n)``) of a composite rule for E[f(z)], z ~ N(0, 1).

    ``breaks``: extra panel boundaries in z-space, shape ``(..., k)`` (clipped to the range).
    """
    x, w = _gl(order)
    edges = torch.linspace(-z_max, z_max, panels + 1, dtype=DTYPE)
    shape = breaks.shape[:-1]
    bounds = torch.cat([edges.expand(*shape, panels + 1), breaks.clamp(-z_max, z_max)], dim=-1)
    bounds, _ = torch.sort(bounds, dim=-1)
    lo, hi = bounds[..., :-1], bounds[..., 1:]
    half = (hi - lo) / 2
    mid = (hi + lo) / 2
    nodes = (mid.unsqueeze(-1) + half.unsqueeze(-1) * x).flatten(-2)
    weights = (half.unsqueeze(-1) * w).flatten(-2) * torch.exp(-0.5 * nodes * nodes) * _INV_SQRT_2PI
    return nodes, weights


def _breaks_z(act: str, scale: torch.Tensor) -> torch.Tensor:
    """Break points of ``act`` mapped to z-space for u = scale * z; shape ``scale.shape + (k,)``."""
    b = torch.as_tensor(_BREAKS[act], dtype=DTYPE)
    return b / scale.unsqueeze(-1).clamp_min(1e-300)


def expect_1d(act: str, q: torch.Tensor, f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
              quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[f(u, z)] with u = sqrt(q) z, z ~ N(0, 1), broken at ``act``'s kinks. Shape of ``q``."""
    q = torch.as_tensor(q, dtype=DTYPE)
    s = q.sqrt()
    z, w = _panel_rule(_breaks_z(act, s), quad.z_max, quad.panels, quad.order)
    return (w * f(s.unsqueeze(-1) * z, z)).sum(-1)


# ---- closed-form conditional expectations E[g(m + sigma Z)], Z ~ N(0, 1) ----------------------

def _ndtr(x: torch.Tensor) -> torch.Tensor:
    return torch.special.ndtr(x)


def _npdf(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _cond_phi(act: str, m: torch.Tensor, sig: torch.Tensor) -> torch.Tensor | None:
    if act == "linear":
        return m
    if act == "relu":
        t = m / sig
        return m * _ndtr(t) + sig * _npdf(t)
    if act == "hardtanh":
        a, b = (1 - m) / sig, (-1 - m) / sig
        return -_ndtr(b) + _ndtr(-a) + m * (_ndtr(a) - _ndtr(b)) + sig * (_npdf(b) - _npdf(a))
    if act == "erf":
        return torch.erf(_ERF_A * m / torch.sqrt(1 + 2 * _ERF_A**2 * sig * sig))
    return None


def _cond_dphi(act: str, m: torch.Tensor, sig: torch.Tensor) -> torch.Tensor | None:
    if act == "linear":
        return torch.ones_like(m)
    if act == "relu":
        return _ndtr(m / sig)
    if act == "hardtanh":
        return _ndtr((1 - m) / sig) - _ndtr((-1 - m) / sig)
    if act == "erf":
        d = 1 + 2 * _ERF_A**2 * sig * sig
        return (2 * _ERF_A / math.sqrt(math.pi)) * torch.exp(-(_ERF_A**2) * m * m / d) / torch.sqrt(d)
    return None


@lru_cache(maxsize=8)
def _hermite_table(z_max: float, panels: int, order: int, terms: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fixed nodes z (M,), weights w (M,) and orthonormal Hermite values H (M, terms + 1).

    h_n = He_n / sqrt(n!) by the stable three-term recurrence; E[h_m(z) h_n(z)] = delta_mn.
    """
    z, w = _panel_rule(torch.zeros(0, dtype=DTYPE), z_max, panels, order)
    cols = [torch.ones_like(z), z.clone()]
    for n in range(1, terms):
        cols.append((z * cols[-1] - math.sqrt(n) * cols[-2]) / math.sqrt(n + 1))
    return z, w, torch.stack(cols[: terms + 1], dim=-1)


def hermite_coeffs(f: Callable[[torch.Tensor], torch.Tensor], q: torch.Tensor,
                   quad: Quadrature | None = None) -> torch.Tensor:
    """a_n = E[f(sqrt(q) z) h_n(z)], n = 0..terms, shape ``q.shape + (terms + 1,)``.

    For an analytic f (tanh) they decay fast, and Mehler's formula
    E[f(u1) g(u2)] = sum_n a_n b_n c^n evaluates the 2-D expectation at any c from them.
    """
    quad = quad or DEFAULT_QUAD
    z, w, H = _hermite_table(quad.mehler_z_max, quad.mehler_panels, quad.order, quad.mehler_terms)
    q = torch.as_tensor(q, dtype=DTYPE)
    vals = f(q.sqrt().unsqueeze(-1) * z) * w  # (..., M)
    return vals @ H


def mehler_sum(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, derivative: bool = False) -> torch.Tensor:
    """sum_n a_n b_n c^n (or its c-derivative) by Horner's rule; a, b: (..., N), c: (...)."""
    ab = a * b
    n_terms = ab.shape[-1]
    if derivative:
        ab = ab[..., 1:] * torch.arange(1, n_terms, dtype=DTYPE)
        n_terms -= 1
    out = torch.zeros(ab.shape[:-1], dtype=DTYPE) + 0 * c
    for n in range(n_terms - 1, -1, -1):
        out = out * c + ab[..., n]
    return out


def expect_2d(act: str, q: torch.Tensor, c: torch.Tensor, f: Callable[[torch.Tensor], torch.Tensor],
              g: Callable[[torch.Tensor], torch.Tensor],
              cond_g: Callable[[torch.Tensor, torch.Tensor], torch.Tensor | None] | None = None,
              quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[f(u1) g(u2)] for (u1, u2) with variances q and correlation c; broadcast shape.

    With a closed-form inner expectation ``cond_g(m, sigma)`` = E[g(m + sigma z2)] (linear, ReLU,
    hard-tanh, erf): the outer integral over u1 is a panel rule broken at ``act``'s kinks and around
    the smoothed step of the inner expectation. Otherwise (tanh, or any f, g without a closed form):
    Mehler's formula with Hermite coefficients of f and g (exact for analytic f, g up to truncation).
    """
    q, c = torch.broadcast_tensors(torch.as_tensor(q, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE))
    if cond_g is None or act == "tanh":
        return mehler_sum(hermite_coeffs(f, q, quad), hermite_coeffs(g, q, quad), c)
    s = q.sqrt()
    sig0 = (s * torch.sqrt((1 - c * c).clamp_min(0.0))).clamp_min(1e-150)
    breaks = _breaks_z(act, s)
    if _KINKS[act]:
        # the closed-form inner expectation of a kinked g is a step smoothed over sigma, centred
        # where c u1 crosses the kink: put short panels around it
        k = torch.as_tensor(_KINKS[act], dtype=DTYPE)
        off = torch.as_tensor(_SMOOTHED_STEP, dtype=DTYPE)
        u_b = (k[:, None] + off[None, :] * sig0[..., None, None]).flatten(-2)  # (..., k * n_off)
        cz = (c * s).unsqueeze(-1)
        extra = torch.where(cz.abs() > 1e-300, u_b / torch.where(cz == 0, 1.0, cz), torch.full_like(u_b, 1e300))
        breaks = torch.cat([breaks, extra], dim=-1)
    z1, w1 = _panel_rule(breaks, quad.z_max, quad.panels, quad.order)  # (..., n1)
    u1 = s.unsqueeze(-1) * z1
    inner = cond_g(c.unsqueeze(-1) * u1, sig0.unsqueeze(-1))
    assert inner is not None, f"{act} has no closed-form inner expectation"  # only tanh, excluded above
    return (w1 * f(u1) * inner).sum(-1)


def e_phi2(act: str, q: torch.Tensor, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[phi(u)^2], u ~ N(0, q)."""
    return expect_1d(act, q, lambda u, z: phi(act, u) ** 2, quad)


def e_dphi2(act: str, q: torch.Tensor, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[phi'(u)^2], u ~ N(0, q)."""
    return expect_1d(act, q, lambda u, z: dphi(act, u) ** 2, quad)


def e_dlength(act: str, q: torch.Tensor, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """d/dq E[phi(sqrt(q) z)^2] = E[phi'^2 + phi phi''] = E[z phi(u) phi'(u)] / sqrt(q)."""
    q = torch.as_tensor(q, dtype=DTYPE)
    return expect_1d(act, q, lambda u, z: z * phi(act, u) * dphi(act, u), quad) / q.sqrt()


def e_phiphi(act: str, q: torch.Tensor, c: torch.Tensor, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[phi(u1) phi(u2)] at variance q and correlation c."""
    return expect_2d(act, q, c, lambda u: phi(act, u), lambda u: phi(act, u),
                     lambda m, s: _cond_phi(act, m, s), quad)


def e_dphidphi(act: str, q: torch.Tensor, c: torch.Tensor, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """E[phi'(u1) phi'(u2)] at variance q and correlation c."""
    return expect_2d(act, q, c, lambda u: dphi(act, u), lambda u: dphi(act, u),
                     lambda m, s: _cond_dphi(act, m, s), quad)


# ---- maps ----------------------------------------------------------------------------------

def length_map(act: str, q, sw2, sb2, rho, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """q' = (sw2/rho) E[phi(sqrt(q) z)^2] + sb2 (broadcast over all arguments)."""
    q, sw2, sb2, rho = (torch.as_tensor(v, dtype=DTYPE) for v in (q, sw2, sb2, rho))
    return sw2 / rho * e_phi2(act, q, quad) + sb2


def covariance_map(act: str, q, c, sw2, sb2, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """q12' = sw2 E[phi(u1) phi(u2)] + sb2 at variance q, correlation c (independent masks)."""
    q, c, sw2, sb2 = (torch.as_tensor(v, dtype=DTYPE) for v in (q, c, sw2, sb2))
    return sw2 * e_phiphi(act, q, c, quad) + sb2


def correlation_map(act: str, c, q_star, sw2, sb2, rho, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """F(c) = (sw2 E[phi(u1) phi(u2)] + sb2) / q* at q = q*; the limiting map where q* = inf."""
    c, q_star, sw2, sb2, rho = torch.broadcast_tensors(
        *(torch.as_tensor(v, dtype=DTYPE) for v in (c, q_star, sw2, sb2, rho)))
    fin = torch.isfinite(q_star)
    q_eval = torch.where(fin, q_star, torch.ones_like(q_star))
    e = e_phiphi(act, q_eval, c, quad)
    finite_val = (sw2 * e + sb2) / q_eval
    inf_val = rho * e / e_phi2(act, torch.ones_like(q_star), quad)
    return torch.where(fin, finite_val, inf_val)


# ---- vectorised bracketing ------------------------------------------------------------------

def bracket_root(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], lo: torch.Tensor, hi: torch.Tensor,
                 f_lo: torch.Tensor, f_hi: torch.Tensor, xtol: float = 1e-13, maxiter: int = 200) -> torch.Tensor:
    """Roots of ``fn`` in [lo, hi] for 1-D batches, by Illinois regula falsi with bisection fallback.

    ``fn(x, idx)`` evaluates the function at ``x`` for the batch entries ``idx`` (only unconverged
    entries are evaluated). Requires f_lo and f_hi of opposite signs (or one of them zero).
    """
    lo, hi, f_lo, f_hi = (t.clone().to(DTYPE) for t in (lo, hi, f_lo, f_hi))
    x = torch.where(f_lo == 0, lo, torch.where(f_hi == 0, hi, (lo + hi) / 2))
    active = (f_lo != 0) & (f_hi != 0)
    if bool(((f_lo * f_hi) > 0)[active].any()):
        raise ValueError("bracket_root: f(lo) and f(hi) must have opposite signs")
    side = torch.zeros_like(lo)  # +1: lo kept twice in a row, -1: hi kept twice
    width0 = hi - lo
    for it in range(maxiter):
        idx = torch.nonzero(active).flatten()
        if idx.numel() == 0:
            break
        a, b, fa, fb = lo[idx], hi[idx], f_lo[idx], f_hi[idx]
        xr = (a * fb - b * fa) / (fb - fa)
        # every 4th step is a bisection, which guarantees the bracket halves regularly
        bad = ~torch.isfinite(xr) | (xr <= a) | (xr >= b) | torch.tensor(it % 4 == 3)
        xr = torch.where(bad, (a + b) / 2, xr)
        fx = fn(xr, idx)
        left = (fx * fa) > 0  # root in [xr, b]
        new_a = torch.where(left, xr, a)
        new_b = torch.where(left, b, xr)
        new_fa = torch.where(left, fx, fa)
        new_fb = torch.where(left, fb, fx)
        sd = side[idx]
        # Illinois: halve the stale endpoint's value when the same side is kept twice
        new_fb = torch.where(left & (sd > 0), new_fb / 2, new_fb)
        new_fa = torch.where(~left & (sd < 0), new_fa / 2, new_fa)
        side[idx] = torch.where(left, torch.ones_like(sd), -torch.ones_like(sd))
        lo[idx], hi[idx], f_lo[idx], f_hi[idx] = new_a, new_b, new_fa, new_fb
        x[idx] = xr
        done = (fx == 0) | ((new_b - new_a) <= xtol * torch.clamp_min(width0[idx], 1.0))
        x[idx] = torch.where(fx == 0, xr, torch.where(done, (new_a + new_b) / 2, xr))
        active[idx] = ~done
    return x


# ---- fixed points, slopes, depth scales -----------------------------------------------------

def q_star(act: str, sw2, sb2, rho, quad: Quadrature = DEFAULT_QUAD) -> torch.Tensor:
    """Fixed point of the length map; ``inf`` where it diverges (linear / ReLU only)."""
    check_activation(act)
    sw2, sb2, rho = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=DTYPE) for v in (sw2, sb2, rho)))
    shape = sw2.shape
    sw2, sb2, rho = sw2.flatten(), sb2.flatten(), rho.flatten()
    if act in HOMOGENEOUS:
        k1 = e_phi2(act, torch.ones((), dtype=DTYPE), quad)
        gain = sw2 / rho * k1
        out = torch.where(gain < 1, sb2 / (1 - gain).clamp_min(1e-300), torch.full_like(sw2, math.inf))
        return out.reshape(shape)
    # bounded phi: q' - q changes sign on [sb2, sw2/rho + sb2]
    lo, hi = sb2.clone(), sw2 / rho + sb2

    def g(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return length_map(act, x, sw2[idx], sb2[idx], rho[idx], quad) - x

    all_idx = torch.arange(sw2.numel())
    return bracket_root(g, lo, hi, g(lo, all_idx), g(hi, all_idx)).reshape(shape)


def c_star(act: str, q_st: torch.Tensor, sw2, sb2, rho, chi_1: torch.Tensor,
           quad: Quadrature = DEFAULT_QUAD, delta: float = 1e-7) -> torch.Tensor:
    """Stable fixed point of the correlation map on [0, 1] by bracketing F(c) - c.

    rho < 1: F(1) < 1, so the root lies in [0, 1) (F(1) from q* exactly, no quadrature).
    rho = 1: c* = 1 in the ordered phase (chi_1 <= 1); otherwise the root in [0, 1 - delta]
    (taken as 1 when F(c) - c has not changed sign by 1 - delta, i.e. within ~delta of criticality).
    """
    q_st, sw2, sb2, rho, chi_1 = torch.broadcast_tensors(
        *(torch.as_tensor(v, dtype=DTYPE) for v in (q_st, sw2, sb2, rho, chi_1)))
    shape = q_st.shape
    q_st, sw2, sb2, rho, chi_1 = (t.flatten() for t in (q_st, sw2, sb2, rho, chi_1))
    n = q_st.numel()
    fin = torch.isfinite(q_st)
    keep_all = rho >= 1 - 1e-12
    out = torch.ones(n, dtype=DTYPE)

    if act == "tanh":
        # Mehler: the Hermite coefficients at q* are computed once; each F(c) is then a polynomial
        a = hermite_coeffs(lambda u: phi(act, u), torch.where(fin, q_st, 1.0), quad)

        def g(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            return (sw2[idx] * mehler_sum(a[idx], a[idx], x) + sb2[idx]) / q_st[idx] - x
    else:

        def g(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            return correlation_map(act, x, q_st[idx], sw2[idx], sb2[idx], rho[idx], quad) - x

    # F(1) - 1 exactly: (rho (q* - sb2) + sb2)/q* - 1, or rho - 1 on the limiting map
    g1 = torch.where(fin, (rho - 1) * (q_st - sb2) / torch.where(fin, q_st, 1.0), rho - 1)
    solve = ~keep_all | (chi_1 > 1 + 1e-12)
    if act in HOMOGENEOUS:
        # the limiting map at rho = 1 satisfies F_inf(c) >= c, so c* = 1
        solve &= ~(keep_all & ~fin)
    idx = torch.nonzero(solve).flatten()
    if idx.numel():
        hi = torch.where(keep_all[idx], 1 - delta, 1.0).to(DTYPE)
        f_hi = torch.where(keep_all[idx], g(hi, idx), g1[idx])
        lo = torch.zeros_like(hi)
        f_lo = g(lo, idx)
        no_root = f_hi >= 0  # only possible at rho = 1 within delta of criticality
        roots = torch.ones_like(hi)
        sub = torch.nonzero(~no_root).flatten()
        if sub.numel():
            roots[sub] = bracket_root(lambda x, j: g(x, idx[sub][j]), lo[sub], hi[sub],
                                      f_lo[sub].clamp_min(0.0), f_hi[sub])
        out[idx] = roots
    return out.reshape(shape)


def depth_scale(chi: torch.Tensor) -> torch.Tensor:
    """xi = 1 / |ln chi| (inf at chi = 1; nan where chi is nan)."""
    chi = torch.as_tensor(chi, dtype=DTYPE)
    return 1.0 / torch.log(chi).abs()


@dataclass
class FixedPoints:
    """Columns of one phase-diagram block (1-D tensors of equal length)."""

    q_star: torch.Tensor
    c_star: torch.Tensor
    chi_1: torch.Tensor
    chi_c: torch.Tensor
    chi_q: torch.Tensor
    xi_1: torch.Tensor
    xi_c: torch.Tensor
    xi_q: torch.Tensor


def fixed_points(act: str, sw2, sb2, rho, quad: Quadrature = DEFAULT_QUAD) -> FixedPoints:
    """q*, c*, chi_1, chi_c, chi_q and the depth scales for every broadcast (sw2, sb2, rho)."""
    check_activation(act)
    sw2, sb2, rho = (t.flatten() for t in torch.broadcast_tensors(
        *(torch.as_tensor(v, dtype=DTYPE) for v in (sw2, sb2, rho))))
    qs = q_star(act, sw2, sb2, rho, quad)
    fin = torch.isfinite(qs)
    q_eval = torch.where(fin, qs, torch.ones_like(qs))  # chi's of homogeneous phi don't depend on q
    chi_1 = sw2 / rho * e_dphi2(act, q_eval, quad)
    chi_q = sw2 / rho * e_dlength(act, q_eval, quad)
    cs = c_star(act, qs, sw2, sb2, rho, chi_1, quad)
    at_one = cs >= 1 - 1e-15
    chi_c = torch.where(at_one, chi_1 * rho, sw2 * e_dphidphi(act, q_eval, cs.clamp(max=1.0), quad))
    return FixedPoints(qs, cs, chi_1, chi_c, chi_q, depth_scale(chi_1), depth_scale(chi_c), depth_scale(chi_q))


def critical_sw2(act: str, sb2, rho, lo: float, hi: float, quad: Quadrature = DEFAULT_QUAD,
                 xtol: float = 1e-12) -> torch.Tensor:
    """The sw2 at which chi_1 = 1 for each broadcast (sb2, rho); nan when no crossing in [lo, hi]."""
    sb2, rho = (t.flatten() for t in torch.broadcast_tensors(
        torch.as_tensor(sb2, dtype=DTYPE), torch.as_tensor(rho, dtype=DTYPE)))

    def g(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        qs = q_star(act, x, sb2[idx], rho[idx], quad)
        q_eval = torch.where(torch.isfinite(qs), qs, torch.ones_like(qs))
        return x / rho[idx] * e_dphi2(act, q_eval, quad) - 1

    idx = torch.arange(sb2.numel())
    a, b = torch.full_like(sb2, lo), torch.full_like(sb2, hi)
    fa, fb = g(a, idx), g(b, idx)
    ok = (fa * fb) <= 0
    out = torch.full_like(sb2, math.nan)
    sub = torch.nonzero(ok).flatten()
    if sub.numel():
        out[sub] = bracket_root(lambda x, j: g(x, sub[j]), a[sub], b[sub], fa[sub], fb[sub], xtol=xtol)
    return out


def iterate_maps(act: str, q0, q12_0, sw2: float, sb2: float, rho: float, layers: int,
                 quad: Quadrature = DEFAULT_QUAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Iterate the coupled (q, q12) maps from layer-1 values ``q0``, ``q12_0`` (1-D tensors).

    Returns q^l and c^l = q12^l / q^l for l = 1..layers, shape ``(layers, n)``: the theory lines of
    the forward Monte Carlo (both inputs share the same q^l).
    """
    q = torch.as_tensor(q0, dtype=DTYPE).flatten().clone()
    q12 = torch.as_tensor(q12_0, dtype=DTYPE).flatten().clone()
    qs, cs = [q], [q12 / q]
    for _ in range(layers - 1):
        c = (q12 / q).clamp(-1.0, 1.0)
        q12 = covariance_map(act, q, c, sw2, sb2, quad)
        q = length_map(act, q, sw2, sb2, rho, quad)
        qs.append(q)
        cs.append(q12 / q)
    return torch.stack(qs), torch.stack(cs)


# ---- closed forms (test oracles and the linear no-GIA gradient theory) -----------------------

def relu_phiphi_closed(q, c) -> torch.Tensor:
    """E[relu(u1) relu(u2)] = q (sqrt(1-c^2) + (pi - arccos c) c) / (2 pi) (arc-cosine kernel)."""
    q, c = torch.as_tensor(q, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE)
    return q * (torch.sqrt((1 - c * c).clamp_min(0)) + (math.pi - torch.arccos(c)) * c) / (2 * math.pi)


def relu_dphidphi_closed(c) -> torch.Tensor:
    """E[step(u1) step(u2)] = (pi - arccos c) / (2 pi)."""
    c = torch.as_tensor(c, dtype=DTYPE)
    return (math.pi - torch.arccos(c)) / (2 * math.pi)


def erf_phiphi_closed(q, c) -> torch.Tensor:
    """E[erf(a u1) erf(a u2)] = (2/pi) arcsin(2 a^2 q c / (1 + 2 a^2 q)), a = sqrt(pi)/2."""
    q, c = torch.as_tensor(q, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE)
    k = 2 * _ERF_A**2
    return (2 / math.pi) * torch.arcsin(k * q * c / (1 + k * q))


def erf_dphidphi_closed(q, c) -> torch.Tensor:
    """E[phi'(u1) phi'(u2)] for phi = erf(a x): (4 a^2/pi) / sqrt((1 + 2a^2 q)^2 - (2a^2 q c)^2)."""
    q, c = torch.as_tensor(q, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE)
    k = 2 * _ERF_A**2
    return (4 * _ERF_A**2 / math.pi) / torch.sqrt((1 + k * q) ** 2 - (k * q * c) ** 2)


def riemann_q_star(act: str, sw2: float, sb2: float, rho: float, dz: float = 0.05, z_max: float = 10.0,
                   iterations: int = 1000, q0: float = 1.0) -> float:
    """q* by the authors' released numerical scheme (Huang et al., network/theory.py, as described in
    the project review): the length map with E[phi(sqrt(q) z)^2] as a left Riemann sum, step dz on
    z in [-z_max, z_max), iterated ``iterations`` times from q0. Used only to say where the
    authors' own numbers agree with ours (Fig. 1 captions); not a substitute for :func:`q_star`.
    """
    z = torch.arange(-z_max, z_max, dz, dtype=torch.float64)
    w = torch.exp(-z * z / 2) / math.sqrt(2 * math.pi) * dz
    q = torch.tensor(q0, dtype=torch.float64)
    for _ in range(iterations):
        q = (sw2 / rho) * (w * phi(act, torch.sqrt(q) * z) ** 2).sum() + sb2
        if not torch.isfinite(q):
            return math.inf
    return float(q)
