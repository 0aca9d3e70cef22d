"""The whole DAG of both papers at the tiny scale, then the Snakemake HTML report."""

from __future__ import annotations

import sys
import zipfile

import pytest

from tests.e2e.helpers import copy_repo, run

pytestmark = pytest.mark.e2e


def test_tiny_dag_end_to_end_and_report(tmp_path):
    work = copy_repo(tmp_path / "repo")
    run([sys.executable, "-m", "snakemake", "all", "--cores", "2", "--configfile", "config/tiny.yaml"], work, tmp_path)
    root = work / "results" / "tiny"
    pngs = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert any(p.startswith("data/") for p in pngs), pngs
    for png in root.rglob("*.png"):
        assert png.with_suffix(".pdf").exists(), f"{png} has no PDF twin"
        assert png.with_name(png.name).stat().st_size > 1000
    # every finished output has its run sidecar (seed, versions, device)
    assert list(root.rglob("*.run.json"))
    # the summary gives every claim of both papers a computed verdict
    import pandas as pd

    summary = pd.read_csv(root / "report" / "summary.csv")
    assert len(summary) >= 7
    assert set(summary["verdict"]) <= {"holds", "fails", "inconclusive", "not run"}
    assert (root / "report" / "summary.md").exists()
    for table in ("attack/claims/T1.csv", "advtrain/claims/T2.csv", "meanfield/phase_diagram.csv"):
        assert (root / table).exists(), table
    # nothing left to do: a second invocation is a no-op
    res = run([sys.executable, "-m", "snakemake", "all", "--cores", "2", "--configfile", "config/tiny.yaml", "-n"], work, tmp_path)
    assert "Nothing to be done" in res.stdout + res.stderr
    report = work / "report.zip"
    run([sys.executable, "-m", "snakemake", "all", "--cores", "1", "--configfile", "config/tiny.yaml", "--report", str(report)], work, tmp_path)
    with zipfile.ZipFile(report) as z:
        names = z.namelist()
    assert any(n.endswith("report.html") for n in names), names[:20]
    assert any("samples.png" in n for n in names), names[:50]
