"""Copy the repository into a scratch folder and run workflow commands there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL_SKIP = {".git", ".venv", "results", ".snakemake", "data", ".cache", ".pytest_cache"}


def IGNORE(folder: str, names: list[str]) -> set[str]:
    """Skip generated top-level folders (not src/reproflow/data!) and caches anywhere."""
    skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder).resolve() == REPO:
        skip |= TOP_LEVEL_SKIP & set(names)
    return skip


def copy_repo(dest: Path) -> Path:
    shutil.copytree(REPO, dest, ignore=IGNORE)
    return dest


def env(tmp: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return dict(os.environ, XDG_CACHE_HOME=str(tmp / "xdg-cache"), DVC_NO_ANALYTICS="1", OMP_NUM_THREADS="1",
                PATH=f"{bindir}:{os.environ.get('PATH', '')}", DVC_CORES="2")


def run(cmd: list[str], cwd: Path, tmp: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env(tmp), capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-6000:]}")
    return res
