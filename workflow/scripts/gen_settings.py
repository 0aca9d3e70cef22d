"""Generate src/reproflow/settings/sections.py (typed settings dataclasses) from workflow/schemas/.

The schema is the one place where a key's name, type, bounds and description are written (its
value lives in params.yaml); the dataclasses that CLIs and the library receive are generated from it,
so the two cannot drift. Run after editing a schema:

    .venv/bin/python workflow/scripts/gen_settings.py          # rewrite sections.py
    .venv/bin/python workflow/scripts/gen_settings.py --check  # exit 1 if sections.py is stale (a test runs this)

Naming: a nested object at ``attack.pgd`` becomes ``AttackPgd``; a per-dataset map (``propertyNames``
+ ``additionalProperties``) becomes ``dict[str, <Class>]``; list items that are objects become
``<Parent><Key>Item``; a schema node may override the class name with ``title``. An object's properties marked
``x-group: <group>`` (or a list of groups: a key several jobs read) also form a class ``<Parent><Group>`` of those
fields alone, in schema order (the group is declared, with its description, in the object's ``x-groups``): the typed
settings of code that reads several keys of a section but not all of it (``AttackSuite``, ``MeanfieldTheory``), so no
hand-written mirror repeats them, and a job records only the values it reads (an edit re-runs only its readers).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))  # noqa: E402 - run as a plain script from the repo root

from reproflow.config import load_schema  # noqa: E402
from reproflow.io import generated_main  # noqa: E402

OUT = ROOT / "src" / "reproflow" / "settings" / "sections.py"
SECTION_CLASS = "Section"


def camel(parts: list[str]) -> str:
    return "".join(p.replace("_", " ").title().replace(" ", "") for p in parts)


class Gen:
    def __init__(self) -> None:
        self.classes: list[str] = []
        self.names: set[str] = set()

    def type_of(self, node: dict, path: list[str]) -> str:
        types = node.get("type")
        nullable = isinstance(types, list) and "null" in types
        if isinstance(types, list):
            rest = [t for t in types if t != "null"]
            types = rest[0] if len(rest) == 1 else None
        if "enum" in node and types in ("string", None):
            py = "Literal[" + ", ".join(repr(v) for v in node["enum"]) + "]"
        elif types == "integer":
            py = "int"
        elif types == "number":
            py = "float"
        elif types == "string":
            py = "str"
        elif types == "boolean":
            py = "bool"
        elif types == "array":
            py = f"tuple[{self.type_of(node.get('items', {}), path + ['item'])}, ...]"
        elif types == "object" and "properties" in node:
            py = self.dataclass(node, path)
        elif types == "object" and isinstance(node.get("additionalProperties"), dict):
            py = f"dict[str, {self.type_of(node['additionalProperties'], path)}]"
        else:
            py = "Any"
        return f"{py} | None" if nullable else py

    def dataclass(self, node: dict, path: list[str]) -> str:
        name = node.get("title") or camel([p for p in path if p != "item"] + (["Item"] if path and path[-1] == "item" else []))
        if name in self.names:
            return name
        self.names.add(name)
        lines = ["@dataclass(frozen=True)", f"class {name}:"]
        desc = " ".join(str(node.get("description", "")).split())
        lines.append(f'    """{desc or "Settings at " + ".".join(path) + "."}"""')
        lines.append("")
        groups: dict[str, list[str]] = {g: [] for g in node.get("x-groups", {})}
        for key, sub in node["properties"].items():
            tp = self.type_of(sub, path + [key])
            d = " ".join(str(sub.get("description", "")).split())
            field = f"    {key}: {tp}" + (f"  # {d}" if d else "")
            lines.append(field)
            member = sub.get("x-group", [])
            for group in [member] if isinstance(member, str) else member:
                if group not in groups:
                    raise SystemExit(f"{'.'.join(path + [key])}: x-group {group!r} is not declared in x-groups")
                groups[group].append(field)
        self.classes.append("\n".join(lines))
        for group, fields in groups.items():
            gname = name + camel([group])
            self.names.add(gname)
            gdesc = " ".join(str(node["x-groups"][group]).split())
            self.classes.append("\n".join(["@dataclass(frozen=True)", f"class {gname}:", f'    """{gdesc}"""', "", *fields]))
        return name


def generate() -> str:
    schema = load_schema(ROOT / "workflow" / "schemas")
    schema = dict(schema, title=SECTION_CLASS)
    g = Gen()
    g.dataclass(schema, [])
    head = (
        '"""Typed settings, one dataclass per params.yaml (sub)section: GENERATED from workflow/schemas/ by\n'
        "workflow/scripts/gen_settings.py. Do not edit; edit the schema and re-run the generator.\n\n"
        "Build them from plain config values with :func:`reproflow.settings.load`.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n\n"
        "from dataclasses import dataclass\n"
        "from typing import Any, Literal\n\n"
        "__all__ = [" + ", ".join(repr(n) for n in sorted(g.names)) + "]\n"
    )
    return head + "\n\n" + "\n\n\n".join(g.classes) + "\n"


if __name__ == "__main__":
    raise SystemExit(generated_main(__doc__, OUT, generate, "python workflow/scripts/gen_settings.py"))
