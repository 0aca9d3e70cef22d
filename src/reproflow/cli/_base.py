"""Build argparse parsers from frozen config dataclasses and run a CLI with clean errors.

Style rule: a parameter's value lives in params.yaml only. Dataclass fields therefore have no
defaults for values that come from params; the rule passes every one of them. Flags are
generated from the fields (``sw2_grid`` -> ``--sw2-grid``), never typed again by hand.

Supported field types: int, float, str, bool, Path, and list/tuple of int/float/str
(``nargs='+'``), plus ``X | None`` (pass the string ``none``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
import types
import typing
from pathlib import Path
from typing import Any, Callable, TypeVar

from reproflow.errors import UserError
from reproflow.logs import setup_logging

C = TypeVar("C")
log = logging.getLogger(__name__)

_COMMON = ("log", "threads")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _scalar_parser(tp: Any, optional: bool) -> Callable[[str], Any]:
    def parse(s: str) -> Any:
        if optional and s.lower() in ("none", "null"):
            return None
        if tp is bool:
            if s.lower() in ("1", "true", "yes", "on"):
                return True
            if s.lower() in ("0", "false", "no", "off"):
                return False
            raise argparse.ArgumentTypeError(f"expected a boolean, got {s!r}")
        if tp is float and s.lower() in ("inf", "+inf", "-inf", "nan"):
            return float(s)
        return tp(s)

    parse.__name__ = getattr(tp, "__name__", "value")
    return parse


def build_parser(config_cls: type, description: str | None = None) -> argparse.ArgumentParser:
    """An argparse parser with one ``--flag`` per dataclass field plus ``--log``/``--threads``."""
    parser = argparse.ArgumentParser(description=description or (config_cls.__doc__ or "").strip())
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        tp, optional = _unwrap_optional(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata.get("help", "")}
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if has_default:
            kwargs["default"] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        else:
            kwargs["required"] = True
        origin = typing.get_origin(tp)
        if origin in (list, tuple):
            (inner, *_rest) = typing.get_args(tp) or (str,)
            inner, _ = _unwrap_optional(inner)
            kwargs["nargs"] = "+"
            kwargs["type"] = _scalar_parser(inner, optional=False)
        else:
            kwargs["type"] = _scalar_parser(tp, optional)
        parser.add_argument(flag, **kwargs)
    parser.add_argument("--log", dest="log", default=None, help="log file (the rule's log:)")
    parser.add_argument("--threads", dest="threads", type=int, default=1, help="torch threads")
    return parser


def parse_config(config_cls: type[C], argv: list[str] | None) -> tuple[C, argparse.Namespace]:
    """Parse ``argv`` into a frozen ``config_cls`` instance (lists become tuples)."""
    parser = build_parser(config_cls)
    ns = parser.parse_args(argv)
    hints = typing.get_type_hints(config_cls)
    values = {}
    for f in dataclasses.fields(config_cls):
        v = getattr(ns, f.name)
        tp, _ = _unwrap_optional(hints[f.name])
        if typing.get_origin(tp) is tuple and isinstance(v, list):
            v = tuple(v)
        if tp is Path and isinstance(v, str):
            v = Path(v)
        values[f.name] = v
    try:
        cfg = config_cls(**values)
    except (ValueError, UserError) as exc:
        parser.error(str(exc))
    return cfg, ns


def run_cli(config_cls: type[C], run: Callable[[C], None], argv: list[str] | None = None) -> int:
    """Parse, configure logging and threads, call ``run(config)``; map user errors to exit 2."""
    cfg, ns = parse_config(config_cls, argv)
    setup_logging(ns.log)
    from reproflow.device import configure_threads

    configure_threads(ns.threads)
    start = time.time()
    try:
        run(cfg)
    except UserError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; checkpoints (if any) are kept for resumption")
        return 130
    log.info("done in %.1fs", time.time() - start)
    return 0


def put_interpreter_on_path() -> None:
    """Put the running interpreter's folder first on PATH.

    Rules run ``python -m reproflow.cli.<rule>``; this makes ``python`` the interpreter that runs
    Snakemake (the project's .venv) even when the user's shell has another one first on PATH.
    """
    import os

    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p]])


def format_flags(**kwargs: Any) -> str:
    """Format keyword arguments as CLI flags for a rule's shell command.

    ``sw2_grid=[1, 2]`` -> ``--sw2-grid 1 2``; bools -> ``true/false``; None -> ``none``; values are
    shell-quoted. The inverse of :func:`build_parser`, so flags are never typed twice.
    """
    import shlex

    def fmt(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    parts = []
    for key, value in kwargs.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, (list, tuple)):
            if len(value) == 0:
                raise ValueError(f"empty list passed for {flag}")
            parts.append(f"{flag} " + " ".join(shlex.quote(fmt(v)) for v in value))
        else:
            parts.append(f"{flag} {shlex.quote(fmt(value))}")
    return " ".join(parts)


def main_entry(config_cls: type[C], run: Callable[[C], None]) -> Callable[[list[str] | None], int]:
    """Make a ``main(argv) -> int`` for a CLI module."""

    def main(argv: list[str] | None = None) -> int:
        return run_cli(config_cls, run, argv)

    return main


def exit_with(main: Callable[[list[str] | None], int]) -> None:
    sys.exit(main(None))
