"""Image classifiers of the SPA benchmarks (spec spa.md section 7).

``smallcnn`` (embedded digits), ``lenet5`` (MNIST-type, LeCun et al. 1998 with ReLU and max-pooling),
``resnet20`` (CIFAR-10, He et al. 2016, 3 stages x 3 basic blocks, 16/32/64 channels) and ``resnet18``
(CelebA; the CIFAR-style ResNet-18: 3x3 stem, 4 stages x 2 basic blocks, 64..512 channels).
Every model takes images in [0, 1] ``[B, C, H, W]``, normalises inside (x - 0.5) / 0.5, and returns
logits ``[B, num_classes]``; global pooling or a size-derived linear layer makes any ``image_size`` work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.errors import UserError
from reproflow.models._ckpt import channels_last, freeze, load_model_dict, save_model

ARCHS = ("smallcnn", "lenet5", "resnet20", "resnet18")
KIND = "classifier"


class _Normalize(nn.Module):
    """(x - 0.5) / 0.5: inputs stay in [0, 1] at every interface, attacks clip there."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - 0.5) / 0.5


def _flat_dim(features: nn.Module, in_channels: int, image_size: int) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, in_channels, image_size, image_size)).numel())


class SmallCNN(nn.Module):
    """Two 3x3 conv blocks (32, 64 channels) with max-pooling, then a 128-unit hidden layer."""

    def __init__(self, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _Normalize(),
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(_flat_dim(self.features, in_channels, image_size), 128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5: conv5x5(6, pad 2) - pool - conv5x5(16) - pool - 120 - 84 - classes (ReLU)."""

    def __init__(self, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _Normalize(),
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(_flat_dim(self.features, in_channels, image_size), 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN with an identity or 1x1-projection shortcut (He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet: 3x3 stem, stages of basic blocks, global average pooling, linear head."""

    def __init__(self, in_channels: int, num_classes: int, widths: tuple[int, ...], blocks: tuple[int, ...]) -> None:
        super().__init__()
        self.norm = _Normalize()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers: list[nn.Module] = []
        c = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c, w, 2 if (j == 0 and i > 0) else 1))
                c = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(self.stem(self.norm(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def build_classifier(arch: str, in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    """A fresh classifier. ``arch`` in :data:`ARCHS`; input ``[B, in_channels, image_size, image_size]``
    in [0, 1]; output logits ``[B, num_classes]``."""
    if arch == "smallcnn":
        return channels_last(SmallCNN(in_channels, num_classes, image_size))
    if arch == "lenet5":
        return channels_last(LeNet5(in_channels, num_classes, image_size))
    if arch == "resnet20":
        return channels_last(ResNet(in_channels, num_classes, (16, 32, 64), (3, 3, 3)))
    if arch == "resnet18":
        return channels_last(ResNet(in_channels, num_classes, (64, 128, 256, 512), (2, 2, 2, 2)))
    raise UserError(f"unknown classifier arch '{arch}'; choose one of {', '.join(ARCHS)}")


def save_classifier(
    path: str | Path, model: nn.Module, arch: str, in_channels: int, num_classes: int, image_size: int,
    meta: dict[str, Any] | None = None,
) -> None:
    """Save ``model`` with its constructor arguments (see docs/spa_interfaces.md)."""
    kwargs = {"arch": arch, "in_channels": in_channels, "num_classes": num_classes, "image_size": image_size}
    save_model(path, KIND, kwargs, model, meta or {})


def load_classifier(path: str | Path, device: torch.device | str = "cpu", frozen: bool = True) -> nn.Module:
    """Rebuild a saved classifier on ``device`` in eval mode (parameters frozen unless ``frozen=False``).

    The checkpoint's ``meta`` is attached as ``model.meta``.
    """
    raw = load_model_dict(path, (KIND,))
    model = build_classifier(**raw["kwargs"])
    model.load_state_dict(raw["state_dict"])
    model.meta = dict(raw.get("meta", {}))  # type: ignore[assignment]
    if frozen:
        return freeze(model, device)
    return model.to(device).eval()
