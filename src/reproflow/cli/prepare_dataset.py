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
from reproflow.settings import derived
from reproflow.settings.sections import DataPrepare

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Prepare one dataset (train and test splits) into the documented tensor format."""

    dataset: str = field(metadata={"help": "dataset name, e.g. digits_rot, mnist, celeba"})
    out_dir: Path = field(metadata={"help": "folder for {train,test}.pt and .json"})
    data_root: Path = field(metadata={"help": "torchvision dataset root (data_root)"})
    prepare: DataPrepare = field(metadata={"help": "JSON: data (its prepare group)"})

    def __post_init__(self) -> None:
        base_name(self.dataset)  # raises a clear error for unknown names


def run(cfg: Config) -> None:
    started = time.time()
    p = cfg.prepare
    for split, max_n in (("train", p.max_train), ("test", p.max_test)):
        spec = PrepareSpec(
            name=cfg.dataset, split=split, root=cfg.data_root, download=p.download, seed=p.seed,
            rotation_deg=derived.rotation_deg(p, cfg.dataset), digits_test_fraction=p.digits_test_fraction,
            max_n=max_n, celeba_size=p.celeba_size, celeba_attribute=p.celeba_attribute,
            celeba_class_attribute=p.celeba_class_attribute, verify_checksums=p.verify_checksums,
        )
        log.info("preparing %s/%s from %s", cfg.dataset, split, cfg.data_root)
        payload = prepare_split(spec)
        out = cfg.out_dir / f"{split}.pt"
        save_split(out, payload)
        write_json(cfg.out_dir / f"{split}.json", manifest(payload, versions()))
        log.info("%s/%s: %d images %s", cfg.dataset, split, len(payload["labels"]), tuple(payload["images"].shape[1:]))
    write_sidecar(cfg.out_dir / "train.pt", cfg, p.seed, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
