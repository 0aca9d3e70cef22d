"""Weight-gradient statistics of dropout networks by real backpropagation (spec section 3).

Set-up of Huang et al. (2020), Figs 2-5: loss L = sum_i phi(h_i^L)^2 (no read-out), two inputs a, b
through the SAME weights with INDEPENDENT dropout masks, each example's mask reused in its own
backward pass (autograd does exactly that). The weight gradient of layer l is the outer product
dL/dW^l = delta^l (y^(l-1))^T with delta^l = dL/dh^l and y^0 = x, so its means over (i, j) factor:

    g_aa^l  = mean_ij (dL_a/dW_ij)^2                 = (|delta_a|^2 / N) (|y_a|^2 / N)
    g_ab^l  = mean_ij dL_a/dW_ij dL_b/dW_ij          = (delta_a . delta_b / N) (y_a . y_b / N)
    tg_ab^l = mean_ij |dL_a/dW_ij dL_b/dW_ij|        = (|delta_a| . |delta_b| / N) (|y_a| . |y_b| / N)

and no N x N gradient matrix is stored. Predictions: under the gradient-independence assumption
(GIA) g_aa ~ chi_1^(L-l) and g_ab ~ chi_c^(L-l); for LINEAR nets the exact large-N (no-GIA) forms of
the spec are :func:`linear_no_gia`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reproflow.logs import Progress
from reproflow.meanfield import theory
from reproflow.meanfield.theory import phi

INPUT_MODES = ("standard", "fixed_point")


@dataclass
class GradientSample:
    """Per-draw, per-layer statistics, each of shape (draws, depth); column l-1 is layer l."""

    g_aa: torch.Tensor
    g_ab: torch.Tensor
    tg_ab: torch.Tensor


def input_moments(act: str, sw2: float, sb2: float, rho: float, mode: str) -> tuple[float, float]:
    """(variance, covariance) of the input pair's coordinates.

    ``standard``: x_a, x_b ~ N(0, I) independent (the paper's set-up): (1, 0).
    ``fixed_point``: chosen so that layer 1 starts at (q*, c* q*), i.e. the stationary state the
    closed forms assume: variance (q* - sb2)/sw2, covariance (c* q* - sb2)/sw2.
    """
    if mode == "standard":
        return 1.0, 0.0
    if mode != "fixed_point":
        raise ValueError(f"unknown input mode {mode!r}; expected one of {INPUT_MODES}")
    fp = theory.fixed_points(act, sw2, sb2, rho)
    qs, cs = float(fp.q_star[0]), float(fp.c_star[0])
    if not math.isfinite(qs):
        raise ValueError(f"inputs 'fixed_point' need a finite q*; q* diverges for {act} sw2={sw2} rho={rho}")
    return (qs - sb2) / sw2, (cs * qs - sb2) / sw2


BACKWARDS = ("exact", "gia")


def measure_gradients(act: str, sw2: float, sb2: float, rho: float, width: int, depth: int, draws: int,
                      inputs: str, generator: torch.Generator, device: torch.device | str = "cpu",
                      draws_per_batch: int = 4, dtype: torch.dtype = torch.float32) -> GradientSample:
    """Measure g_aa, g_ab, tg_ab at every layer for ``draws`` independent networks (Gaussian weights),
    by exact backpropagation (the same W in the forward and backward pass)."""
    return measure_gradient_pair(act, sw2, sb2, rho, width, depth, draws, inputs, generator, device,
                                 draws_per_batch, dtype, gia=False)[0]


def measure_gradient_pair(act: str, sw2: float, sb2: float, rho: float, width: int, depth: int, draws: int,
                          inputs: str, generator: torch.Generator, device: torch.device | str = "cpu",
                          draws_per_batch: int = 4, dtype: torch.dtype = torch.float32, gia: bool = True
                          ) -> tuple[GradientSample, GradientSample | None]:
    """(exact backprop, GIA counterfactual) statistics of the SAME network draws.

    Forward: h^l = W^l y^(l-1) + b^l, y^l = phi(h^l) p^l / rho. Exact backward (what autograd computes):
    delta^L = 2 phi(h^L) phi'(h^L), delta^l = phi'(h^l) (p^l/rho) (W^(l+1))^T delta^(l+1). The GIA
    counterfactual replaces (W^(l+1))^T by the transpose of an INDEPENDENT copy W~^(l+1) with the same
    distribution, drawn once per layer and draw and shared by both inputs (the assumption of the
    mean-field backward theory, made real), with the same inputs, forward pass and masks. Each
    weight gradient is delta^l (y^(l-1))^T; its (i, j) means factor as in the module docstring.
    Random numbers are drawn on ``generator``'s device (a CUDA generator keeps a GPU run off the
    CPU); ``gia=False`` skips the counterfactual (second element None).
    """
    device = torch.device(device)
    gdev = generator.device
    var, cov = input_moments(act, sw2, sb2, rho, inputs)
    keys = ("g_aa", "g_ab", "tg_ab")
    out: dict[str, dict[str, list[torch.Tensor]]] = {b: {k: [] for k in keys} for b in BACKWARDS}
    done = 0

    def stats(deltas: list[torch.Tensor], ys: list[torch.Tensor], into: dict[str, list[torch.Tensor]]) -> None:
        ga, gb, gt = [], [], []
        for delta, yprev in zip(deltas, ys):
            d = delta.double()
            yy = yprev.double()
            da, db, ya, yb = d[:, 0], d[:, 1], yy[:, 0], yy[:, 1]
            ga.append((da * da).mean(-1) * (ya * ya).mean(-1))
            gb.append((da * db).mean(-1) * (ya * yb).mean(-1))
            gt.append((da * db).abs().mean(-1) * (ya * yb).abs().mean(-1))
        into["g_aa"].append(torch.stack(ga, 1).cpu())
        into["g_ab"].append(torch.stack(gb, 1).cpu())
        into["tg_ab"].append(torch.stack(gt, 1).cpu())

    prog = Progress(draws, f"{act} sw2={sw2:g} rho={rho:g} depth {depth}", unit="draws")
    while done < draws:
        b = min(draws_per_batch, draws - done)
        z = torch.randn(b, 2, width, generator=generator, dtype=torch.float64, device=gdev)
        xa = math.sqrt(var) * z[:, 0]
        xb = (cov / math.sqrt(var)) * z[:, 0] + math.sqrt(max(var - cov * cov / var, 0.0)) * z[:, 1]
        x = torch.stack([xa, xb], 1).to(dtype).to(device)  # (b, 2, N)
        ys, hs, ws, gates = [x], [], [], []
        y = x
        with torch.no_grad():
            for layer in range(depth):
                w = (torch.randn(b, width, width, generator=generator, dtype=dtype, device=gdev)
                     * math.sqrt(sw2 / width)).to(device)
                bias = (torch.randn(b, 1, width, generator=generator, dtype=dtype, device=gdev)
                        * math.sqrt(sb2)).to(device)
                h = torch.bmm(y, w.transpose(1, 2)) + bias
                hs.append(h)
                ws.append(w)
                if layer < depth - 1:
                    gate = theory.dphi(act, h)
                    a = phi(act, h)
                    if rho < 1:
                        mask = (torch.rand(a.shape, generator=generator, dtype=dtype, device=gdev) < rho
                                ).to(dtype).to(device) / rho
                        a = a * mask
                        gate = gate * mask
                    gates.append(gate)
                    y = a
                    ys.append(y)
            top = 2 * phi(act, hs[-1]) * theory.dphi(act, hs[-1])  # dL/dh^L of L = sum phi(h^L)^2
            for mode in BACKWARDS if gia else ("exact",):
                deltas = [top]
                for layer in range(depth - 2, -1, -1):
                    w_next = ws[layer + 1]
                    if mode == "gia":
                        w_next = (torch.randn(b, width, width, generator=generator, dtype=dtype, device=gdev)
                                  * math.sqrt(sw2 / width)).to(device)
                    # h^(l+1) = y^l W^T  =>  dL/dy^l = delta^(l+1) W
                    deltas.append(gates[layer] * torch.bmm(deltas[-1], w_next))
                stats(deltas[::-1], ys, out[mode])
        done += b
        prog.set(done)
    prog.close()
    exact = GradientSample(*(torch.cat(out["exact"][k]) for k in keys))
    counterfactual = GradientSample(*(torch.cat(out["gia"][k]) for k in keys)) if out["gia"]["g_aa"] else None
    return exact, counterfactual


def linear_no_gia(sw2: float, sb2: float, rho: float, depth: int, input_var: float, input_cov: float
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact large-N g_aa and g_ab of a LINEAR dropout net at its fixed point, layers 1..depth.

    With k = L - l, chi_1 = sw2/rho, q* = sb2/(1 - sw2/rho), q_ab* = sb2/(1 - sw2) (spec section 3):
      g_aa(k) = 4 (q*/rho)^2 chi_1^k [rho + sum_{m=1..k} chi_1^m]
      g_ab(k) = 4 q_ab*^2 sw2^k sum_{m=0..k} (sw2/rho^2)^m
    Layer 1 sees the raw input: its factor |y|^2/N = input_var replaces q*/rho (and x_a.x_b/N =
    input_cov replaces q_ab*).
    """
    if not (sw2 < rho and sw2 < 1):
        raise ValueError("linear_no_gia needs sw2 < rho (finite q*)")
    chi = sw2 / rho
    qs = sb2 / (1 - chi)
    qab = sb2 / (1 - sw2)
    k = torch.arange(depth - 1, -1, -1, dtype=torch.float64)  # layer l = 1..L -> k = L - l
    m_max = int(k.max())
    pows = chi ** torch.arange(0, m_max + 1, dtype=torch.float64)
    csum = torch.cumsum(pows, 0) - 1  # sum_{m=1..k}
    g_aa = 4 * (qs / rho) ** 2 * chi**k * (rho + csum[k.long()])
    r = sw2 / rho**2
    csum_b = torch.cumsum(r ** torch.arange(0, m_max + 1, dtype=torch.float64), 0)  # sum_{m=0..k}
    g_ab = 4 * qab**2 * sw2**k * csum_b[k.long()]
    g_aa[0] = g_aa[0] * input_var / (qs / rho)
    g_ab[0] = g_ab[0] * (input_cov / qab if qab != 0 else 0.0)
    return g_aa, g_ab


