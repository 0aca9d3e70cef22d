"""SIGTERM turns into a checkpoint at the next step boundary and exit status 143 (reproflow.checkpoint)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch

from reproflow import checkpoint
from reproflow.checkpoint import STOPPED_EXIT, Checkpointer, Stopped
from reproflow.training.loop import ResumableTraining, epoch_generator, minibatches


@pytest.fixture
def sigterm_flag(monkeypatch):
    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(checkpoint, "_STOP", type(checkpoint._STOP)())
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_saves_off_the_interval_and_exits_143(tmp_path, sigterm_flag):
    ck = Checkpointer(tmp_path / "c.ckpt", every=100, fingerprint="f")
    assert ck.load() is None  # installs the handler
    assert not ck.maybe_save(7, lambda: {"x": 1})  # off the interval: nothing written
    os.kill(os.getpid(), signal.SIGTERM)  # the handler only sets the flag: the process lives on
    with pytest.raises(Stopped) as stopped:
        ck.maybe_save(8, lambda: {"x": 2})
    assert stopped.value.code == STOPPED_EXIT == 143
    assert torch.load(tmp_path / "c.ckpt", weights_only=False)["step"] == 8


def _run(path, stop_at: int | None) -> tuple[list[float], torch.Tensor]:
    """Two epochs of 10 batches of a random walk whose draws come from the epoch generator and the global RNG."""
    torch.manual_seed(0)
    w = torch.nn.Linear(1, 1)
    state = ResumableTraining(path, {"w": w}, total_epochs=2)
    start, seen = state.start(), []
    for epoch in range(start, 2):
        gen = epoch_generator(0, "walk", epoch)
        sums = {"total": 0.0}
        for i, idx in enumerate(state.batches(epoch, list(minibatches(20, 2, gen)), gen, sums)):
            if stop_at is not None and epoch == 1 and i == stop_at:
                checkpoint._STOP.set()
            with torch.no_grad():
                w.weight += torch.rand(1, generator=gen) + torch.rand(1) + float(idx.sum())
            sums["total"] += float(w.weight.detach())
        seen.append(sums["total"])
        state.end_epoch(epoch + 1, [])
    return seen, w.weight.detach().clone()


def test_a_mid_epoch_stop_resumes_to_the_uninterrupted_result(tmp_path, sigterm_flag):
    straight = _run(tmp_path / "a.ckpt", None)
    with pytest.raises(Stopped):
        _run(tmp_path / "b.ckpt", stop_at=4)
    mid = torch.load(tmp_path / "b.ckpt", weights_only=False)["mid_epoch"]
    assert mid["epoch"] == 1 and mid["batch"] == 5
    checkpoint._STOP.clear()
    seen, weight = _run(tmp_path / "b.ckpt", None)
    assert seen == straight[0][1:] and torch.equal(weight, straight[1])


def test_a_second_sigterm_terminates(tmp_path):
    code = ("import os, signal, time\n"
            "from reproflow.checkpoint import Checkpointer\n"
            f"Checkpointer({str(tmp_path / 'c.ckpt')!r}, 1).load()\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "print('first ignored', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "time.sleep(5)\n"
            "print('still alive', flush=True)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == -signal.SIGTERM and "first ignored" in res.stdout and "still alive" not in res.stdout, res
