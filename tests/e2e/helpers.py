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


def env(tmp: Path, cwd: Path | None = None) -> dict[str, str]:
    """The environment of a workflow run in a copy: its own caches, and the copy's own source code
    (PYTHONPATH), so code edits made in the copy are what Snakemake and DVC see."""
    bindir = str(Path(sys.executable).parent)
    extra = {"PYTHONPATH": str(cwd / "src")} if cwd is not None and (cwd / "src").is_dir() else {}
    # every job writes the reproflow modules it imported under tmp/modules (reproflow.cli._base.record_modules)
    return dict(os.environ, XDG_CACHE_HOME=str(tmp / "xdg-cache"), DVC_NO_ANALYTICS="1", OMP_NUM_THREADS="1",
                PATH=f"{bindir}:{os.environ.get('PATH', '')}", DVC_CORES="2",
                REPROFLOW_RECORD_MODULES=str(tmp / "modules"), **extra)


def git_init(work: Path, tmp: Path) -> None:
    """Make the copy a git repository with one commit (DVC's params diff and experiments need HEAD)."""
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        run(cmd, work, tmp)


def run(cmd: list[str], cwd: Path, tmp: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env(tmp, cwd), capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-6000:]}")
    return res