def gia_prefactors(act: str, sw2: float, sb2: float, rho: float) -> dict[str, float]:
    """chi_1, chi_c and the GIA predictions' top-layer values at the fixed point.

    g_aa^GIA(l) = 4 E[(phi phi')^2] chi_1^(L-l) E[phi^2]/rho (l >= 2) and
    g_ab^GIA(l) = 4 E[(phi phi')(u1) (phi phi')(u2)] chi_c^(L-l) E[phi(u1) phi(u2)], at (q*, c*).
    """
    fp = theory.fixed_points(act, sw2, sb2, rho)
    qs, cs = fp.q_star, fp.c_star
    out = {"chi_1": float(fp.chi_1[0]), "chi_c": float(fp.chi_c[0]), "q_star": float(qs[0]),
           "c_star": float(cs[0])}
    if not math.isfinite(out["q_star"]):
        out.update(top_aa=math.nan, top_ab=math.nan)
        return out

    def pp(u: torch.Tensor) -> torch.Tensor:
        return phi(act, u) * theory.dphi(act, u)

    e_pp2 = theory.expect_1d(act, qs, lambda u, z: pp(u) ** 2)
    e_pp_ab = theory.mehler_sum(theory.hermite_coeffs(pp, qs), theory.hermite_coeffs(pp, qs), cs)
    e_phi2 = theory.e_phi2(act, qs)
    e_phiphi = theory.e_phiphi(act, qs, cs)
    out["top_aa"] = float(4 * e_pp2[0] * e_phi2[0] / rho)
    out["top_ab"] = float(4 * e_pp_ab[0] * e_phiphi[0])
    return out
