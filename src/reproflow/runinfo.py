"""The JSON run sidecar written beside every output: seed, versions, git commit, device, wall time.

Wall time lives here and in Snakemake's benchmark files, never in result tables, so that two runs of
the same settings and code write byte-identical tables.
"""

from __future__ import annotations

import dataclasses
import functools
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from reproflow.io import write_json


@functools.lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it (``dirty``); None outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Versions of the packages that determine numerical results or run the workflow."""
    # importlib.metadata, not importing the packages: importing torchvision costs seconds per job.
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("torch", "torchvision", "numpy", "scipy", "pandas", "snakemake", "dvc", "pyautoattack", "reproflow"):
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
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) and not isinstance(config, type) else config
    path = sidecar_path(output)
    write_json(
        path,
        {
            "output": str(output),
            "seed": seed,
            "device": device,
            "versions": versions(),
            "git": git_state(),
            "host": platform.node(),
            "wall_time_s": round(time.time() - started, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": cfg,
        },
    )
    return path
