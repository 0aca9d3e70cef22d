"""What a job's code depends on: the reproflow modules a CLI imports, found by reading their imports.

A rule's job runs ``python -m reproflow.cli.<rule>``; its results depend on that module and on every
reproflow module it imports, directly or through others, at module level or inside functions. Snakemake
gets :func:`code_digest` as a rule param (so editing any of those files re-runs the rule's jobs: the
params trigger), and dvc.yaml's stage deps are generated from :func:`module_files` (so ``dvc status``
sees the same edits). Reading the imports with :mod:`ast` costs milliseconds and imports nothing.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "reproflow"
SRC = Path(__file__).resolve().parent.parent  # .../src


def _module_path(name: str) -> Path | None:
    rel = Path(*name.split("."))
    for cand in (SRC / rel.with_suffix(".py"), SRC / rel / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _from_module(name: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    """The absolute module ``from ... import`` in module ``name`` (a package when ``is_pkg``) imports from."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@functools.cache
def _direct_imports(name: str) -> frozenset[str]:
    path = _module_path(name)
    if path is None:
        return frozenset()
    is_pkg = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = _from_module(name, is_pkg, node)
            found.add(mod)
            # `from pkg import sub` may name a submodule
            found.update(f"{mod}.{a.name}" for a in node.names)
    return frozenset(m for m in found if m == PACKAGE or m.startswith(PACKAGE + "."))


@functools.cache
def module_closure(name: str) -> tuple[str, ...]:
    """Every reproflow module (with its parent packages) that importing ``name`` can run, sorted."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        mod = todo.pop()
        if mod in seen or _module_path(mod) is None:
            continue
        seen.add(mod)
        todo.extend(_parents(mod))
        todo.extend(_direct_imports(mod))
    return tuple(sorted(seen))


def module_files(name: str) -> list[Path]:
    """Source files of :func:`module_closure` (absolute paths)."""
    return [p for p in (_module_path(m) for m in module_closure(name)) if p is not None]


@functools.cache
def _file_digest(path: Path) -> bytes:
    """Each file's bytes are hashed once per process, however many CLIs import it."""
    return hashlib.sha256(str(path.relative_to(SRC)).encode() + b"\0" + path.read_bytes()).digest()


# The generated settings dataclasses, one per params.yaml (sub)section: every CLI imports a few of them, so a new key
# in any section would otherwise change every rule's digest and re-run every job of every scale. A closure that only
# names classes of it (``from reproflow.settings.sections import A, B``) is digested over those classes' source (and
# the classes their fields name), not over the file; the values a job reads are Snakemake params of their own.
SECTIONS = f"{PACKAGE}.settings.sections"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks: names imported there do not exist
    when the code runs, so their classes cannot change what it computes."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


@functools.cache
def _imported_names(name: str, target: str) -> frozenset[str] | None:
    """Names module ``name`` imports from ``target`` with ``from target import ...`` outside ``if TYPE_CHECKING:``
    blocks; None when it takes the module itself (``import target``, ``from parent import leaf``), where any
    attribute may be read."""
    path = _module_path(name)
    if path is None:
        return frozenset()
    is_pkg = path.name == "__init__.py"
    parent, leaf = target.rsplit(".", 1)
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(a.name == target for a in node.names):
            return None
        if isinstance(node, ast.ImportFrom):
            mod = _from_module(name, is_pkg, node)
            if mod == target:
                names.update(a.name for a in node.names)
            elif mod == parent and any(a.name == leaf for a in node.names):
                return None
    return frozenset(names)


@functools.cache
def _class_sources(path: Path) -> tuple[dict[str, str], dict[str, frozenset[str]], str]:
    """Per class of a module: its source and the module's other classes it names; and the module's code outside
    its classes without ``__all__`` (its imports), which every used class depends on."""
    text = path.read_text()
    tree = ast.parse(text, filename=str(path))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    src = {k: ast.get_source_segment(text, n) or "" for k, n in classes.items()}
    refs = {k: frozenset(x.id for x in ast.walk(n) if isinstance(x, ast.Name) and x.id in classes and x.id != k)
            for k, n in classes.items()}
    rest = [ast.get_source_segment(text, n) or "" for n in tree.body if not isinstance(n, ast.ClassDef)
            and not (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets))]
    return src, refs, "\n".join(rest)


def _sections_digest(path: Path, used: frozenset[str]) -> bytes:
    """Digest of the classes ``used`` (and those their fields name) of the generated sections module."""
    src, refs, rest = _class_sources(path)
    todo, seen = [n for n in used if n in src], set()
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(refs[n])
    h = hashlib.sha256(str(path.relative_to(SRC)).encode() + b"\0" + rest.encode())
    for n in sorted(seen):
        h.update(b"\0" + src[n].encode())
    return h.digest()


@functools.cache
def code_digest(name: str) -> str:
    """SHA-256 (16 hex digits) over the path and bytes of every file of ``name``'s import closure; the generated
    sections module counts only with the classes the closure imports from it (:data:`SECTIONS`)."""
    imported = [_imported_names(mod, SECTIONS) for mod in module_closure(name)]
    used = None if any(got is None for got in imported) else frozenset().union(*(g for g in imported if g is not None))
    sections_path = _module_path(SECTIONS)
    h = hashlib.sha256()
    for path in sorted(module_files(name)):
        if path == sections_path and used is not None:
            h.update(_sections_digest(path, used))
        else:
            h.update(_file_digest(path))
    return h.hexdigest()[:16]


def cli_digest(rule: str) -> str:
    """:func:`code_digest` of ``reproflow.cli.<rule>``."""
    return code_digest(f"{PACKAGE}.cli.{rule}")
