"""Periodic checkpoints outside the declared outputs, for kill-and-resume.

A long job saves its state every ``every`` steps to ``path`` (which is *not* a Snakemake
output, so Snakemake's cleanup of incomplete outputs leaves it alone), resumes from it when
re-run after a kill or preemption, and removes it once the real outputs are written.

A checkpoint carries the fingerprint of the job that wrote it: the settings it ran with and the code
it ran (set once per job by the CLI layer, :func:`set_job_fingerprint`). A checkpoint written under
other settings or code is discarded with a log line, never resumed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from reproflow.io import load_torch, save_torch

log = logging.getLogger(__name__)

_JOB_FINGERPRINT: str | None = None


def set_job_fingerprint(fingerprint: str | None) -> None:
    """Fingerprint (settings + code) of the running job; every :class:`Checkpointer` uses it by default."""
    global _JOB_FINGERPRINT
    _JOB_FINGERPRINT = fingerprint


def job_fingerprint() -> str | None:
    return _JOB_FINGERPRINT


class Checkpointer:
    """Save/restore a state dict every ``every`` steps.

    Usage::

        ckpt = Checkpointer(path, every=100)
        state = ckpt.load()          # None on a fresh start
        for step in range(start, total):
            ...
            ckpt.maybe_save(step + 1, lambda: {...})
        ckpt.remove()                # after the outputs are written
    """

    def __init__(self, path: str | Path | None, every: int, fingerprint: str | None = None) -> None:
        if every < 1:
            raise ValueError(f"checkpoint interval must be >= 1, got {every}")
        self.path = Path(path) if path is not None else None
        self.every = int(every)
        self.fingerprint = fingerprint if fingerprint is not None else _JOB_FINGERPRINT

    def load(self) -> dict[str, Any] | None:
        """Return the saved state, or None when there is none (or checkpointing is off).

        A checkpoint whose fingerprint differs from this job's (other settings or code) is deleted
        and None returned: the job starts fresh.
        """
        if self.path is None or not self.path.exists():
            return None
        state = load_torch(self.path)
        written = state.get("fingerprint") if isinstance(state, dict) else None
        if written != self.fingerprint:
            log.warning(
                "discarding checkpoint %s: written under other settings or code (fingerprint %s, this job %s); "
                "starting fresh",
                self.path,
                written,
                self.fingerprint,
            )
            self.path.unlink()
            return None
        log.info("resuming from checkpoint %s (step %s)", self.path, state.get("step"))
        return state

    def maybe_save(self, step: int, make_state: Any, force: bool = False) -> bool:
        """Save ``make_state()`` (which must include ``step``) when ``step`` hits the interval."""
        if self.path is None or (not force and step % self.every != 0):
            return False
        state = make_state()
        state["step"] = step
        state["fingerprint"] = self.fingerprint
        save_torch(self.path, state)
        return True

    def remove(self) -> None:
        """Delete the checkpoint after a successful run."""
        if self.path is not None and self.path.exists():
            self.path.unlink()
