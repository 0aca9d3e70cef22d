"""The settings contract between params.yaml, the rules, the CLIs and the library.

Each params.yaml (sub)section has one frozen dataclass in :mod:`reproflow.settings.sections`, generated
from the schema (``workflow/scripts/gen_settings.py``), so a key is written once in params.yaml (its value)
and once in the schema (its name, type, bounds and description). A rule hands a job the plain values of
the subsection it needs (``params: settings=...``, which Snakemake records, so editing a value re-runs
exactly the jobs that read it); the CLI turns them back into the dataclass with :func:`load`.

    >>> from reproflow.settings import load, sections
    >>> load(sections.AttackPgd, {"steps": 20, "step_factor": 2.5, "restarts": 1}).steps
    20
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

from reproflow.errors import UserError

T = TypeVar("T")


def _fail(key: str, msg: str) -> UserError:
    return UserError(f"settings key '{key or '<top level>'}': {msg}")


def _load(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _load(inner[0], value, key)
        raise _fail(key, f"unsupported union type {tp}")
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise _fail(key, f"{value!r} is not one of {list(allowed)}")
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _fail(key, f"expected a mapping, got {type(value).__name__}")
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        extra = sorted(set(value) - set(names))
        if extra:
            raise _fail(f"{key}.{extra[0]}" if key else extra[0], f"unknown key (allowed: {', '.join(names)})")
        out = {}
        for f in dataclasses.fields(tp):
            sub = f"{key}.{f.name}" if key else f.name
            if f.name not in value:
                if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                    continue
                raise _fail(sub, "required key is missing")
            out[f.name] = _load(hints[f.name], value[f.name], sub)
        return tp(**out)
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(key, f"expected a mapping, got {type(value).__name__}")
        _, vt = typing.get_args(tp)
        return {str(k): _load(vt, v, f"{key}.{k}") for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _fail(key, f"expected a list, got {type(value).__name__}")
        (inner, *_rest) = typing.get_args(tp) or (Any,)
        items = [_load(inner, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(key, f"expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, f"expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(key, f"expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _fail(key, f"expected a string, got {value!r}")
        return value
    if tp is Path:
        return Path(value)
    raise _fail(key, f"unsupported settings type {tp}")


def load(cls: type[T], value: Any, key: str = "") -> T:
    """Build ``cls`` (a settings dataclass, or ``dict[str, X]``, ``tuple[X, ...]``...) from plain values.

    Unknown, missing and mistyped keys raise :class:`UserError` naming the dotted key.
    """
    return _load(cls, value, key)


def group(cls: type[T], section: Any) -> T:
    """The part of ``section`` a generated group class holds (a schema's ``x-group``, e.g. ``DataPrepare`` of
    ``Data``): the same values under the same names, so a rule hands a job exactly the keys it reads.

        >>> from reproflow.settings import sections
        >>> s = load(sections.AttackPgd, {"steps": 20, "step_factor": 2.5, "restarts": 1})
        >>> group(sections.AttackPgd, s) == s
        True
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a settings dataclass")
    return cls(**{f.name: getattr(section, f.name) for f in dataclasses.fields(cls)})


def dump(obj: Any) -> Any:
    """Plain JSON-able values of a settings object (dataclasses -> dicts, tuples -> lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: dump(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): dump(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [dump(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(obj: Any) -> str:
    """Canonical one-line JSON (sorted keys): the form rules hand to CLIs and fingerprints hash."""
    return json.dumps(dump(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def digest(obj: Any) -> str:
    """Short SHA-256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(to_json(obj).encode()).hexdigest()[:16]
