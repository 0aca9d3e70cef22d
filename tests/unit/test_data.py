"""Data phase: the real torchvision readers on small files written in the real on-disk formats."""

from __future__ import annotations

import pickle
import struct
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

from reproflow.cli import prepare_dataset
from reproflow.config import load_yaml
from reproflow.data.prepare import PrepareSpec, checksum, prepare_split, stratified_subset
from reproflow.data.rotate import draw_angles, rotate
from reproflow.data.store import load_split
from reproflow.errors import UserError
from reproflow.settings import to_json
from reproflow.settings.sections import DataPrepare


def _spec(name, root, split="train", **kw):
    base = dict(name=name, split=split, root=Path(root), download=False, seed=0, rotation_deg=40.0,
                digits_test_fraction=0.25, max_n=0, celeba_size=64, celeba_attribute="Smiling")
    base.update(kw)
    return PrepareSpec(**base)


def _prepare(**over) -> str:
    """prepare_dataset's --prepare: params.yaml's data section (its prepare group), offline, with ``over``."""
    data = load_yaml(Path(__file__).resolve().parents[2] / "params.yaml")["data"]
    prepare = {f.name: data[f.name] for f in fields(DataPrepare)}
    rotation = {**prepare["rotation_deg"], **over.pop("rotation_deg", {})}
    return to_json({**prepare, "download": False, "rotation_deg": rotation, **over})


def _write_idx(raw: Path, prefix: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + imgs.tobytes())
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
    return imgs, labels


@pytest.mark.parametrize("name,cls", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_like_reads_idx_files(tmp_path, name, cls):
    raw = tmp_path / cls / "raw"
    imgs, labels = _write_idx(raw, "train", 30, 1)
    _write_idx(raw, "t10k", 12, 2)
    payload = prepare_split(_spec(name, tmp_path))
    assert payload["images"].shape == (30, 1, 28, 28)
    assert torch.equal(payload["images"][:, 0], torch.from_numpy(imgs))
    assert torch.equal(payload["labels"], torch.from_numpy(labels.astype(np.int64)))
    test = prepare_split(_spec(name, tmp_path, split="test"))
    assert len(test["labels"]) == 12


def test_rotated_variant_keeps_originals_and_scales_angle(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    imgs, _ = _write_idx(raw, "train", 20, 3)
    _write_idx(raw, "t10k", 5, 4)
    p = prepare_split(_spec("mnist_rot", tmp_path, rotation_deg=30.0))
    assert torch.equal(p["originals"][:, 0], torch.from_numpy(imgs))
    assert p["angles"].abs().max() <= 30.0
    assert torch.allclose(p["attributes"], (p["angles"] + 30) / 60)
    assert p["meta"]["attribute_range"] == [-30.0, 30.0]
    again = prepare_split(_spec("mnist_rot", tmp_path, rotation_deg=30.0))
    assert checksum(p) == checksum(again)  # deterministic from the seed


def _write_cifar(root: Path, n: int = 10) -> np.ndarray:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    first = None
    for fname in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        first = data if first is None else first
        with open(folder / fname, "wb") as f:
            pickle.dump({"data": data, "labels": list(rng.integers(0, 10, n))}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    return first


def test_cifar10_reads_python_pickle_batches(tmp_path, monkeypatch):
    import torchvision

    first = _write_cifar(tmp_path)
    # CIFAR10 verifies md5 sums of the real files; only that check is bypassed, parsing is real.
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    p = prepare_split(_spec("cifar10_rot", tmp_path, rotation_deg=20.0))
    assert p["images"].shape == (50, 3, 32, 32)
    expected = torch.from_numpy(first[0].reshape(3, 32, 32))
    assert torch.equal(p["originals"][0], expected)
    assert p["angles"].abs().max() <= 20.0


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "celeba", "mnist_rot"])
def test_missing_files_fail_fast_with_instructions(tmp_path, name, monkeypatch):
    import reproflow.data.sources as sources

    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    t0 = time.time()
    with pytest.raises(UserError) as err:
        prepare_split(_spec(name, tmp_path))
    assert time.time() - t0 < 5
    msg = str(err.value)
    assert f"dataset '{name}'" in msg and str(tmp_path) in msg and "Place these files" in msg


def test_celeba_cli_exit_code_is_clean(tmp_path, capsys):
    rc = prepare_dataset.main([
        "--dataset", "celeba", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path),
        "--prepare", _prepare(max_train=0, max_test=0),
    ])
    assert rc == 2
    assert "list_attr_celeba.txt" in capsys.readouterr().err
    assert not (tmp_path / "out" / "train.pt").exists()


def test_digits_embedded_split_is_stratified_and_padded():
    tr = prepare_split(_spec("digits", "/nonexistent"))
    te = prepare_split(_spec("digits", "/nonexistent", split="test"))
    assert tr["images"].shape[1:] == (1, 28, 28) and tr["images"].dtype == torch.uint8
    assert len(tr["labels"]) + len(te["labels"]) == 1797
    assert abs(len(te["labels"]) / 1797 - 0.25) < 0.01
    counts = torch.bincount(te["labels"], minlength=10).float()
    assert counts.min() >= 40  # every class present in proportion
    assert tr["images"][:, :, :4].max() == 0 and tr["images"][:, :, -4:].max() == 0  # zero padding


def test_stratified_subset_keeps_proportions():
    labels = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    idx = stratified_subset(labels, 20, seed=0)
    assert len(idx) == 20 and len(set(idx.tolist())) == 20
    assert torch.bincount(labels[idx]).tolist() == [12, 6, 2]


