"""Atomic file output and small readers used by every phase.

Every artifact is written to a temporary file in the destination folder and renamed into
place, so an interrupted job never leaves a truncated output that Snakemake or DVC would
take for a finished one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reproflow.errors import UserError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates 0600 files; outputs get the mode a plain open() would give (0666 minus the user's
# umask), so lab-mates sharing a results folder can read them.
_FILE_MODE = 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file keeps the destination's suffix (matplotlib and torch pick the format
    from it). On an exception the temporary file is removed and ``path`` is untouched. Temporary
    files of ``path`` left by a killed writer (``kill -9`` skips the cleanup) are removed first, so a
    re-run leaves nothing behind.
    """
    import glob

    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{glob.escape(dest.name)}.*"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=suffix if suffix is not None else dest.suffix, dir=dest.parent
    )
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write ``text`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (NaN/inf written as JSON strings are avoided:
    callers pass plain floats; Python's json writes NaN/Infinity, which pandas and DVC read)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, raising :class:`UserError` naming the file when missing or corrupt."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: file not found; run the workflow step that produces it first")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}: not valid JSON ({exc}); delete it and re-run the step that writes it") from None


def write_table(path: str | os.PathLike, df: Any, markdown: bool = False) -> None:
    """Atomically write a pandas DataFrame as CSV (and, with ``markdown``, a ``.md`` twin)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    if markdown:
        md_path = Path(path).with_suffix(".md")
        write_text(md_path, dataframe_to_markdown(df) + "\n")


def dataframe_to_markdown(df: Any, floatfmt: str = ".4g") -> str:
    """Render a DataFrame as a GitHub Markdown table without the optional tabulate dependency."""
    cols = [str(c) for c in df.columns]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return format(v, floatfmt)
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


def save_torch(path: str | os.PathLike, obj: Any) -> None:
    """Atomically ``torch.save`` an object."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: str | os.PathLike, map_location: Any = "cpu") -> Any:
    """``torch.load(weights_only=True)`` with a clear :class:`UserError` for a missing or corrupted file.

    Every artifact and checkpoint holds only dicts, lists, strings, numbers and tensors, so the safe
    unpickler reads them all; nothing executes code from a file a lab-mate shared.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: file not found; run the workflow step that produces it first")
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/corrupt files
        raise UserError(
            f"{p}: cannot be read as a torch file ({type(exc).__name__}: {exc}); "
            "it is corrupted or truncated: delete it and re-run the step that writes it"
        ) from None


def save_figure(fig: Any, png_path: str | os.PathLike, dpi: float | None = None) -> None:
    """Save a matplotlib Figure as PNG at ``png_path`` and as (vector) PDF beside it, atomically. The PNG's
    resolution is ``dpi``, else the figure style's ``savefig.dpi`` (reproflow.plots.style)."""
    png = Path(png_path)
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    with atomic_path(png.with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, bbox_inches="tight")


def generated_main(doc: str, path: Path, generate: Callable[[], str], command: str) -> int:
    """The ``main`` of a generator script: writes ``generate()`` to ``path``, or with ``--check`` only compares
    and fails (exit 1) when the file is stale; ``command`` is how to regenerate it."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--check", action="store_true", help=f"fail if {path.name} differs from what it is generated from")
    text = generate()
    if ap.parse_args().check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0
