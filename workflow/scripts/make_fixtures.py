"""Write small, learnable stand-ins for the paper's datasets in their REAL on-disk formats.

    .venv/bin/python workflow/scripts/make_fixtures.py data/smoke     # the smoke scale's data_root

The smoke scale (config/smoke.yaml) points ``data_root`` here and runs the paper configuration through
the same readers as the paper scale (torchvision's MNIST, FashionMNIST, CIFAR10 and CelebA classes via
``reproflow.data.sources`` and ``prepare_dataset``). Nothing in the package knows these are fixtures:
they are files where torchvision looks for them, in the formats it parses:

- ``MNIST/raw/`` and ``FashionMNIST/raw/``: the four uncompressed idx files (big-endian headers, magic
  2051 for images and 2049 for labels), 28x28 uint8;
- ``cifar-10-batches-py/``: ``data_batch_1..5`` and ``test_batch`` python pickles (``data`` uint8
  [N, 3072] row-major RGB planes, ``labels``) and ``batches.meta`` (``label_names``);
- ``celeba/``: ``img_align_celeba/NNNNNN.jpg`` (178x218 JPEGs) and the five annotation text files
  (``list_attr_celeba.txt`` with the 40 real attribute names, +-1 values; ``list_eval_partition.txt``
  0/1/2 = train/valid/test; identity, bbox and landmark files).

Content is class- and attribute-balanced and learnable: every class draws from its own template (plus
shifts and noise), so the classifiers, editors and generators downstream have signal to fit; CelebA's
Male (the class) and Smiling (the edited attribute) take all four combinations equally often, Male
shifting the face's colour and Smiling drawing a mouth arc. The files differ from the real ones, so
CIFAR-10's and CelebA's md5 checks cannot pass: the smoke scale sets ``data.verify_checksums: false``
(documented in params.yaml), which replaces torchvision's md5 check by a presence check and labels the
prepared split's source "md5 not verified". Deterministic: the same command writes the same bytes.
"""

from __future__ import annotations

import argparse
import pickle
import struct
import sys
from pathlib import Path

import numpy as np

# the 40 attribute names of list_attr_celeba.txt, in the real file's order
CELEBA_ATTRS = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
    "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
    "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
    "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()


