"""A training job stopped by SIGTERM (what SLURM sends on preemption or at the time limit, before
SIGKILL) writes a checkpoint at its next batch boundary, mid-epoch, exits non-zero, and resumes from that
batch when run again (the SLURM profile requeues it with sbatch --requeue): the resumed run ends with the
same model, curve and metrics as a run that was never stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml

from tests.e2e.helpers import copy_repo, env, run

pytestmark = pytest.mark.e2e
OUT = "results/tiny/pretrain/dataset~digits_rot/seed~0"
TARGET = f"{OUT}/classifier.pt"
CKPT = "results/tiny/checkpoints/pretrain/dataset~digits_rot/seed~0/classifier.ckpt"
LOG = "results/tiny/logs/pretrain/train_classifier/digits_rot/seed~0.log"
EPOCHS = 4


def outputs(work) -> tuple[dict, pd.DataFrame, dict]:
    state = torch.load(work / TARGET, weights_only=False)["state_dict"]
    curve = pd.read_csv(work / OUT / "classifier_curve.csv")
    return state, curve, json.loads((work / OUT / "classifier_metrics.json").read_text())


def test_sigterm_checkpoints_mid_epoch_and_the_rerun_replays_it(tmp_path):
    work = copy_repo(tmp_path / "repo")
    # one image per batch (300 batches an epoch), so the signal lands inside an epoch, between two batches
    (work / "config" / "long.yaml").write_text(yaml.safe_dump(
        {"pretrain": {"classifier": {"digits_rot": {"epochs": EPOCHS, "batch_size": 1}}}}))
    args = [sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile", "config/tiny.yaml", "config/long.yaml"]
    proc = subprocess.Popen(args, cwd=work, env=env(tmp_path, work), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.time() + 600
    while not (work / CKPT).exists():  # the first epoch's checkpoint
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read()[-3000:] if proc.stdout else ""
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)  # the whole job tree, as SLURM signals a job's processes
    proc.wait(timeout=120)
    assert not (work / TARGET).exists() and (work / CKPT).exists()
    log = (work / LOG).read_text()
    assert "SIGTERM: checkpoint" in log and "exiting with status 143" in log, log[-3000:]
    saved = torch.load(work / CKPT, weights_only=False)
    mid = saved["mid_epoch"]
    assert mid is not None, "the checkpoint was written at an epoch boundary, not at the next batch"
    assert 1 <= saved["step"] < EPOCHS and mid["epoch"] == saved["step"] and 0 < mid["batch"] < 300, (saved["step"], mid)
    run([sys.executable, "workflow/scripts/clear_stale_lock.py", "."], work, tmp_path)
    run(args + ["--rerun-incomplete"], work, tmp_path, timeout=900)
    assert (work / TARGET).exists() and not (work / CKPT).exists()
    log = (work / LOG).read_text()
    assert "resuming from checkpoint" in log and f"(step {saved['step']})" in log, log[-3000:]
    resumed = outputs(work)

    # the same job never stopped: the replay is exact (one thread, the same draws in the same order)
    run(args + ["-F"], work, tmp_path, timeout=900)
    straight = outputs(work)
    assert straight[0].keys() == resumed[0].keys()
    assert all(torch.equal(straight[0][k], resumed[0][k]) for k in straight[0]), "model weights differ after resume"
    pd.testing.assert_frame_equal(straight[1], resumed[1], check_exact=True)
    assert straight[2] == resumed[2]
