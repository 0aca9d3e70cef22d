"""The JSON run sidecar written beside every output: seed, versions, git commit, device, platform
(CPU, its vector capability, BLAS, torch build, threads), wall time.

Wall time lives here and in Snakemake's benchmark files, never in result tables, so that two runs of
the same settings and code write byte-identical tables.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import re
import subprocess
import sys
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


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


FORCED_PATHS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS")


@functools.lru_cache(maxsize=1)
def platform_info() -> dict[str, Any]:
    """What float results can depend on across machines with identical code and settings: the CPU, the
    vector kernels torch dispatches to (AVX2 / AVX512 ...), its BLAS / LAPACK and build, and the thread
    counts. torch entries only when the job imported torch (importing it here would cost every job seconds)."""
    out: dict[str, Any] = {"cpu": _cpu_model(), "machine": platform.machine(),
                           # settings that force another code path than the CPU's own (the depth sweep's platform check)
                           "forced": {k: os.environ[k] for k in FORCED_PATHS if k in os.environ}}
    torch = sys.modules.get("torch")
    if torch is not None:
        cfg = torch.__config__.show()
        out.update({
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "blas": ",".join(re.findall(r"BLAS_INFO=(\w+)", cfg)) or "unknown",
            "lapack": ",".join(re.findall(r"LAPACK_INFO=(\w+)", cfg)) or "unknown",
            "torch_build": f"{torch.__version__} ({torch.version.git_version[:12]})",
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        })
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
            "platform": platform_info(),
            "wall_time_s": round(time.time() - started, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": cfg,
        },
    )
    return path