def _smooth_template(rng: np.random.Generator, size: int, channels: int) -> np.ndarray:
    """A blobby, non-symmetric pattern in [0, 1] [C, size, size] (so rotations change it)."""
    coarse = rng.random((channels, 5, 5))
    up = np.kron(coarse, np.ones((1, size // 5 + 1, size // 5 + 1)))[:, :size, :size]
    k = np.ones(3) / 3
    for axis in (1, 2):
        up = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), axis, up)
    return (up > 0.55).astype(np.float32) * 0.8 + up * 0.2


def _class_images(rng: np.random.Generator, templates: np.ndarray, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images, classes in turn (balanced), each its class template shifted by up to 2 px plus noise."""
    k = len(templates)
    labels = np.arange(n) % k
    rng.shuffle(labels)
    imgs = np.empty((n, *templates.shape[1:]), np.uint8)
    for i, c in enumerate(labels):
        dy, dx = rng.integers(-2, 3, size=2)
        x = np.roll(templates[c], (dy, dx), axis=(-2, -1)) + rng.normal(0, noise, templates.shape[1:])
        imgs[i] = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
    return imgs, labels.astype(np.uint8)


def write_mnist_like(root: Path, cls_name: str, seed: int, n_train: int, n_test: int) -> None:
    """``<root>/<cls_name>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (uncompressed idx)."""
    rng = np.random.default_rng(seed)
    pad = np.zeros((10, 1, 28, 28), np.float32)
    pad[:, :, 4:24, 4:24] = np.stack([_smooth_template(rng, 20, 1) for _ in range(10)])
    raw = root / cls_name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs, labels = _class_images(rng, pad, n, noise=0.1)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + imgs[:, 0].tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def write_cifar10(root: Path, seed: int, n_train: int, n_test: int) -> None:
    """``<root>/cifar-10-batches-py/`` as unpacked from cifar-10-python.tar.gz (the training images
    drawn balanced as a whole, then cut into the five data batches)."""
    rng = np.random.default_rng(seed)
    templates = np.stack([_smooth_template(rng, 32, 3) for _ in range(10)])
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    train_imgs, train_labels = _class_images(rng, templates, n_train, noise=0.1)
    parts = [(f"data_batch_{i + 1}", idx) for i, idx in enumerate(np.array_split(np.arange(n_train), 5))]
    test_imgs, test_labels = _class_images(rng, templates, n_test, noise=0.1)
    for fname, imgs, labels in [(f, train_imgs[i], train_labels[i]) for f, i in parts] + [("test_batch", test_imgs, test_labels)]:
        n = len(labels)
        entry = {"batch_label": fname, "labels": [int(v) for v in labels], "data": imgs.reshape(n, 3072),
                 "filenames": [f"{fname}_{i:05d}.png" for i in range(n)]}
        with open(folder / fname, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": len(parts[0][1]), "num_vis": 3072}, f, protocol=2)


def _face(rng: np.random.Generator, male: bool, smiling: bool) -> np.ndarray:
    """One 218x178 RGB face-like image: an ellipse (tint by Male), eyes, a mouth (arc when Smiling)."""
    h, w = 218, 178
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = rng.uniform(0.2, 0.8, 3).astype(np.float32)
    img = np.broadcast_to(bg[:, None, None], (3, h, w)).copy()
    cy, cx = 115 + rng.integers(-4, 5), 89 + rng.integers(-4, 5)
    skin = np.array([0.55, 0.45, 0.75] if male else [0.95, 0.75, 0.6], np.float32) + rng.normal(0, 0.05, 3)
    face = ((yy - cy) / 62) ** 2 + ((xx - cx) / 48) ** 2 <= 1
    img[:, face] = skin[:, None]
    for ex in (cx - 18, cx + 18):
        eye = ((yy - (cy - 18)) / 5) ** 2 + ((xx - ex) / 8) ** 2 <= 1
        img[:, eye] = 0.05
    my = cy + 28
    if smiling:  # an upturned arc, wide open
        mouth = (np.abs((yy - my) - ((xx - cx) / 22) ** 2 * 8 + 6) <= 3) & (np.abs(xx - cx) <= 24)
    else:  # a flat short line
        mouth = (np.abs(yy - my) <= 2) & (np.abs(xx - cx) <= 14)
    img[0, mouth], img[1:, mouth] = 0.7, 0.05
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)


def write_celeba(root: Path, seed: int, n_train: int, n_valid: int, n_test: int) -> None:
    """``<root>/celeba/img_align_celeba/*.jpg`` plus the five annotation files, in their real layout."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / "celeba"
    imgdir = folder / "img_align_celeba"
    imgdir.mkdir(parents=True, exist_ok=True)
    n = n_train + n_valid + n_test
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    partition = [0] * n_train + [1] * n_valid + [2] * n_test
    # (Male, Smiling) in all four combinations, equally often within each split
    combos = np.concatenate([rng.permutation(np.arange(k) % 4) for k in (n_train, n_valid, n_test)])
    attr_rows = []
    for name, combo in zip(names, combos):
        male, smiling = bool(combo & 1), bool(combo & 2)
        Image.fromarray(_face(rng, male, smiling)).save(imgdir / name, quality=90)
        values = rng.choice([-1, 1], size=len(CELEBA_ATTRS))
        values[CELEBA_ATTRS.index("Male")] = 1 if male else -1
        values[CELEBA_ATTRS.index("Smiling")] = 1 if smiling else -1
        attr_rows.append(f"{name} " + " ".join(f"{v:2d}" for v in values))
    (folder / "list_attr_celeba.txt").write_text(f"{n}\n" + " ".join(CELEBA_ATTRS) + "\n" + "\n".join(attr_rows) + "\n")
    (folder / "list_eval_partition.txt").write_text("".join(f"{nm} {p}\n" for nm, p in zip(names, partition)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{nm} {1 + i // 4}\n" for i, nm in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{nm} 40 60 98 120\n" for nm in names))
    marks = "69 109 106 113 77 142 73 152 108 154"
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        + "".join(f"{nm} {marks}\n" for nm in names))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="data root to write (config/smoke.yaml: data/smoke)")
    ap.add_argument("--train", type=int, default=240, help="training images per dataset (CIFAR-10: cut into its 5 batches)")
    ap.add_argument("--test", type=int, default=80, help="test images per dataset")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    root = args.root
    write_mnist_like(root, "MNIST", args.seed, args.train, args.test)
    write_mnist_like(root, "FashionMNIST", args.seed + 1, args.train, args.test)
    write_cifar10(root, args.seed + 2, args.train, args.test)
    write_celeba(root, args.seed + 3, args.train, max(4, args.test // 4), args.test)
    print(f"[fixtures] MNIST, FashionMNIST, CIFAR-10 and CelebA in their on-disk formats under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
