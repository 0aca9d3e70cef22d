"""The tiny data target through the SLURM workflow profile on a real one-node SLURM."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import IGNORE
from tests.workflow.slurm_cluster import LocalSlurm, available

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slurm


def test_data_phase_runs_through_slurm_profile(tmp_path):
    reason = available()
    if reason:
        pytest.skip(reason)
    work = tmp_path / "repo"
    shutil.copytree(REPO, work, ignore=IGNORE)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with LocalSlurm(tmp_path / "slurm") as cluster:
        cmd = [
            sys.executable, "-m", "snakemake", "data_all",
            "--workflow-profile", "workflow/profiles/slurm",
            "--configfile", "config/tiny.yaml",
            "--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "5",
            "--slurm-keep-successful-logs",
            "--slurm-no-account",
            "--jobs", "4",
        ]
        res = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        ctld = cluster.ctld_log()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for ds in ("digits", "digits_rot"):
        for art in ("train.pt", "test.pt", "train.json", "samples.png"):
            assert (work / "results/tiny/data" / f"dataset~{ds}" / art).exists()
    # SLURM, not the local executor, ran the jobs: its controller allocated them and the
    # executor kept one log per job.
    assert ctld.count("sched: Allocate JobId=") + ctld.count("Allocate JobId=") >= 4, ctld[-2000:]
    slurm_logs = list((work / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(slurm_logs) >= 4, slurm_logs
