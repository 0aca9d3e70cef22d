"""data.verify_checksums: CIFAR-10 and CelebA files that are not the published ones (here the smoke
scale's fixtures, written by workflow/scripts/make_fixtures.py) fail torchvision's md5 check unless it
is off; off, they are read by the same parsers and the split's source says the sums were not checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reproflow.data.prepare import PrepareSpec, prepare_split
from reproflow.errors import UserError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    subprocess.run([sys.executable, str(REPO / "workflow/scripts/make_fixtures.py"), str(out), "--train", "40",
                    "--test", "16"], check=True, capture_output=True)
    return out


def _spec(name, root, **kw):
    base = dict(name=name, split="test", root=root, download=False, seed=0, rotation_deg=20.0 if name.endswith("_rot") else 0.0,
                digits_test_fraction=0.25, max_n=0, celeba_size=64, celeba_attribute="Smiling",
                celeba_class_attribute="Male")
    return PrepareSpec(**{**base, **kw})


@pytest.mark.parametrize("name", ["cifar10", "celeba"])
def test_unpublished_files_fail_the_md5_check_unless_it_is_off(root, name):
    with pytest.raises(UserError, match="corrupted or wrong checksum"):
        prepare_split(_spec(name, root))
    p = prepare_split(_spec(name, root, verify_checksums=False))
    assert "md5 not verified" in p["meta"]["source"]
    assert p["images"].shape[1:] == ((3, 32, 32) if name == "cifar10" else (3, 64, 64))


def test_fixtures_are_balanced_in_the_real_formats(root):
    for name in ("mnist", "fashion_mnist"):  # torchvision checks only that the idx files exist
        p = prepare_split(_spec(name, root, split="train"))
        assert p["images"].shape == (40, 1, 28, 28) and torch.bincount(p["labels"]).tolist() == [4] * 10
    cifar = prepare_split(_spec("cifar10_rot", root, split="train", verify_checksums=False))
    assert cifar["images"].shape == (40, 3, 32, 32) and torch.bincount(cifar["labels"]).tolist() == [4] * 10
    celeba = prepare_split(_spec("celeba", root, verify_checksums=False))
    pairs = torch.stack([celeba["labels"], celeba["attributes"].long()], 1).tolist()
    assert sorted(map(tuple, pairs)) == sorted([(0, 0), (0, 1), (1, 0), (1, 1)] * 4)
