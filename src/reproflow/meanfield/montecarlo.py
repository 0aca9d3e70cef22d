"""Finite-width forward Monte Carlo of dropout networks (the points of Fig. 1, Huang et al. 2020).

Network (spec section 1): h^1 = W^1 x + b^1, y^l = (p^l / rho) phi(h^l), h^(l+1) = W^(l+1) y^l + b^(l+1),
W_ij ~ N(0, sw2 / N), b_i ~ N(0, sb2), p ~ Bernoulli(rho) drawn independently per example (fresh
masks), no dropout on the raw input. Measured per layer and draw: q^l = |h^l|^2 / N for every input and
c^l = h_a . h_b / (|h_a| |h_b|) for every input pair; the mean-field theory predicts their large-N
limits (:func:`reproflow.meanfield.theory.iterate_maps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reproflow.meanfield.theory import phi


@dataclass
class ForwardSample:
    """Per-draw measurements: q (draws, layers, n_inputs) and c (draws, layers, n_pairs)."""

    q: torch.Tensor
    c: torch.Tensor


def make_inputs(width: int, input_q: tuple[float, ...], input_c: tuple[float, ...],
                generator: torch.Generator, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs with exact second moments: for each q0 in ``input_q`` a vector with |x|^2/N = q0, and
    for each (q0, c0) a partner with the same norm and exact correlation c0 with it.

    Returns ``x`` of shape (n_inputs, width) and ``pairs`` (n_pairs, 2) of row indices into x.
    """
    rows: list[torch.Tensor] = []
    pairs: list[tuple[int, int]] = []
    for q0 in input_q:
        a = torch.randn(width, generator=generator, dtype=torch.float64)
        a = a / a.norm() * math.sqrt(q0 * width)
        ia = len(rows)
        rows.append(a)
        for c0 in input_c:
            r = torch.randn(width, generator=generator, dtype=torch.float64)
            r = r - (r @ a) / (a @ a) * a  # orthogonal to a
            r = r / r.norm() * math.sqrt(q0 * width)
            rows.append(c0 * a + math.sqrt(max(0.0, 1 - c0 * c0)) * r)
            pairs.append((ia, len(rows) - 1))
    return torch.stack(rows).to(dtype), torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)


def simulate_forward(act: str, sw2: float, sb2: float, rho: float, x: torch.Tensor, pairs: torch.Tensor,
                     depth: int, draws: int, generator: torch.Generator, device: torch.device | str = "cpu",
                     draws_per_batch: int = 8) -> ForwardSample:
    """Propagate the inputs ``x`` (n, N) through ``draws`` independent networks of ``depth`` layers.

    Weights, biases and masks are drawn on ``generator``'s device (a CUDA generator keeps a GPU run
    off the CPU's random-number generator)."""
    device = torch.device(device)
    gdev = generator.device
    n_in, width = x.shape
    qs, cs = [], []
    done = 0
    while done < draws:
        b = min(draws_per_batch, draws - done)
        y = x.to(device).unsqueeze(0).expand(b, n_in, width)
        q_b, c_b = [], []
        for layer in range(depth):
            w = torch.randn(b, width, width, generator=generator, dtype=x.dtype, device=gdev).to(device) * math.sqrt(sw2 / width)
            bias = torch.randn(b, 1, width, generator=generator, dtype=x.dtype, device=gdev).to(device) * math.sqrt(sb2)
            h = torch.bmm(y, w.transpose(1, 2)) + bias  # (b, n, N)
            sq = (h.double() ** 2).sum(-1)  # (b, n)
            q_b.append(sq / width)
            dot = (h[:, pairs[:, 0]].double() * h[:, pairs[:, 1]].double()).sum(-1)
            c_b.append(dot / torch.sqrt(sq[:, pairs[:, 0]] * sq[:, pairs[:, 1]]))
            act_h = phi(act, h)
            if rho < 1:
                mask = (torch.rand(act_h.shape, generator=generator, dtype=x.dtype, device=gdev).to(device) < rho
                        ).to(x.dtype)
                act_h = act_h * mask / rho
            y = act_h
        qs.append(torch.stack(q_b, 1).cpu())
        cs.append(torch.stack(c_b, 1).cpu())
        done += b
    return ForwardSample(torch.cat(qs), torch.cat(cs))


def one_step_maps(act: str, sw2: float, sb2: float, rho: float, q_in: torch.Tensor, c_in: torch.Tensor,
                  q_c: float, width: int, n_inputs: int, generator: torch.Generator,
                  device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """One layer of the q-map and the c-map by Monte Carlo, as the paper's Fig. 1 draws them.

    q-map: for each q in ``q_in``, ``n_inputs`` pre-activations h ~ N(0, q I_N) through one dropout
    layer (one weight draw per point): q' = |W y + b|^2 / N per input, y = (p/rho) phi(h).
    c-map: for each c in ``c_in``, ``n_inputs`` pairs of pre-activations with variance ``q_c`` and
    correlation c (independent masks): c' = h'_a . h'_b / (|h'_a| |h'_b|). Returns (q', c') of shapes
    (len(q_in), n_inputs) and (len(c_in), n_inputs), on the CPU in float64.
    """
    device = torch.device(device)
    gdev = generator.device

    def layer(h: torch.Tensor) -> torch.Tensor:
        w = torch.randn(width, width, generator=generator, dtype=torch.float64, device=gdev).to(device)
        bias = torch.randn(width, generator=generator, dtype=torch.float64, device=gdev).to(device)
        y = phi(act, h)
        if rho < 1:
            y = y * (torch.rand(y.shape, generator=generator, dtype=torch.float64, device=gdev).to(device) < rho) / rho
        return y @ w.T * math.sqrt(sw2 / width) + bias * math.sqrt(sb2)

    qs, cs = [], []
    for q in q_in.tolist():
        z = torch.randn(n_inputs, width, generator=generator, dtype=torch.float64, device=gdev).to(device)
        qs.append(((layer(math.sqrt(q) * z) ** 2).mean(-1)).cpu())
    for c in c_in.tolist():
        z = torch.randn(2, n_inputs, width, generator=generator, dtype=torch.float64, device=gdev).to(device)
        ha = math.sqrt(q_c) * z[0]
        hb = math.sqrt(q_c) * (c * z[0] + math.sqrt(max(0.0, 1 - c * c)) * z[1])
        out = layer(torch.cat([ha, hb]))
        a, b = out[:n_inputs], out[n_inputs:]
        cs.append(((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))).cpu())
    empty = torch.empty(0, n_inputs, dtype=torch.float64)
    return (torch.stack(qs) if qs else empty), (torch.stack(cs) if cs else empty)


def mean_se(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard error over the first (draw) axis."""
    n = samples.shape[0]
    mean = samples.mean(0)
    se = samples.std(0, unbiased=True) / math.sqrt(n) if n > 1 else torch.full_like(mean, math.nan)
    return mean, se
