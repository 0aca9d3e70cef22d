"""Attribute manipulators AM(x, a_src, a_tgt) -> x_a (spec spa.md sections 1-2).

Attribute values are normalised to [0, 1]; for rotation a = (angle - lo) / (hi - lo) with the
dataset's ``meta["attribute_range"] = [lo, hi]`` in degrees.

- :class:`RotationOracle`: the analytic, differentiable rotation (an affine ``grid_sample``, the same
  warp the data phase used to make the ``*_rot`` sets): the ablation that isolates what a learned
  manipulator adds.
- :class:`MSPManipulator`: an encoder-decoder whose latent h is disentangled by matrix subspace
  projection (MSP, Li et al., ICML 2020): a matrix M (k x d) reads the attributes a_hat = M h; an edit
  moves h along M's rows so that the read-out equals the target, then decodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.data.rotate import rotate
from reproflow.models._ckpt import channels_last, freeze, load_model_dict, save_model

KIND_ORACLE = "rotation_oracle"
KIND_MSP = "msp"


class AttributeManipulator(nn.Module):
    """Base class: ``edit(x, a_src, a_tgt)`` maps images [B, C, H, W] in [0, 1] with attribute
    ``a_src`` [B] to images in [0, 1] with attribute ``a_tgt`` [B] (both normalised to [0, 1]),
    differentiably w.r.t. ``a_tgt`` and ``x``."""

    meta: dict[str, Any]  # the checkpoint's meta, attached by load_manipulator

    def edit(self, x: torch.Tensor, a_src: torch.Tensor, a_tgt: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, a_src: torch.Tensor, a_tgt: torch.Tensor) -> torch.Tensor:
        return self.edit(x, a_src, a_tgt)


class RotationOracle(AttributeManipulator):
    """Rotate ``x`` counter-clockwise by ``(a_tgt - a_src) * (hi - lo)`` degrees about its centre
    (bilinear, zero fill). ``edit(x, a, a)`` is the identity up to interpolation (exact for a zero angle)."""

    def __init__(self, angle_range: tuple[float, float] | list[float]) -> None:
        super().__init__()
        lo, hi = float(angle_range[0]), float(angle_range[1])
        if not hi > lo:
            raise ValueError(f"angle_range must satisfy lo < hi, got {angle_range!r}")
        self.angle_range = (lo, hi)

    def edit(self, x: torch.Tensor, a_src: torch.Tensor, a_tgt: torch.Tensor) -> torch.Tensor:
        lo, hi = self.angle_range
        angles = (a_tgt.to(x.dtype) - a_src.to(x.dtype)) * (hi - lo)
        return rotate(x, angles).clamp(0.0, 1.0)


class MSPManipulator(AttributeManipulator):
    """MSP-disentangled autoencoder (spec spa.md section 2).

    Encoder: ``n_down`` stride-2 4x4 convolutions (width, 2 width, ...) then a linear map to h [B, d].
    Decoder: the mirror image with transposed convolutions and a sigmoid (outputs in (0, 1)).
    M [k, d] reads the attributes a_hat = M h. Edit of attribute i to v:
    h' = h + (v - (M h)_i) M_i / ||M_i||^2 (the division, ours, makes (M h')_i = v exactly).
    """

    def __init__(
        self, in_channels: int, image_size: int, latent_dim: int = 64, width: int = 32, num_attributes: int = 1,
    ) -> None:
        super().__init__()
        self.in_channels, self.image_size = in_channels, image_size
        self.latent_dim, self.num_attributes = latent_dim, num_attributes
        n_down = 2 if image_size <= 32 else 3
        enc: list[nn.Module] = []
        c = in_channels
        for i in range(n_down):
            enc += [nn.Conv2d(c, width * 2**i, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = width * 2**i
        self.enc_conv = nn.Sequential(*enc)
        with torch.no_grad():
            shape = self.enc_conv(torch.zeros(1, in_channels, image_size, image_size)).shape[1:]
        self._feat_shape = tuple(int(s) for s in shape)
        feat = int(torch.tensor(self._feat_shape).prod())
        self.enc_fc = nn.Linear(feat, latent_dim)
        self.dec_fc = nn.Sequential(nn.Linear(latent_dim, feat), nn.LeakyReLU(0.2))
        dec: list[nn.Module] = []
        for i in reversed(range(n_down)):
            c_out = width * 2 ** (i - 1) if i > 0 else width
            dec += [nn.ConvTranspose2d(c, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = c_out
        dec.append(nn.Conv2d(c, in_channels, 3, 1, 1))
        self.dec_conv = nn.Sequential(*dec)
        self.M = nn.Parameter(torch.randn(num_attributes, latent_dim) / latent_dim**0.5)
        channels_last(self)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images [B, C, H, W] in [0, 1] -> latent h [B, d]."""
        return self.enc_fc(torch.flatten(self.enc_conv(x * 2 - 1), 1))

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Latent h [B, d] -> images [B, C, H, W] in (0, 1)."""
        out = self.dec_conv(self.dec_fc(h).view(h.shape[0], *self._feat_shape))
        if out.shape[-1] != self.image_size or out.shape[-2] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return torch.sigmoid(out)

    def attributes_of(self, h: torch.Tensor) -> torch.Tensor:
        """The MSP read-out M h: [B, k]."""
        return h @ self.M.t()

    def read_attribute(self, x: torch.Tensor, index: int = 0) -> torch.Tensor:
        """Attribute ``index`` read from the latent of ``x``: [B] (not clipped to [0, 1])."""
        return self.attributes_of(self.encode(x))[:, index]

    def edit_latent(self, h: torch.Tensor, a_tgt: torch.Tensor, index: int = 0) -> torch.Tensor:
        """h' = h + (a_tgt - (M h)_i) M_i / ||M_i||^2, so that (M h')_i = a_tgt."""
        m = self.M[index]
        cur = h @ m
        return h + ((a_tgt.to(h.dtype) - cur) / (m @ m)).unsqueeze(1) * m.unsqueeze(0)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def edit(self, x: torch.Tensor, a_src: torch.Tensor | None, a_tgt: torch.Tensor) -> torch.Tensor:
        """Decode the latent of ``x`` with its attribute set to ``a_tgt``; ``a_src`` is unused
        (the source attribute is read from M h)."""
        return self.decode(self.edit_latent(self.encode(x), a_tgt))


def save_manipulator(path: str | Path, m: AttributeManipulator, meta: dict[str, Any] | None = None) -> None:
    """Save either manipulator with its constructor arguments."""
    if isinstance(m, RotationOracle):
        save_model(path, KIND_ORACLE, {"angle_range": list(m.angle_range)}, m, meta or {})
    elif isinstance(m, MSPManipulator):
        kwargs = {
            "in_channels": m.in_channels, "image_size": m.image_size, "latent_dim": m.latent_dim,
            "width": m.enc_conv[0].out_channels, "num_attributes": m.num_attributes,
        }
        save_model(path, KIND_MSP, kwargs, m, meta or {})
    else:
        raise TypeError(f"cannot save manipulator of type {type(m).__name__}")


def load_manipulator(path: str | Path, device: torch.device | str = "cpu") -> AttributeManipulator:
    """Rebuild a saved manipulator on ``device``: eval mode, parameters frozen; ``.meta`` attached."""
    raw = load_model_dict(path, (KIND_ORACLE, KIND_MSP))
    m: AttributeManipulator
    if raw["kind"] == KIND_ORACLE:
        m = RotationOracle(**raw["kwargs"])
    else:
        m = MSPManipulator(**raw["kwargs"])
    m.load_state_dict(raw["state_dict"])
    m.meta = dict(raw.get("meta", {}))
    return freeze(m, device)
