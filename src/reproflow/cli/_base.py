"""Build argparse parsers from frozen config dataclasses and run a CLI with clean errors.

Style rule: a parameter's value lives in params.yaml only. Dataclass fields therefore have no
defaults for values that come from params; the rule passes every one of them. Flags are
generated from the fields (``sw2_grid`` -> ``--sw2-grid``), never typed again by hand.

Supported field types: int, float, str, bool, Path, a ``Literal`` of strings, and list/tuple of those
(``nargs='+'``), plus ``X | None`` (pass the string ``none``). A field whose type is a settings
dataclass (:mod:`reproflow.settings.sections`) or a ``dict[str, ...]`` takes one JSON value: rules pass a
config subsection as ``--settings {params.settings:q}`` and the CLI gets the typed object back.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reproflow.checkpoint import set_job_fingerprint
from reproflow.errors import UserError
from reproflow.logs import setup_logging

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")  # a CLI's Config: a dataclass
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
        if typing.get_origin(tp) is typing.Literal:
            # a closed set of strings (the generated settings' enums, e.g. attack names)
            allowed = typing.get_args(tp)
            if s not in allowed:
                raise argparse.ArgumentTypeError(f"{s!r} is not one of {', '.join(map(str, allowed))}")
            return s
        return tp(s)

    parse.__name__ = getattr(tp, "__name__", "value")
    return parse


def _is_json_type(tp: Any) -> bool:
    """Settings dataclasses, mappings and lists of either travel as one JSON value."""
    if dataclasses.is_dataclass(tp) or typing.get_origin(tp) is dict:
        return True
    if typing.get_origin(tp) in (list, tuple):
        args = typing.get_args(tp)
        return bool(args) and (dataclasses.is_dataclass(args[0]) or typing.get_origin(args[0]) is dict)
    return False


def _json_parser(tp: Any, flag: str, optional: bool) -> Callable[[str], Any]:
    from reproflow import settings

    def parse(s: str) -> Any:
        if optional and s.lower() in ("none", "null"):
            return None
        try:
            value = json.loads(s)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"{flag} takes JSON: {exc}") from None
        try:
            return settings.load(tp, value)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "JSON"
    return parse


def build_parser(config_cls: type, description: str | None = None) -> argparse.ArgumentParser:
    """An argparse parser with one ``--flag`` per dataclass field plus ``--log``/``--threads``."""
    parser = argparse.ArgumentParser(description=description or (config_cls.__doc__ or "").strip())
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        tp, optional = _unwrap_optional(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata.get("help", "")}
        if f.default is not dataclasses.MISSING:
            kwargs["default"] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            kwargs["default"] = f.default_factory()
        else:
            kwargs["required"] = True
        if _is_json_type(tp):
            kwargs["type"] = _json_parser(tp, flag, optional)
        elif typing.get_origin(tp) in (list, tuple):
            # items are converted in parse_config, where an optional list's lone "none" means None
            kwargs["nargs"] = "+"
            kwargs["type"] = str
            if optional:
                kwargs["help"] = (kwargs["help"] + " (or none)").strip()
        else:
            kwargs["type"] = _scalar_parser(tp, optional)
        parser.add_argument(flag, **kwargs)
    parser.add_argument("--log", dest="log", default=None, help="log file (the rule's log:)")
    parser.add_argument("--threads", dest="threads", type=int, default=1, help="torch threads")
    return parser


def _list_value(tp: Any, optional: bool, raw: list[str]) -> Any:
    if optional and len(raw) == 1 and raw[0].lower() in ("none", "null"):
        return None
    (inner, *_rest) = typing.get_args(tp) or (str,)
    parse = _scalar_parser(_unwrap_optional(inner)[0], optional=False)
    items = [parse(x) for x in raw]
    return tuple(items) if typing.get_origin(tp) is tuple else items


def parse_config(config_cls: type[C], argv: list[str] | None) -> tuple[C, argparse.Namespace]:
    """Parse ``argv`` into a frozen ``config_cls`` instance (lists become tuples)."""
    parser = build_parser(config_cls)
    ns = parser.parse_args(argv)
    hints = typing.get_type_hints(config_cls)
    values = {}
    for f in dataclasses.fields(config_cls):
        v = getattr(ns, f.name)
        tp, optional = _unwrap_optional(hints[f.name])
        if typing.get_origin(tp) in (list, tuple) and isinstance(v, list):
            try:
                v = _list_value(tp, optional, v)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                parser.error(f"--{f.name.replace('_', '-')}: {exc}")
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
    set_job_fingerprint(job_fingerprint(cfg, run))
    start = time.time()
    try:
        run(cfg)
    except UserError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; checkpoints (if any) are kept for resumption")
        return 130
    finally:
        record_modules(cli_module(run))
    # the process's own CPU time, imports included: Snakemake's benchmark samples CPU every 30 s after a job's
    # first 30 s, so its cpu_time misses up to 30 s at the end of each job (benchmark_table.py reads this line)
    log.info("done in %.1fs (%.1f CPU-s in all)", time.time() - start, time.process_time())
    return 0


MODULES_ENV = "REPROFLOW_RECORD_MODULES"


def record_modules(cli: str) -> None:
    """With ``$REPROFLOW_RECORD_MODULES`` set to a folder, write the ``reproflow`` modules this job imported
    (one a line) to ``<folder>/<cli>.<pid>.txt``: the end-to-end test checks that each rule's code digest
    (:mod:`reproflow.deps`) covers what its jobs really ran. Unset (every real run), it does nothing."""
    import os

    folder = os.environ.get(MODULES_ENV)
    if not folder:
        return
    names = sorted(m for m in sys.modules if m == "reproflow" or m.startswith("reproflow."))
    Path(folder).mkdir(parents=True, exist_ok=True)
    Path(folder, f"{cli}.{os.getpid()}.txt").write_text("\n".join(names) + "\n")


def cli_module(run: Callable[..., Any]) -> str:
    """Dotted name of the CLI module that defines ``run`` (also under ``python -m``, where it is __main__)."""
    mod = sys.modules.get(run.__module__)
    spec = getattr(mod, "__spec__", None)
    return spec.name if spec is not None else run.__module__


def job_fingerprint(cfg: Any, run: Callable[..., Any]) -> str:
    """Settings + code of one job: the digest of its parsed config and of its CLI's import closure."""
    from reproflow import settings
    from reproflow.deps import code_digest

    return settings.digest({"config": cfg, "code": code_digest(cli_module(run))})


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

    ``sw2_grid=[1, 2]`` -> ``--sw2-grid 1 2``; bools -> ``true/false``; None -> ``none``; a mapping or a
    settings dataclass -> one canonical JSON value; values are shell-quoted. The inverse of
    :func:`build_parser`, so flags are never typed twice.
    """
    import shlex

    from reproflow.settings import to_json

    def fmt(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    parts = []
    for key, value in kwargs.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, dict) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
            parts.append(f"{flag} {shlex.quote(to_json(value))}")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
            parts.append(f"{flag} {shlex.quote(to_json(list(value)))}")
        elif isinstance(value, (list, tuple)):
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


def check_paired(**lists: Sequence[Any]) -> None:
    """A CLI that handles several items per job takes one list flag per field, paired by position: raise
    ValueError (a usage error) unless they have the same length and the first names no item twice."""
    lengths = [len(v) for v in lists.values()]
    if len(set(lengths)) > 1:
        names = ", ".join("--" + k.replace("_", "-") for k in lists)
        raise ValueError(f"{names} must pair up, got {', '.join(map(str, lengths))} values")
    first, items = next(iter(lists.items()))
    if len(set(items)) != len(items):
        raise ValueError(f"--{first.replace('_', '-')} repeats an item: {' '.join(map(str, items))}")


def exit_with(main: Callable[[list[str] | None], int]) -> None:
    sys.exit(main(None))


@dataclasses.dataclass(frozen=True, kw_only=True)
class FigureJob:
    """The fields every plotting CLI's config shares: the figure style (params.yaml ``figures.style``),
    applied before drawing, and the PNG written (its PDF twin beside it)."""

    style: Path
    output: Path
