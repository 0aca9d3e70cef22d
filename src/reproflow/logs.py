"""Logging to the rule's ``log:`` file and progress bars that degrade to log lines."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, when given, to ``log_file`` (the rule's ``log:``)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=level, format=_FORMAT, handlers=handlers, force=True)


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str = "", log_every_s: float = 15.0
) -> Iterator[T]:
    """tqdm progress bar on a terminal; otherwise an INFO log line every ``log_every_s`` seconds."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(iterable, total=total, desc=desc, leave=False)
        return
    start = last = time.monotonic()
    for i, item in enumerate(iterable):
        yield item
        now = time.monotonic()
        if now - last >= log_every_s:
            last = now
            done = i + 1
            if total:
                eta = (now - start) / done * (total - done)
                log.info("%s: %d/%d (%.0f%%), eta %.0fs", desc, done, total, 100 * done / total, eta)
            else:
                log.info("%s: %d done", desc, done)
