"""Rule prepare_dataset: one dataset, both splits, tensors + JSON manifests.

    python -m reproflow.cli.prepare_dataset --dataset digits_rot --out-dir results/data/dataset~digits_rot ...
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.prepare import PrepareSpec, manifest, prepare_split
from reproflow.data.sources import base_name
from reproflow.data.store import save_split
from reproflow.io import write_json
from reproflow.runinfo import versions, write_sidecar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Prepare one dataset (train and test splits) into the documented tensor format."""

    dataset: str = field(metadata={"help": "dataset name, e.g. digits_rot, mnist, celeba"})
    out_dir: Path = field(metadata={"help": "folder for {train,test}.pt and .json"})
    data_root: Path = field(metadata={"help": "torchvision dataset root"})
    download: bool = field(metadata={"help": "allow torchvision downloads"})
    seed: int = field(metadata={"help": "seed of angles, split and subsets"})
    rotation_deg: float = field(metadata={"help": "half-range of rotations (data.rotation_deg.<dataset>; 0 = not rotated)"})
    digits_test_fraction: float = field(metadata={"help": "test share of the embedded digits"})
    max_train: int = field(metadata={"help": "max training images, 0 = all"})
    max_test: int = field(metadata={"help": "max test images, 0 = all"})
    celeba_size: int = field(metadata={"help": "CelebA image size"})
    celeba_attribute: str = field(metadata={"help": "CelebA attribute the semantic editors change"})
    celeba_class_attribute: str | None = field(default=None, metadata={"help": "CelebA attribute used as the class label (celeba only)"})
    verify_checksums: bool = field(default=True, metadata={"help": "CIFAR-10 / CelebA: check the published md5 sums (false: presence only)"})

    def __post_init__(self) -> None:
        base_name(self.dataset)  # raises a clear error for unknown names


def run(cfg: Config) -> None:
    started = time.time()
    for split, max_n in (("train", cfg.max_train), ("test", cfg.max_test)):
        spec = PrepareSpec(
            name=cfg.dataset, split=split, root=cfg.data_root, download=cfg.download, seed=cfg.seed,
            rotation_deg=cfg.rotation_deg, digits_test_fraction=cfg.digits_test_fraction, max_n=max_n,
            celeba_size=cfg.celeba_size, celeba_attribute=cfg.celeba_attribute,
            celeba_class_attribute=cfg.celeba_class_attribute, verify_checksums=cfg.verify_checksums,
        )
        log.info("preparing %s/%s from %s", cfg.dataset, split, cfg.data_root)
        payload = prepare_split(spec)
        out = cfg.out_dir / f"{split}.pt"
        save_split(out, payload)
        write_json(cfg.out_dir / f"{split}.json", manifest(payload, versions()))
        log.info("%s/%s: %d images %s", cfg.dataset, split, len(payload["labels"]), tuple(payload["images"].shape[1:]))
    write_sidecar(cfg.out_dir / "train.pt", cfg, cfg.seed, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
