"""The JSON run sidecar written beside every output: seed, versions, device, wall time."""

from __future__ import annotations

import dataclasses
import platform
import time
from pathlib import Path
from typing import Any

from reproflow.io import write_json


def versions() -> dict[str, str]:
    """Versions of the packages that determine numerical results."""
    # importlib.metadata, not importing the packages: importing torchvision costs seconds per job.
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("torch", "torchvision", "numpy", "reproflow"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - optional package missing
            out[dist] = "missing"
    return out


def sidecar_path(output: str | Path) -> Path:
    """``results/x/y.csv`` -> ``results/x/y.csv.run.json``."""
    p = Path(output)
    return p.with_name(p.name + ".run.json")


def write_sidecar(output: str | Path, config: Any, seed: int | None, device: str, started: float) -> Path:
    """Write the sidecar for ``output``; ``started`` is ``time.time()`` at job start."""
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    path = sidecar_path(output)
    write_json(
        path,
        {
            "output": str(output),
            "seed": seed,
            "device": device,
            "versions": versions(),
            "host": platform.node(),
            "wall_time_s": round(time.time() - started, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": cfg,
        },
    )
    return path
