"""Periodic checkpoints outside the declared outputs, for kill-and-resume.

A long job saves its state every ``every`` steps to ``path`` (which is *not* a Snakemake
output, so Snakemake's cleanup of incomplete outputs leaves it alone), resumes from it when
re-run after a kill or preemption, and removes it once the real outputs are written.

A checkpoint carries the fingerprint of the job that wrote it: the settings it ran with and the code
it ran (set once per job by the CLI layer, :func:`set_job_fingerprint`). A checkpoint written under
other settings or code is discarded with a log line, never resumed.

SIGTERM (what SLURM sends on preemption or at the time limit, before SIGKILL) does not kill a job that
checkpoints: a handler, installed when the job first loads its checkpoint, only sets a flag. The next
:meth:`Checkpointer.maybe_save` (a step boundary: every step of a depth cell, every batch of a training
loop through :class:`reproflow.training.loop.ResumableTraining`) then saves whatever the interval, and the
job exits with status 143 (128 + SIGTERM), so Snakemake and SLURM see a failure and the requeued job
resumes from that step. A second SIGTERM terminates the process at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from reproflow.io import load_torch, save_torch

log = logging.getLogger(__name__)

_JOB_FINGERPRINT: str | None = None
_STOP = threading.Event()
STOPPED_EXIT = 128 + signal.SIGTERM


class Stopped(SystemExit):
    """Raised after the checkpoint that a SIGTERM asked for is written; exits the job with status 143."""

    def __init__(self, path: Path) -> None:
        super().__init__(STOPPED_EXIT)
        self.path = path


def _on_sigterm(signum: int, frame: Any) -> None:
    if _STOP.is_set():  # a second SIGTERM (a process with no step boundary left, or an impatient sender): die now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    _STOP.set()


def install_stop_handler() -> None:
    """Turn SIGTERM into a stop request (idempotent; only the main thread can install a handler)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        signal.signal(signal.SIGTERM, _on_sigterm)


def stop_requested() -> bool:
    """Whether this process has received SIGTERM since the handler was installed."""
    return _STOP.is_set()


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
        if self.path is None:
            return None
        install_stop_handler()
        if not self.path.exists():
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
        """Save ``make_state()`` when ``step`` hits the interval (or ``force``); ``step`` is stored with it.

        After a SIGTERM (:func:`stop_requested`) it saves whatever the interval and raises :class:`Stopped`."""
        stop = stop_requested()
        if self.path is None or (not force and not stop and step % self.every != 0):
            return False
        state = make_state()
        state["step"] = step
        state["fingerprint"] = self.fingerprint
        save_torch(self.path, state)
        if stop:
            log.warning("SIGTERM: checkpoint %s written at step %s; exiting with status %d to be resumed",
                        self.path, step, STOPPED_EXIT)
            raise Stopped(self.path)
        return True

    def remove(self) -> None:
        """Delete the checkpoint after a successful run."""
        if self.path is not None and self.path.exists():
            self.path.unlink()
