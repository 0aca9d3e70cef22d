"""Rule build_oracle: the analytic rotation manipulator of a rotated dataset, saved like a trained model.

    python -m reproflow.cli.build_oracle --train .../train.pt --output .../oracle.pt --dataset digits_rot

One per dataset: the rotation is exact and has no weights, so every seed's attacks share it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.errors import UserError
from reproflow.models.manipulator import RotationOracle, save_manipulator
from reproflow.runinfo import write_sidecar


@dataclass(frozen=True)
class Config:
    """Save the RotationOracle for the dataset's attribute range (meta['attribute_range'], degrees)."""

    train: Path
    output: Path
    dataset: str


def run(cfg: Config) -> None:
    started = time.time()
    meta = load_split(cfg.train).meta
    rng = meta.get("attribute_range")
    if rng is None or meta.get("attribute_name") != "rotation_deg":
        raise UserError(f"{cfg.train}: dataset '{cfg.dataset}' has no rotation attribute; the oracle exists for *_rot sets only")
    save_manipulator(cfg.output, RotationOracle(tuple(rng)), {"dataset": cfg.dataset})
    write_sidecar(cfg.output, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
