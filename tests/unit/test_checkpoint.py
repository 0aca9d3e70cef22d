"""Checkpoints resume only under the settings and code that wrote them; outputs keep the umask."""

from __future__ import annotations

import logging
import os
import stat

import torch

from reproflow import checkpoint
from reproflow.checkpoint import Checkpointer
from reproflow.io import load_torch, save_torch, write_text


def test_resume_under_the_same_fingerprint(tmp_path):
    path = tmp_path / "c.pt"
    Checkpointer(path, 2, fingerprint="abc").maybe_save(4, lambda: {"w": torch.ones(2)})
    state = Checkpointer(path, 2, fingerprint="abc").load()
    assert state["step"] == 4 and torch.equal(state["w"], torch.ones(2))


def test_checkpoint_of_other_settings_is_discarded(tmp_path, caplog):
    path = tmp_path / "c.pt"
    Checkpointer(path, 1, fingerprint="lr=0.5").maybe_save(100, lambda: {"w": torch.zeros(1)})
    with caplog.at_level(logging.WARNING):
        assert Checkpointer(path, 1, fingerprint="lr=0.01").load() is None
    assert "discarding checkpoint" in caplog.text
    assert not path.exists()


def test_job_fingerprint_is_the_default(tmp_path):
    path = tmp_path / "c.pt"
    checkpoint.set_job_fingerprint("job-1")
    try:
        Checkpointer(path, 1).maybe_save(1, lambda: {})
        assert load_torch(path)["fingerprint"] == "job-1"
        checkpoint.set_job_fingerprint("job-2")
        assert Checkpointer(path, 1).load() is None
    finally:
        checkpoint.set_job_fingerprint(None)


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import reproflow.io as rio

        importlib.reload(rio)
        rio.write_text(tmp_path / "a.txt", "x")
        rio.save_torch(tmp_path / "b.pt", {"x": torch.ones(1)})
        for name in ("a.txt", "b.pt"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    finally:
        os.umask(old)
        import importlib

        import reproflow.io as rio

        importlib.reload(rio)
    assert write_text and save_torch  # the module-level imports stay usable


def test_a_rewrite_removes_the_temporary_files_a_killed_writer_left(tmp_path):
    """kill -9 during an atomic write leaves '.<name>.<random><suffix>' beside the output; the next write of that
    output (the re-run) removes it, and leaves other files alone."""
    out = tmp_path / "curves.csv"
    stale = tmp_path / ".curves.csv.ab12cd.csv"
    stale.write_text("half a table")
    other = tmp_path / ".rates.csv.ef34gh.csv"
    other.write_text("another output's")
    write_text(out, "a,b\n1,2\n")
    assert out.read_text() == "a,b\n1,2\n"
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".rates.csv.ef34gh.csv", "curves.csv"]
