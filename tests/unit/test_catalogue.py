"""The output catalogue (reproflow.catalogue): paths declared once, and the rules files that read them from it."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

from reproflow import catalogue
from reproflow.catalogue import FILES, Catalogue

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "workflow" / "rules"
# what Snakemake itself puts in a Snakefile's namespace
SNAKEMAKE_GLOBALS = {"config", "workflow", "rules", "expand", "checkpoints"}


def test_a_path_keeps_the_wildcards_it_is_not_given() -> None:
    out = Catalogue("results/x")
    assert out.attack.path("metrics_job") == "results/x/attack/dataset~{dataset}/seed~{seed}/metrics.csv"
    assert out.attack.path("metrics_job", seed=3) == "results/x/attack/dataset~{dataset}/seed~3/metrics.csv"
    assert out.meanfield.path("phase_diagram") == "results/x/meanfield/phase_diagram.csv"
    # a value holding a wildcard stays a wildcard (the rules' generator{learned})
    assert out.pretrain.path("model", model="generator{learned}").endswith("/seed~{seed}/generator{learned}.pt")


def test_expand_is_the_product_over_each_templates_own_wildcards() -> None:
    out = Catalogue("r")
    paths = out.attack.expand(["metrics_job", "t1"], dataset=["a", "b"], seed=[0, 1])
    assert paths == ["r/attack/dataset~a/seed~0/metrics.csv", "r/attack/dataset~a/seed~1/metrics.csv",
                     "r/attack/dataset~b/seed~0/metrics.csv", "r/attack/dataset~b/seed~1/metrics.csv",
                     "r/attack/claims/T1.csv"]
    with pytest.raises(KeyError, match="needs values for"):
        out.attack.expand(["metrics_job"], dataset=["a"])
    with pytest.raises(KeyError, match="no output"):
        out.attack.path("no_such_output")


def test_no_two_outputs_share_a_path() -> None:
    paths = [f"{phase}/{t}" for phase, files in FILES.items() for t in files.values()]
    assert len(paths) == len(set(paths))


def test_the_report_tables_name_catalogued_outputs_without_wildcards() -> None:
    for table in (catalogue.REPORT_TABLES, catalogue.RESULT_TABLES):
        for phase, name in table.values():
            assert name in FILES[phase], (phase, name)
            assert not catalogue.wildcards_of(FILES[phase][name]), (phase, name)


def _reads_and_defines(tree: ast.AST) -> tuple[set[str], set[str]]:
    defined = set(dir(builtins)) | SNAKEMAKE_GLOBALS
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            defined.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            defined.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.arg):
            defined.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            defined.add(n.name)
    reads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return reads, defined


def test_common_smk_reads_only_what_it_defines() -> None:
    """common.smk is plain Python (no rules): it must not lean on globals that later includes define."""
    reads, defined = _reads_and_defines(ast.parse((RULES / "common.smk").read_text()))
    assert not reads - defined, f"common.smk reads globals it does not define: {sorted(reads - defined)}"


def test_the_rules_files_type_no_result_path() -> None:
    """Result paths come from the catalogue (OUT); the rules compose only logs, benchmarks and checkpoints."""
    allowed = re.compile(r'f"\{R\}/(logs|benchmarks|checkpoints)/')
    offenders = [f"{smk.name}:{i}: {line.strip()}"
                 for smk in sorted(RULES.glob("*.smk"))
                 for i, line in enumerate(smk.read_text().splitlines(), 1)
                 if not line.lstrip().startswith("#") and re.search(r'\{R\}/', line) and not allowed.search(line)]
    assert not offenders, "\n".join(offenders)
