"""Raw image sources: scikit-learn's embedded digits and torchvision's dataset classes.

Every loader returns uint8 images ``[N, C, H, W]``, int64 labels ``[N]`` and float32 attribute
labels ``[N]`` (CelebA's chosen face attribute; zeros elsewhere). Missing files with downloads
off (or failing) raise :class:`UserError` naming the dataset, the files and where to put them.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from reproflow.errors import UserError

log = logging.getLogger(__name__)

BASE_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10", "celeba")
# Debian's dataset-fashion-mnist package: a local mirror used when the raw files are missing.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RawSplit:
    images: torch.Tensor  # uint8 [N, C, H, W]
    labels: torch.Tensor  # int64 [N]
    attributes: torch.Tensor  # float32 [N] in [0, 1]
    num_classes: int
    source: str
    attribute_name: str | None = None


def base_name(name: str) -> str:
    """``mnist_rot`` -> ``mnist``; validates the name."""
    base = name[: -len("_rot")] if name.endswith("_rot") else name
    if base not in BASE_DATASETS or (name.endswith("_rot") and base == "celeba"):
        raise UserError(f"unknown dataset '{name}'; known: {', '.join(BASE_DATASETS)} and their *_rot variants (not celeba)")
    return base


def load_digits_split(split: str, seed: int, test_fraction: float) -> RawSplit:
    """scikit-learn's 1797 bundled 8x8 digits, upsampled (bilinear) to 20x20 and zero-padded to 28x28.

    A fixed stratified train/test split from ``seed``; values 0..16 mapped to 0..255.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)  # [N,1,8,8] in [0,1]
    x = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False).clamp(0, 1)
    x = F.pad(x, (4, 4, 4, 4))
    imgs = (x * 255).round().to(torch.uint8)
    y = torch.from_numpy(d.target.astype(np.int64))
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=d.target)
    sel = torch.from_numpy(np.sort(tr) if split == "train" else np.sort(te))
    return RawSplit(imgs[sel], y[sel], torch.zeros(len(sel)), 10, "sklearn.datasets.load_digits (embedded)")


def _with_timeout(fn):  # torchvision's downloader has no timeout of its own
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return fn()
    finally:
        socket.setdefaulttimeout(old)


def _download_failed(name: str, exc: Exception, need: list[Path]) -> UserError:
    files = "\n  ".join(str(p) for p in need)
    present = all(p.exists() for p in need)
    what = "files could not be read (corrupted or wrong checksum?)" if present else "download failed"
    return UserError(
        f"dataset '{name}': {what} ({type(exc).__name__}: {exc}). Place these files by hand:\n  {files}\n"
        "or run on a machine with internet access (data.download: true)."
    )


def _missing(name: str, need: list[Path], extra: str = "") -> UserError:
    files = "\n  ".join(str(p) for p in need)
    return UserError(
        f"dataset '{name}': files missing and data.download is false. Place these files:\n  {files}\n{extra}"
        "or set data.download: true on a machine with internet access."
    )


def _mnist_like(cls_name: str, name: str, root: Path, split: str, download: bool) -> RawSplit:
    import torchvision

    cls = getattr(torchvision.datasets, cls_name)
    raw = root / cls_name / "raw"
    stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    need = [raw / s for s in stems]
    if cls_name == "FashionMNIST" and not all(p.exists() for p in need) and DEBIAN_FASHION_MNIST.is_dir():
        raw.mkdir(parents=True, exist_ok=True)
        for s in stems:
            src = DEBIAN_FASHION_MNIST / f"{s}.gz"
            if src.exists() and not (raw / s).exists():
                log.info("unpacking %s from Debian's dataset-fashion-mnist into %s", src, raw)
                with gzip.open(src, "rb") as fi, open(raw / s, "wb") as fo:
                    shutil.copyfileobj(fi, fo)
    present = all(p.exists() for p in need)
    if not present and not download:
        hint = "(Debian: apt install dataset-fashion-mnist provides them)\n" if cls_name == "FashionMNIST" else ""
        raise _missing(name, need, hint)
    try:
        ds = _with_timeout(lambda: cls(str(root), train=(split == "train"), download=not present and download))
    except (OSError, RuntimeError) as exc:
        raise _download_failed(name, exc, need) from None
    imgs = ds.data.unsqueeze(1).to(torch.uint8)
    return RawSplit(imgs, ds.targets.long(), torch.zeros(len(ds.targets)), 10, f"torchvision.datasets.{cls_name}")


def _without_md5(cls):
    """A subclass of torchvision's CIFAR10 or CelebA whose file lists carry no md5 sums: torchvision's own
    ``check_integrity(path, None)`` then checks only that each file is present (data.verify_checksums false,
    for files that are not the published ones); parsing is unchanged."""
    attrs = {}
    if hasattr(cls, "train_list"):  # CIFAR10: [name, md5] lists and the meta file's md5
        attrs = {"train_list": [[f, None] for f, _ in cls.train_list], "test_list": [[f, None] for f, _ in cls.test_list],
                 "meta": {**cls.meta, "md5": None}}
    if hasattr(cls, "file_list"):  # CelebA: (file id, md5, name)
        attrs["file_list"] = [(fid, None, name) for fid, _, name in cls.file_list]
    return type(f"{cls.__name__}PresenceChecked", (cls,), attrs)


