"""Load, merge and validate the workflow config (params.yaml plus overlays).

The schema is split by phase: ``workflow/schemas/config.schema.yaml`` holds the top level and
references ``<phase>.schema.yaml`` files by name (``$ref: data.schema.yaml``); they are
inlined here before validation with JSON Schema draft 2020-12. A violation raises
:class:`~reproflow.errors.UserError` naming the offending key, e.g.
``config key 'attack.eps_grid[0]': -0.1 is less than the minimum of 0``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from reproflow.errors import UserError
from reproflow.vocab import enum_of


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge ``overlay`` into a copy of ``base`` (as Snakemake's --configfile does)."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: config file not found")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{p}: top level must be a mapping of keys to values")
    return data


def load_config(params: str | Path, *overlays: str | Path) -> dict[str, Any]:
    """params.yaml merged with each overlay in order."""
    cfg = load_yaml(params)
    for o in overlays:
        cfg = deep_merge(cfg, load_yaml(o))
    return cfg


def _inline_refs(node: Any, schema_dir: Path, seen: tuple[str, ...] = ()) -> Any:
    """Inline ``$ref: <file>`` and turn ``x-vocab: <selector>`` into the ``enum`` the vocabulary declares
    (:mod:`reproflow.vocab`: attack, defence, dataset and activation names are written there only)."""
    if isinstance(node, dict):
        if "x-vocab" in node:
            node = {**{k: v for k, v in node.items() if k != "x-vocab"}, "enum": enum_of(node["x-vocab"])}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.endswith((".yaml", ".yml", ".json")):
            if ref in seen:
                raise ValueError(f"circular schema reference {ref}")
            sub = load_yaml(schema_dir / ref)
            sub.pop("$schema", None)
            return _inline_refs(sub, schema_dir, seen + (ref,))
        return {k: _inline_refs(v, schema_dir, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, schema_dir, seen) for v in node]
    return node


def load_schema(schema_dir: str | Path) -> dict[str, Any]:
    """The full config schema with per-phase files inlined."""
    d = Path(schema_dir)
    return _inline_refs(load_yaml(d / "config.schema.yaml"), d)


def _key_path(path: Any) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def _describe(err: Any) -> tuple[str, str]:
    """(key, message) for one jsonschema error, naming unknown keys precisely."""
    key = _key_path(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        if extra:
            full = f"{key}.{extra[0]}" if key != "<top level>" else extra[0]
            allowed = ", ".join(sorted(err.schema.get("properties", {})))
            return full, f"unknown key (allowed here: {allowed})"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        if missing:
            full = f"{key}.{missing[0]}" if key != "<top level>" else missing[0]
            return full, "required key is missing"
    msg = err.message
    if err.validator == "minItems" and err.validator_value >= 1:
        msg = f"must be a non-empty list (got {err.instance!r})"
    return key, msg


def validate_config(cfg: dict[str, Any], schema_dir: str | Path) -> None:
    """Validate ``cfg`` against the schema; raise UserError naming the first bad key."""
    import jsonschema

    schema = load_schema(schema_dir)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (len(list(e.absolute_path)), _key_path(e.absolute_path)))
    if not errors:
        return
    best = jsonschema.exceptions.best_match(errors)
    key, msg = _describe(best)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise UserError(f"config key '{key}': {msg}{more}. Fix it in params.yaml or the --configfile overlay.")
