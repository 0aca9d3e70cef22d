"""L2L-DA-style diverse noise generator (Jang et al., ICCV 2019; spec spa.md section 3).

The generator sees the image, the classifier's input gradient (normalised per sample and channel),
the current perturbation (scaled by 1/eps to [-1, 1]) and a diversity code z ~ N(0, I) (through a
small MLP, tiled over the image), and outputs a direction in (-1, 1) (tanh). It is applied K times:
delta_k = clip(delta_{k-1} + step * n_k, -eps, eps), with x + delta_k kept in [0, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.models._ckpt import channels_last, freeze, load_model_dict, save_model

KIND = "noise_generator"


class NoiseGenerator(nn.Module):
    """``forward(x, grad, delta, z) -> direction`` in (-1, 1), shape of ``x``.

    x: [B, C, H, W] images in [0, 1]; grad: the classifier's input gradient at x + delta (any scale:
    normalised inside by its per-sample, per-channel max |.|); delta: the current perturbation divided by
    eps (in [-1, 1]); z: [B, z_dim] diversity code. Three 3x3 conv layers of ``width`` channels.
    """

    meta: dict[str, Any]  # the checkpoint's meta (eps, steps, step_size), attached by load_generator

    def __init__(self, in_channels: int, z_dim: int = 8, width: int = 32, z_features: int = 8) -> None:
        super().__init__()
        self.in_channels, self.z_dim, self.width, self.z_features = in_channels, z_dim, width, z_features
        self.z_mlp = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, z_features))
        self.net = nn.Sequential(
            nn.Conv2d(3 * in_channels + z_features, width, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(width, width, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(width, in_channels, 3, 1, 1),
        )
        channels_last(self)

    @staticmethod
    def normalise_grad(grad: torch.Tensor) -> torch.Tensor:
        """g / max|g| per sample and channel (in [-1, 1]); zero gradients stay zero."""
        scale = grad.abs().amax(dim=(2, 3), keepdim=True).clamp_min(1e-12)
        return grad / scale

    def forward(self, x: torch.Tensor, grad: torch.Tensor, delta: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        zf = self.z_mlp(z)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        inp = torch.cat([x * 2 - 1, self.normalise_grad(grad), delta, zf], dim=1)
        return torch.tanh(self.net(inp))


def input_gradient(classifier: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d CE_sum(f(x), y) / dx, detached (the classifier's parameters get no gradient)."""
    with torch.enable_grad():
        xi = x.detach().requires_grad_(True)
        loss = F.cross_entropy(classifier(xi), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xi)
    return g.detach()


def generate_noise(
    gen: NoiseGenerator, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor,
    eps: float, steps: int, step_size: float,
) -> torch.Tensor:
    """Run the generator recursively for ``steps`` steps; returns delta [B, C, H, W].

    Guarantees ||delta||_inf <= eps and x + delta in [0, 1]. The classifier's input gradient is
    detached, so delta is differentiable w.r.t. ``z`` and ``x`` through the generator only. The
    classifier's mode (eval/train) is the caller's choice. ``step_size`` is absolute (e.g. 0.25 eps).
    """
    return _recurse(gen, classifier, x, y, z, eps, steps, step_size, None)


def generate_noise_copies(
    gen: NoiseGenerator, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor,
    eps: float, steps: int, step_size: float,
) -> torch.Tensor:
    """:func:`generate_noise` on ``x`` repeated once per diversity code: ``z`` ``[k B, z_dim]`` (copy-major, code
    ``j B + i`` for image ``i``), returns delta ``[k B, C, H, W]``, the same as ``generate_noise(gen, classifier,
    x.repeat(k, 1, 1, 1), y.repeat(k), z, ...)``. The first step's classifier gradient is taken at delta = 0, where
    every copy of an image is the same point, so it is computed once per image and repeated (one classifier
    forward and backward of ``B`` images instead of ``k B``; the refit draws two codes per image). The same numbers
    up to the classifier kernels' batch dependence: oneDNN may pick another convolution algorithm for ``B`` images
    than for ``k B``, which moves the gradient by float round-off. Bit for bit at the quick scale's refit batch (64,
    smallcnn: every evaluate_defence table byte-identical, benchmarks/bench_rules.py); a 3-image batch moved delta
    by 6e-8 (why the generator's pretraining, whose last batch of an epoch is short, keeps the repeated batch)."""
    k = z.shape[0] // max(1, x.shape[0])
    if eps <= 0 or steps < 1:
        return torch.zeros_like(x).repeat(k, 1, 1, 1)
    first = input_gradient(classifier, (x + torch.zeros_like(x)).clamp(0.0, 1.0), y).repeat(k, 1, 1, 1)
    return _recurse(gen, classifier, x.repeat(k, 1, 1, 1), y.repeat(k), z, eps, steps, step_size, first)


def _recurse(
    gen: NoiseGenerator, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor,
    eps: float, steps: int, step_size: float, first: torch.Tensor | None,
) -> torch.Tensor:
    """The recursion of :func:`generate_noise`; ``first``, when given, is the classifier gradient of step 0."""
    if eps <= 0:
        return torch.zeros_like(x)
    delta = torch.zeros_like(x)
    for k in range(steps):
        grad = first if k == 0 and first is not None else input_gradient(classifier, (x + delta).clamp(0.0, 1.0), y)
        direction = gen(x, grad, delta / eps, z)
        delta = (delta + step_size * direction).clamp(-eps, eps)
        delta = (x + delta).clamp(0.0, 1.0) - x
    return delta


def save_generator(path: str | Path, gen: NoiseGenerator, meta: dict[str, Any] | None = None) -> None:
    """Save the generator with its constructor arguments; ``meta`` should hold eps, steps, step_size."""
    kwargs = {"in_channels": gen.in_channels, "z_dim": gen.z_dim, "width": gen.width, "z_features": gen.z_features}
    save_model(path, KIND, kwargs, gen, meta or {})


def load_generator(path: str | Path, device: torch.device | str = "cpu") -> NoiseGenerator:
    """Rebuild a saved generator on ``device``: eval mode, frozen; ``.meta`` attached (eps, steps, step_size)."""
    raw = load_model_dict(path, (KIND,))
    gen = NoiseGenerator(**raw["kwargs"])
    gen.load_state_dict(raw["state_dict"])
    gen.meta = dict(raw.get("meta", {}))
    return freeze(gen, device)
