"""Turn a raw source into a prepared split: subsample, rotate (``*_rot``), manifest."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reproflow.data.rotate import draw_angles, rotate_uint8
from reproflow.data.sources import load_raw
from reproflow.seeding import derive_seed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareSpec:
    """What to prepare. ``rotation_deg`` is the half-range for ``*_rot`` sets (ignored otherwise)."""

    name: str
    split: str
    root: Path
    download: bool
    seed: int
    rotation_deg: float
    digits_test_fraction: float
    max_n: int
    celeba_size: int
    celeba_attribute: str
    celeba_class_attribute: str | None = None  # CelebA's class label (the edited attribute is celeba_attribute)
    verify_checksums: bool = True  # CIFAR-10 / CelebA: published md5 sums (False: presence only)


def stratified_subset(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of ``n`` samples keeping class proportions (largest remainder), shuffled by ``seed``."""
    if n <= 0 or n >= len(labels):
        return torch.arange(len(labels))
    rng = np.random.default_rng(seed)
    y = labels.numpy()
    classes, counts = np.unique(y, return_counts=True)
    quota = counts / counts.sum() * n
    take = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - take))[: n - take.sum()]:
        take[i] += 1
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)])
    return torch.from_numpy(np.sort(rng.permutation(idx)))


def prepare_split(spec: PrepareSpec) -> dict[str, Any]:
    """The payload saved by :func:`reproflow.data.store.save_split` (see docs/design.md)."""
    raw = load_raw(
        spec.name, spec.root, spec.split, download=spec.download, seed=spec.seed,
        digits_test_fraction=spec.digits_test_fraction, celeba_size=spec.celeba_size,
        celeba_attribute=spec.celeba_attribute, max_n=spec.max_n, celeba_class_attribute=spec.celeba_class_attribute,
        verify_checksums=spec.verify_checksums,
    )
    sel = stratified_subset(raw.labels, spec.max_n, derive_seed(spec.seed, spec.name, spec.split, "subset"))
    images, labels, attrs = raw.images[sel], raw.labels[sel], raw.attributes[sel]
    rotated = spec.name.endswith("_rot")
    n = len(labels)
    meta: dict[str, Any] = {
        "name": spec.name, "source": raw.source, "split": spec.split, "num_classes": raw.num_classes,
        "channels": int(images.shape[1]), "size": int(images.shape[-1]), "seed": spec.seed,
        "attribute_name": raw.attribute_name, "attribute_range": None,
    }
    payload: dict[str, Any] = {"labels": labels, "meta": meta}
    if rotated:
        r = float(spec.rotation_deg)
        angles = draw_angles(n, r, derive_seed(spec.seed, spec.name, spec.split, "angles"))
        payload["originals"] = images
        payload["images"] = rotate_uint8(images, angles)
        payload["angles"] = angles
        payload["attributes"] = ((angles + r) / (2 * r)).clamp(0, 1).float()
        meta["attribute_name"] = "rotation_deg"
        meta["attribute_range"] = [-r, r]
    else:
        payload["images"] = images
        payload["angles"] = torch.zeros(n)
        payload["attributes"] = attrs.float()
        if raw.attribute_name is not None:
            meta["attribute_range"] = [0.0, 1.0]
    return payload


def checksum(payload: dict[str, Any]) -> str:
    """SHA-256 over the tensors' bytes (images, labels, attributes, angles), independent of pickling."""
    h = hashlib.sha256()
    for k in ("images", "labels", "attributes", "angles"):
        h.update(payload[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def manifest(payload: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
    """Counts, class balance, value range, checksum, source, seed and versions of one split."""
    imgs = payload["images"]
    labels = payload["labels"]
    counts = torch.bincount(labels, minlength=payload["meta"]["num_classes"]).tolist()
    attrs = payload["attributes"]
    return {
        **payload["meta"],
        "count": int(len(labels)),
        "shape": list(imgs.shape),
        "class_counts": counts,
        "class_balance": [c / max(1, len(labels)) for c in counts],
        "value_range": [float(imgs.min()) / 255.0, float(imgs.max()) / 255.0] if len(labels) else [0.0, 0.0],
        "attribute_value_range": [float(attrs.min()), float(attrs.max())] if len(labels) else [0.0, 0.0],
        "angle_range_drawn": [float(payload["angles"].min()), float(payload["angles"].max())] if len(labels) else [0.0, 0.0],
        "checksum_sha256": checksum(payload),
        "storage": "torch.save dict: images uint8 [N,C,H,W], labels int64, attributes float32 in [0,1], angles float32 deg, originals (rot only), meta",
        "versions": versions,
    }