def _cifar10(root: Path, split: str, download: bool, verify_checksums: bool = True) -> RawSplit:
    import torchvision

    folder = root / "cifar-10-batches-py"
    need = [folder / f for f in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch", "batches.meta")]
    present = all(p.exists() for p in need)
    if not present and not download:
        raise _missing("cifar10", need, "(unpack cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html into the data root)\n")
    try:
        cls = torchvision.datasets.CIFAR10 if verify_checksums else _without_md5(torchvision.datasets.CIFAR10)
        ds = _with_timeout(lambda: cls(str(root), train=(split == "train"), download=not present and download))
    except (OSError, RuntimeError) as exc:
        raise _download_failed("cifar10", exc, need) from None
    imgs = torch.from_numpy(np.ascontiguousarray(ds.data)).permute(0, 3, 1, 2).contiguous()
    source = "torchvision.datasets.CIFAR10" + ("" if verify_checksums else " (md5 not verified)")
    return RawSplit(imgs, torch.tensor(ds.targets, dtype=torch.long), torch.zeros(len(ds.targets)), 10, source)


CELEBA_FILES = ("list_attr_celeba.txt", "identity_CelebA.txt", "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt", "list_eval_partition.txt")


def _celeba(root: Path, split: str, download: bool, size: int, attribute: str, max_n: int,
            class_attribute: str | None = None, verify_checksums: bool = True) -> RawSplit:
    """CelebA aligned faces through torchvision.datasets.CelebA: centre crop 148, resize to ``size``.

    The class label is the binary ``class_attribute`` (e.g. Male); the semantic attribute the editors
    change is ``attribute`` (e.g. Smiling). They must differ: the threat model changes a class-irrelevant
    attribute and scores against the unchanged true label (issue #11: with Smiling as both, a smile edit
    changed the true class).
    """
    import torchvision
    from torchvision.transforms import v2

    folder = root / "celeba"
    need = [folder / "img_align_celeba"] + [folder / f for f in CELEBA_FILES]
    present = all(p.exists() for p in need)
    if not present and not download:
        raise _missing("celeba", need, "(from the CelebA site's Google Drive: Align&Cropped images unpacked, plus the annotation files)\n")
    if class_attribute is None:
        raise UserError("data.celeba_class_attribute is missing: CelebA needs a class attribute (e.g. Male) "
                        "other than the edited attribute data.celeba_attribute")
    if class_attribute == attribute:
        raise UserError(f"data.celeba_class_attribute and data.celeba_attribute are both '{attribute}': the class "
                        "must not be the attribute the attacks edit; choose another class attribute (e.g. Male)")
    tv_split = {"train": "train", "test": "test"}[split]
    tf = v2.Compose([v2.PILToTensor(), v2.CenterCrop(148), v2.Resize(size, antialias=True)])
    try:
        cls = torchvision.datasets.CelebA if verify_checksums else _without_md5(torchvision.datasets.CelebA)
        ds = _with_timeout(lambda: cls(str(root), split=tv_split, target_type="attr", transform=tf, download=not present and download))
    except (OSError, RuntimeError) as exc:
        raise _download_failed("celeba", exc, need) from None
    for key, name in (("celeba_attribute", attribute), ("celeba_class_attribute", class_attribute)):
        if name not in ds.attr_names:
            raise UserError(f"data.{key}: '{name}' is not a CelebA attribute; known: {', '.join(a for a in ds.attr_names if a)}")
    col = ds.attr_names.index(attribute)
    class_col = ds.attr_names.index(class_attribute)
    n = len(ds) if max_n <= 0 else min(max_n, len(ds))
    imgs = torch.empty((n, 3, size, size), dtype=torch.uint8)
    from reproflow.logs import progress

    for i in progress(range(n), desc=f"celeba {split}"):
        imgs[i] = ds[i][0]
    lab = ds.attr[:n, class_col].long()
    attr = ds.attr[:n, col].float()
    unverified = "" if verify_checksums else ", md5 not verified"
    return RawSplit(imgs, lab, attr, 2, f"torchvision.datasets.CelebA (class: {class_attribute}{unverified})", attribute)


def load_raw(name: str, root: Path, split: str, *, download: bool, seed: int, digits_test_fraction: float,
             celeba_size: int, celeba_attribute: str, max_n: int, celeba_class_attribute: str | None = None,
             verify_checksums: bool = True) -> RawSplit:
    """Dispatch to the loader of ``base_name(name)``. ``verify_checksums`` false: CIFAR-10 and CelebA
    files are checked for presence, not against the published md5 sums (and the source says so)."""
    base = base_name(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be train or test, got {split!r}")
    if base == "digits":
        return load_digits_split(split, seed, digits_test_fraction)
    if base == "mnist":
        return _mnist_like("MNIST", name, root, split, download)
    if base == "fashion_mnist":
        return _mnist_like("FashionMNIST", name, root, split, download)
    if base == "cifar10":
        return _cifar10(root, split, download, verify_checksums)
    return _celeba(root, split, download, celeba_size, celeba_attribute, max_n, celeba_class_attribute, verify_checksums)
