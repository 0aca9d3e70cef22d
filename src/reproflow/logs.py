"""Logging to the rule's ``log:`` file, and progress that reaches it at a steady cadence.

Progress has two readers. The job's log file (a SLURM job's only window) gets one complete INFO
line every ``every_s`` seconds (steps done, rate, elapsed, ETA), whatever stderr is. A person who
ran a CLI by hand in a terminal also gets a tqdm bar on stderr, and then the progress lines go
only to the file so they do not break the bar. Jobs started by Snakemake share one terminal, so
they never draw bars there (two redrawing bars interleave into unreadable lines): their stderr
gets the same complete lines as the file.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROGRESS_EVERY_S = 30.0  # the promised cadence of progress lines in every job's log (docs/cluster.md)
_PROGRESS = "reproflow_progress"  # LogRecord attribute marking progress lines


class _NotProgress(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, _PROGRESS, False)


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, when given, to ``log_file`` (the rule's ``log:``).

    With a progress bar on stderr (:func:`bars_enabled`), progress lines go to the file only.
    """
    stream = logging.StreamHandler(sys.stderr)
    if bars_enabled():
        stream.addFilter(_NotProgress())
    handlers: list[logging.Handler] = [stream]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=level, format=_FORMAT, handlers=handlers, force=True)


def bars_enabled() -> bool:
    """True when stderr is a terminal and this process leads the terminal's foreground job.

    A CLI typed at a shell prompt leads its own process group, which the terminal has in the
    foreground. A job that Snakemake started runs in Snakemake's group (next to other jobs that
    write to the same terminal), and a batch job has no terminal: both get lines instead of bars.
    """
    try:
        fd = sys.stderr.fileno()
        return os.isatty(fd) and os.getpgrp() == os.getpid() == os.tcgetpgrp(fd)
    except (AttributeError, OSError, ValueError):
        return False


# One clock for the whole process: a job that runs many short loops one after the other still
# writes a line every PROGRESS_EVERY_S seconds, not one per loop that lasts that long.
_last_line = [time.monotonic()]


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")


class Progress:
    """Counts work done and logs ``desc: done/total unit (pct), rate, elapsed, eta`` lines.

    A line is written when ``every_s`` seconds have passed since the process's last progress
    line; ``close()`` writes a final line if any was written (short loops stay quiet). ``set``
    takes an absolute count. ``initial=None`` means "resumed somewhere": the first ``set(n)``
    is taken as the first step after the resume point n - 1, and the rate counts from there.
    ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str = "it",
        every_s: float = PROGRESS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        bar: bool | None = None,
        initial: int | None = 0,
    ) -> None:
        self.total, self.desc, self.unit, self.every_s, self.clock = total, desc, unit, every_s, clock
        self.n = initial or 0
        self._base: int | None = initial
        self._start = clock()
        self.lines = 0
        self._bar = None
        if bars_enabled() if bar is None else bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=True, dynamic_ncols=True)

    def update(self, k: int = 1) -> None:
        self.set(self.n + k)

    def set(self, n: int) -> None:
        if self._base is None:  # resumed: the first step after the checkpoint
            self._base = self.n = n - 1
            if self._bar is not None:
                self._bar.update(self.n)
        if self._bar is not None:
            self._bar.update(n - self.n)
        self.n = n
        now = self.clock()
        if now - _last_line[0] >= self.every_s:
            self._line(now)

    def _line(self, now: float) -> None:
        _last_line[0] = now
        self.lines += 1
        elapsed = max(now - self._start, 1e-9)
        rate = (self.n - (self._base or 0)) / elapsed
        if self.total:
            eta = (self.total - self.n) / rate if rate > 0 else float("inf")
            msg = "%s: %d/%d %s (%.0f%%), %.3g %s/s, elapsed %s, eta %s" % (
                self.desc, self.n, self.total, self.unit, 100 * self.n / self.total, rate, self.unit,
                _fmt_s(elapsed), _fmt_s(eta) if eta != float("inf") else "?",
            )
        else:
            msg = "%s: %d %s, %.3g %s/s, elapsed %s" % (self.desc, self.n, self.unit, rate, self.unit, _fmt_s(elapsed))
        log.info(msg, extra={_PROGRESS: True})

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.lines:
            self._line(self.clock())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str = "", log_every_s: float = PROGRESS_EVERY_S
) -> Iterator[T]:
    """Iterate with :class:`Progress`: a bar on an interactive terminal, lines in the log always."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, every_s=log_every_s) as p:
        for item in iterable:
            yield item
            p.update()
