"""dvc repro at the tiny scale reproduces, is clean after, and re-runs only what a change touches."""

from __future__ import annotations

import sys

import pytest
import yaml

from tests.e2e.helpers import copy_repo, run

pytestmark = pytest.mark.e2e


def _dvc(args, work, tmp):
    return run([sys.executable, "-m", "dvc", *args], work, tmp)


def test_dvc_repro_tiny(tmp_path):
    work = copy_repo(tmp_path / "repo")
    params = yaml.safe_load((work / "params.yaml").read_text())
    tiny = yaml.safe_load((work / "config" / "tiny.yaml").read_text())
    from reproflow.config import deep_merge

    merged = deep_merge(params, tiny)
    merged["results_root"] = "results"  # DVC tracks results/<phase>
    (work / "params.yaml").write_text(yaml.safe_dump(merged, sort_keys=False))
    run(["git", "init", "-q"], work, tmp_path)

    _dvc(["repro"], work, tmp_path)
    status = _dvc(["status"], work, tmp_path)
    assert "up to date" in status.stdout.lower(), status.stdout
    again = _dvc(["repro"], work, tmp_path)
    assert "Running stage" not in again.stdout, again.stdout

    merged["data"]["seed"] = merged["data"]["seed"] + 1
    (work / "params.yaml").write_text(yaml.safe_dump(merged, sort_keys=False))
    st = _dvc(["status", "data"], work, tmp_path)
    assert "changed" in st.stdout and "data" in st.stdout, st.stdout
    res = _dvc(["repro", "data"], work, tmp_path)
    assert "Running stage 'data'" in res.stdout, res.stdout
    assert "up to date" in _dvc(["status", "data"], work, tmp_path).stdout.lower()
