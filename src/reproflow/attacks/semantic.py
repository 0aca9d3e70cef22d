"""Semantic-preservation checks of an attack (spec section 4, issue 5 item 3).

- SSIM(x_adv, x_sem): how much the pixel noise alters the semantically edited image
  (Wang et al., "Image quality assessment: from error visibility to structural similarity", 2004;
  Gaussian window, sigma 1.5, C1 = (0.01 L)^2, C2 = (0.03 L)^2 with L = 1, mean over the valid map).
- the fraction of chosen attribute values at the range's edge (within ``tol`` of 0 or 1).
- a judge classifier's accuracy on ``x_sem`` alone (computed in :mod:`reproflow.attacks.evaluate`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _gaussian_window(size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    r = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-image SSIM ``[B]`` of two batches ``[B, C, H, W]`` in [0, 1] (channels averaged).

    The window shrinks to the largest odd size that fits images smaller than ``window``.
    SSIM(x, x) = 1; values lie in [-1, 1].
    """
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim needs two equal [B,C,H,W] batches, got {tuple(x.shape)}, {tuple(y.shape)}")
    c = x.shape[1]
    size = min(window, x.shape[-1], x.shape[-2])
    size = size if size % 2 == 1 else size - 1
    w = _gaussian_window(size, sigma, x.dtype, x.device).expand(c, 1, size, size).contiguous()

    def filt(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = filt(x), filt(y)
    sxx = filt(x * x) - mx * mx
    syy = filt(y * y) - my * my
    sxy = filt(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return (num / den).flatten(1).mean(1)


def edge_fraction(attr: torch.Tensor, tol: float) -> float:
    """Share of normalised attribute values within ``tol`` of 0 or 1 (the range's edges)."""
    if attr.numel() == 0:
        return float("nan")
    return float(((attr <= tol) | (attr >= 1 - tol)).float().mean())
