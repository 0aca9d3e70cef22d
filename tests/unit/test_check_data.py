"""check_data: its file lists agree with what prepare_dataset's loaders demand, and each status
(embedded, present, download, by hand) is reported from real files on disk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reproflow.cli import check_data as C
from reproflow.config import load_yaml
from reproflow.data import sources
from reproflow.errors import UserError
from reproflow.settings import to_json
from reproflow.vocab import DATASETS

REPO = Path(__file__).resolve().parents[2]
PAPER = ["mnist", "cifar10", "mnist_rot", "fashion_mnist_rot", "cifar10_rot", "celeba"]


@pytest.fixture(autouse=True)
def no_debian_mirror(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-mirror")


# every base dataset read from files (digits ships with scikit-learn)
ON_DISK = [d.name for d in DATASETS if not d.name.endswith("_rot") and d.name != "digits"]


@pytest.mark.parametrize("name", ON_DISK)
def test_file_lists_match_the_loaders(tmp_path, name):
    root = tmp_path / "data"
    with pytest.raises(UserError) as err:
        sources.load_raw(name, root, "train", download=False, seed=0, digits_test_fraction=0.25,
                         celeba_size=64, celeba_attribute="Smiling", max_n=0)
    demanded = {Path(p) for p in re.findall(r"^  (\S+)$", str(err.value), re.M)}
    assert demanded == {root / f for f in C.source(name).files}


def _place(root: Path, name: str) -> None:
    for f in C.source(name).files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.name == "img_align_celeba":
            p.mkdir()
        else:
            p.write_bytes(b"")


def test_statuses(tmp_path):
    root = tmp_path / "data"
    _place(root, "mnist")
    (root / C.source("cifar10").files[0]).parent.mkdir(parents=True)
    (root / C.source("cifar10").files[0]).write_bytes(b"")  # one of seven files: still missing
    probes = []

    def probe(url):
        probes.append(url)
        return "toronto" in url  # cifar10's host answers, Google Drive does not

    rows = {r.dataset: r for r in C.check(["digits", "mnist_rot", "cifar10", "cifar10_rot", "celeba"], root, True, {"mnist_rot": ["pretrain"]}, probe)}
    assert rows["digits"].status == "embedded"
    assert rows["mnist_rot"].status == "present" and rows["mnist_rot"].used_by == "pretrain"
    assert rows["cifar10"].status == "download" and rows["cifar10"].source.startswith("https://www.cs.toronto.edu/")
    assert rows["celeba"].status == "by hand (drive.google.com unreachable)"
    assert len(rows["celeba"].missing) == 6
    assert len(probes) == len(set(probes)) == 2  # one probe per host, not per dataset
    off = {r.dataset: r for r in C.check(["cifar10"], root, False, {}, probe)}
    assert off["cifar10"].status == "by hand (data.download: false)"
    assert len(off["cifar10"].missing) == 6


def test_cli_writes_the_paper_table_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "reachable", lambda url, timeout=0: False)
    out = tmp_path / "check_data.md"
    params = load_yaml(REPO / "params.yaml")
    # which phase reads a dataset is derived from the sections: mnist by the depth sweep alone, celeba by the SPA phases
    data = {**params["data"], "datasets": PAPER, "download": True}
    pretrain = {**params["pretrain"], "datasets": ["celeba"]}
    depth_sweep = params["depth_sweep"]
    rc = C.main(["--data-root", str(tmp_path / "data"), "--data", to_json(data), "--pretrain", to_json(pretrain),
                 "--depth-sweep", to_json(depth_sweep), "--output", str(out)])
    assert rc == 0
    text = out.read_text()
    assert text.count("| by hand (") == len(PAPER)
    assert "| celeba | pretrain, attack, advtrain | by hand (drive.google.com unreachable) |" in text
    assert "| mnist | depth_sweep | by hand (" in text
    assert f"- {tmp_path / 'data'}/MNIST/raw/t10k-labels-idx1-ubyte" in text
    assert text.count("/data/MNIST/raw/t10k-labels-idx1-ubyte\n") == 1  # mnist and mnist_rot share their files
