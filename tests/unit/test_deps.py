"""The import reader (reproflow.deps) behind the rules' code digests and dvc.yaml's deps: every module a job
can run is inside its rule's closure, and every module of the package is run by some rule or named here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from reproflow import deps

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"

# Modules no rule's job imports, each with the reason it still belongs in src/ (a new entry needs one).
NOT_RUN_BY_A_JOB = {
    # read by the workflow itself while it parses (common.smk: schema validation) and by the generators in
    # workflow/scripts; its effect reaches jobs as params values (reproflow.settings.derived is run by the CLIs, which
    # derive their per-dataset values from the typed sections, so their digests hold it)
    "reproflow.config": "the Snakefile's config validation",
    # its effect reaches jobs as their input and output paths, which Snakemake tracks as files
    "reproflow.catalogue": "the outputs the rules, the targets, the report tables and dvc.yaml name",
}


def rules_with_code() -> dict[str, str]:
    """Rule name -> the CLI whose digest the rule records (``code=code_of("<cli>")``)."""
    out = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"^rule ", text, flags=re.M)[1:]:
            name = block.split(":", 1)[0].strip()
            m = re.search(r'code=code_of\("(\w+)"\)', block)
            if m:
                out[name] = m.group(1)
    return out


def every_module() -> set[str]:
    names = set()
    for p in (SRC / "reproflow").rglob("*.py"):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_is_run_by_some_rule_or_named():
    covered = set()
    for cli in set(rules_with_code().values()):
        covered |= set(deps.module_closure(f"reproflow.cli.{cli}"))
    missing = every_module() - covered - set(NOT_RUN_BY_A_JOB)
    assert not missing, f"in no rule's code digest and not named in NOT_RUN_BY_A_JOB: {sorted(missing)}"
    stale = set(NOT_RUN_BY_A_JOB) & covered
    assert not stale, f"named as run by no job, but a rule's closure holds them: {sorted(stale)}"


def test_every_cli_module_has_its_rule():
    clis = {n.rsplit(".", 1)[1] for n in every_module() if n.startswith("reproflow.cli.") and "._" not in n}
    assert clis == set(rules_with_code().values())


def test_the_defence_training_loop_is_in_train_defences_closure():
    """The case the lazy package exports hid (issue 23): `defences/train.py` ran but no digest held it."""
    closure = deps.module_closure("reproflow.cli.train_defence")
    assert {"reproflow.defences.train", "reproflow.defences.refresh", "reproflow.defences.pgd_at"} <= set(closure)
    assert "reproflow.defences.refresh" in deps.module_closure("reproflow.cli.evaluate_defence")


def test_package_inits_export_nothing_lazily():
    """A PEP 562 ``__getattr__`` loads modules the import reader cannot see: no package may define one."""
    for init in (SRC / "reproflow").rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "__getattr__" not in names, init
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
                raise AssertionError(f"{init} imports modules by name")
