"""Rule check_data: before any training, which datasets are present, which will be downloaded and
which must be placed by hand, and where. Reads the data root only; writes nothing there.

    python -m reproflow.cli.check_data --data-root data --data '<data as JSON>' --pretrain '<pretrain>' \
        --depth-sweep '<depth_sweep>' --output results/data/check_data.md

The phases that read each dataset come from those sections (:func:`reproflow.settings.derived.dataset_users`).
A download counts as possible only when ``data.download`` is true and the download host answers a
TCP connection within a few seconds (an offline compute node, or a proxy-only login node, does
not), so the table never promises minutes of retries that end in a failure.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from reproflow.cli._base import exit_with, main_entry
from reproflow.data import sources
from reproflow.data.sources import base_name
from reproflow.io import write_text
from reproflow.settings import derived
from reproflow.settings.sections import Data, DepthSweep, Pretrain

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch", "batches.meta")


@dataclass(frozen=True)
class Config:
    """Say, per dataset of data.datasets, whether prepare_dataset will find, download or miss its files."""

    data_root: Path = field(metadata={"help": "torchvision dataset root (data_root)"})
    data: Data = field(metadata={"help": "JSON: data (datasets, download)"})
    pretrain: Pretrain = field(metadata={"help": "JSON: pretrain (its datasets: the SPA phases')"})
    depth_sweep: DepthSweep = field(metadata={"help": "JSON: depth_sweep (its panels' and speed run's datasets)"})
    output: Path = field(metadata={"help": "Markdown table to write"})


@dataclass(frozen=True)
class Source:
    """Where a base dataset's raw files live under the data root, and where they come from."""

    files: tuple[Path, ...]  # relative to the data root; empty = embedded in the package
    urls: tuple[str, ...]  # torchvision's download locations
    by_hand: str  # how to get the files without a download


def source(base: str) -> Source:
    """The raw files prepare_dataset needs for ``base`` (as reproflow.data.sources checks them)."""
    import torchvision.datasets as tvd

    if base == "digits":
        return Source((), (), "embedded in scikit-learn: nothing to place")
    if base in ("mnist", "fashion_mnist"):
        cls = "MNIST" if base == "mnist" else "FashionMNIST"
        hint = f"the four idx files from {getattr(tvd, cls).mirrors[0]} (gunzipped)"
        if base == "fashion_mnist":
            hint += "; or apt install dataset-fashion-mnist (Debian), which prepare_dataset unpacks"
        return Source(tuple(Path(cls) / "raw" / s for s in MNIST_STEMS), tuple(getattr(tvd, cls).mirrors), hint)
    if base == "cifar10":
        return Source(
            tuple(Path("cifar-10-batches-py") / f for f in CIFAR10_FILES), (tvd.CIFAR10.url,),
            f"unpack {tvd.CIFAR10.url.rsplit('/', 1)[-1]} from {tvd.CIFAR10.url} into the data root",
        )
    return Source(
        (Path("celeba/img_align_celeba"),) + tuple(Path("celeba") / f for f in sources.CELEBA_FILES),
        ("https://drive.google.com/",),
        "the CelebA site's Google Drive: img_align_celeba.zip unpacked, plus the annotation files "
        "(torchvision's download from Google Drive often fails on its daily quota)",
    )


def reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when the URL's host accepts a TCP connection within ``timeout`` seconds."""
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Row:
    dataset: str
    used_by: str
    status: str  # embedded | present | debian mirror | download | by hand
    where: str  # folder under the data root
    source: str  # where the files come from
    missing: tuple[Path, ...]  # files to place (status "by hand")


def check(datasets: list[str], root: Path, download: bool, used_by: dict[str, list[str]], probe=reachable) -> list[Row]:
    """One :class:`Row` per dataset; ``probe(url) -> bool`` says whether a download host answers."""
    rows, probed = [], {}
    for name in datasets:
        base = base_name(name)
        src = source(base)
        users = ", ".join(used_by.get(name, [])) or "-"
        if not src.files:
            rows.append(Row(name, users, "embedded", "-", src.by_hand, ()))
            continue
        where = f"{root}/{src.files[0].parent}/"
        missing = tuple(root / f for f in src.files if not (root / f).exists())
        if not missing:
            rows.append(Row(name, users, "present", where, "-", ()))
        elif base == "fashion_mnist" and sources.DEBIAN_FASHION_MNIST.is_dir():
            rows.append(Row(name, users, "debian mirror", where, f"{sources.DEBIAN_FASHION_MNIST} (prepare_dataset unpacks it)", ()))
        elif not download:
            rows.append(Row(name, users, "by hand (data.download: false)", where, src.by_hand, missing))
        else:
            for url in src.urls:
                if url not in probed:
                    probed[url] = probe(url)
            ok = [u for u in src.urls if probed[u]]
            if ok:
                rows.append(Row(name, users, "download", where, ok[0], ()))
            else:
                hosts = ", ".join(sorted({urlparse(u).hostname or u for u in src.urls}))
                rows.append(Row(name, users, f"by hand ({hosts} unreachable)", where, src.by_hand, missing))
    return rows


def table(rows: list[Row]) -> str:
    """Markdown: the table, then the files to place once per folder."""
    out = "| dataset | used by | status | where | source |\n|---|---|---|---|---|\n"
    out += "".join(f"| {r.dataset} | {r.used_by} | {r.status} | {r.where} | {r.source} |\n" for r in rows)
    todo: dict[str, tuple[Path, ...]] = {}
    for r in rows:
        if r.missing:
            todo.setdefault(r.where, r.missing)
    if todo:
        out += "\nFiles to place by hand (then re-run this check):\n"
        out += "".join(f"- {p}\n" for files in todo.values() for p in files)
    return out


def run(cfg: Config) -> None:
    used_by = derived.dataset_users(cfg.data, cfg.pretrain, cfg.depth_sweep)
    rows = check(list(cfg.data.datasets), cfg.data_root, cfg.data.download, used_by)
    text = table(rows)
    write_text(cfg.output, text)
    log.info("data check (data root %s, data.download %s):\n%s", cfg.data_root, str(cfg.data.download).lower(), text)
    hand = [r.dataset for r in rows if r.status.startswith("by hand")]
    if hand:
        log.warning("%d dataset(s) must be placed by hand before their phases can run: %s", len(hand), ", ".join(hand))


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
