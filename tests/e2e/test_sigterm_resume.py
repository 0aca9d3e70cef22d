"""A training job stopped by SIGTERM (what SLURM sends on preemption or at the time limit, before
SIGKILL) resumes from its last per-epoch checkpoint when run again (the SLURM profile requeues it with
sbatch --requeue): the same command finishes it without starting over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.e2e.helpers import copy_repo, env, run

pytestmark = pytest.mark.e2e
TARGET = "results/tiny/pretrain/dataset~digits_rot/seed~0/classifier.pt"
CKPT = "results/tiny/checkpoints/pretrain/dataset~digits_rot/seed~0/classifier.ckpt"
LOG = "results/tiny/logs/pretrain/train_classifier/digits_rot/seed~0.log"


def test_sigterm_then_rerun_resumes_from_the_checkpoint(tmp_path):
    work = copy_repo(tmp_path / "repo")
    # many short epochs, so the job is still running after its first checkpoint
    (work / "config" / "long.yaml").write_text(yaml.safe_dump({"pretrain": {"classifier": {"digits_rot": {"epochs": 60}}}}))
    args = [sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile", "config/tiny.yaml", "config/long.yaml"]
    proc = subprocess.Popen(args, cwd=work, env=env(tmp_path, work), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.time() + 600
    while not (work / CKPT).exists():
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read()[-3000:] if proc.stdout else ""
        time.sleep(0.5)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGTERM)  # the whole job tree, as SLURM signals a job's processes
    proc.wait(timeout=120)
    assert not (work / TARGET).exists() and (work / CKPT).exists()
    saved = int(subprocess.run([sys.executable, "-c", f"import torch; print(torch.load({str(work / CKPT)!r}, weights_only=False)['step'])"],
                               capture_output=True, text=True, check=True).stdout)
    assert 1 <= saved < 60
    run([sys.executable, "workflow/scripts/clear_stale_lock.py", "."], work, tmp_path)
    run(args + ["--rerun-incomplete"], work, tmp_path, timeout=900)
    assert (work / TARGET).exists() and not (work / CKPT).exists()
    log = (work / LOG).read_text()
    assert "resuming from checkpoint" in log and f"(step {saved})" in log, log[-3000:]