def test_rotation_matches_rot90_and_zero_is_identity():
    x = torch.rand(3, 1, 9, 9)
    assert torch.allclose(rotate(x, torch.zeros(3)), x, atol=1e-5)
    r = rotate(x, torch.full((3,), 90.0))
    assert torch.allclose(r, torch.rot90(x, k=1, dims=(2, 3)), atol=1e-4)  # counter-clockwise


def test_angles_uniform_in_range_and_seeded():
    a = draw_angles(20000, 40.0, seed=5)
    assert a.min() >= -40 and a.max() <= 40
    assert abs(float(a.mean())) < 1.0 and abs(float(a.std()) - 40 / 3**0.5) < 0.5
    assert torch.equal(a, draw_angles(20000, 40.0, seed=5))
    assert not torch.equal(a, draw_angles(20000, 40.0, seed=6))


def test_cli_writes_loadable_split_and_manifest(tmp_path):
    out = tmp_path / "dataset~digits_rot"
    rc = prepare_dataset.main([
        "--dataset", "digits_rot", "--out-dir", str(out), "--data-root", str(tmp_path),
        "--prepare", _prepare(max_train=50, max_test=20, rotation_deg={"digits_rot": 40.0}),
    ])
    assert rc == 0
    s = load_split(out / "train.pt")
    assert len(s) == 50 and 0 <= float(s.images.min()) and float(s.images.max()) <= 1
    assert s.originals is not None and s.meta["attribute_range"] == [-40.0, 40.0]
    import json

    m = json.loads((out / "test.json").read_text())
    assert m["count"] == 20 and sum(m["class_counts"]) == 20 and len(m["checksum_sha256"]) == 64
    assert (out / "train.pt.run.json").exists()


def test_corrupt_split_gives_clear_error(tmp_path):
    p = tmp_path / "train.pt"
    p.write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="corrupted or truncated"):
        load_split(p)


def test_real_fashion_mnist_from_debian_if_installed(tmp_path):
    from reproflow.data import sources

    if not (sources.DEBIAN_FASHION_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    p = prepare_split(_spec("fashion_mnist", tmp_path, split="test", max_n=500))
    assert len(p["labels"]) == 500 and torch.bincount(p["labels"]).min() >= 45


CELEBA_ATTRS = ["5_o_Clock_Shadow", "Male", "Smiling", "Young"]


def _write_celeba(root, n: int = 8) -> tuple[list[int], list[int]]:
    """A tiny CelebA in its on-disk format (img_align_celeba/*.jpg and the five annotation files, space
    separated, +-1 attributes); Male and Smiling deliberately disagree on half of the images."""
    from PIL import Image

    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    male = [1, 1, -1, -1, 1, -1, 1, -1][:n]
    smiling = [1, -1, 1, -1, -1, 1, 1, -1][:n]
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    g = np.random.default_rng(0)
    for name in names:
        Image.fromarray(g.integers(0, 255, (218, 178, 3), dtype=np.uint8)).save(folder / "img_align_celeba" / name)
    attr_lines = [str(n), " ".join(CELEBA_ATTRS)]
    for i, name in enumerate(names):
        attr_lines.append(f"{name} " + " ".join(str(v) for v in (-1, male[i], smiling[i], 1)))
    (folder / "list_attr_celeba.txt").write_text("\n".join(attr_lines) + "\n")
    (folder / "list_eval_partition.txt").write_text("".join(f"{name} 0\n" for name in names))
    (folder / "identity_CelebA.txt").write_text("".join(f"{name} {i}\n" for i, name in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{name} 0 0 178 218\n" for name in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        + "".join(f"{name} " + " ".join(["1"] * 10) + "\n" for name in names))
    return [(v + 1) // 2 for v in male], [(v + 1) // 2 for v in smiling]


def test_celeba_class_is_not_the_edited_attribute(tmp_path, monkeypatch):
    """Issue #11: CelebA's class label (Male) and the edited attribute (Smiling) come from different
    columns of list_attr_celeba.txt, so they differ wherever the files do; the same name for both fails."""
    import torchvision

    male, smiling = _write_celeba(tmp_path)
    # CelebA verifies md5 sums of the real annotation files; only that check is bypassed, parsing is real.
    monkeypatch.setattr(torchvision.datasets.CelebA, "_check_integrity", lambda self: True)
    spec = PrepareSpec(name="celeba", split="train", root=tmp_path, download=False, seed=0, rotation_deg=0.0,
                       digits_test_fraction=0.25, max_n=0, celeba_size=16, celeba_attribute="Smiling",
                       celeba_class_attribute="Male")
    p = prepare_split(spec)
    # the subset step may reorder: compare the (class, attribute) pairs as multisets
    pairs = sorted(zip(p["labels"].tolist(), p["attributes"].long().tolist()))
    assert pairs == sorted(zip(male, smiling))
    assert not torch.equal(p["labels"].float(), p["attributes"])
    assert p["images"].shape == (8, 3, 16, 16)
    assert p["meta"]["attribute_name"] == "Smiling" and "Male" in p["meta"]["source"]
    with pytest.raises(UserError, match="both 'Smiling'"):
        prepare_split(PrepareSpec(**{**spec.__dict__, "celeba_class_attribute": "Smiling"}))
    with pytest.raises(UserError, match="not a CelebA attribute"):
        prepare_split(PrepareSpec(**{**spec.__dict__, "celeba_class_attribute": "Beard"}))
