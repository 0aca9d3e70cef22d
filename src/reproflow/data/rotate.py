"""Rotation of image batches by per-image angles (the semantic attribute of the *_rot sets)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def rotate(images: torch.Tensor, angles_deg: torch.Tensor) -> torch.Tensor:
    """Rotate each image about its centre, counter-clockwise by ``angles_deg`` (bilinear, zero fill).

    images: float [B, C, H, W]; angles_deg: float [B]. Differentiable w.r.t. both, so the same
    warp serves the data phase and the analytic rotation manipulator (an affine grid_sample).
    """
    if images.ndim != 4 or angles_deg.shape != (images.shape[0],):
        raise ValueError(f"expected images [B,C,H,W] and angles [B], got {tuple(images.shape)}, {tuple(angles_deg.shape)}")
    theta = angles_deg.to(images.dtype) * (math.pi / 180.0)
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(cos)
    # grid_sample maps output coords to input coords: the inverse rotation (by -theta) gives a
    # counter-clockwise rotation of the content in image coordinates (y axis pointing down).
    mat = torch.stack([torch.stack([cos, -sin, zero], -1), torch.stack([sin, cos, zero], -1)], -2)
    grid = F.affine_grid(mat, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotate_uint8(images: torch.Tensor, angles_deg: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Rotate uint8 [N, C, H, W] images in chunks; returns uint8 (rounded)."""
    out = torch.empty_like(images)
    for s in range(0, images.shape[0], chunk):
        x = images[s : s + chunk].float()
        out[s : s + chunk] = rotate(x, angles_deg[s : s + chunk].float()).round().clamp_(0, 255).to(torch.uint8)
    return out


def draw_angles(n: int, half_range_deg: float, seed: int) -> torch.Tensor:
    """``n`` angles uniform in [-half_range, +half_range] degrees, deterministic from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1).mul(half_range_deg).float()
