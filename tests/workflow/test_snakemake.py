"""Static checks of the workflow: lint, and dry-runs of every target at every scale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCALES = {"paper": [], "quick": ["--configfile", "config/quick.yaml"], "tiny": ["--configfile", "config/tiny.yaml"]}
TARGETS = ["all", "data_all", "pretrain_all", "attack_all", "advtrain_all", "meanfield_all", "depth_sweep_all", "report_all",
           "figures_all"]


def _snakemake(args, tmp_path, cwd=REPO):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_lint_is_clean(tmp_path):
    res = _snakemake(["--lint"], tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert "Lints for" not in out, out[-4000:]


@pytest.mark.parametrize("scale", list(SCALES))
def test_dry_run_every_target(scale, tmp_path):
    res = _snakemake([*TARGETS, "-n", "--nolock", "--quiet", "rules", *SCALES[scale]], tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    # the top-level Snakefile is the entry point, and the default profile (workflow/profiles/default) is loaded
    assert "workflow specific profile profiles/default" in res.stdout + res.stderr, (res.stdout + res.stderr)[:2000]
    assert (REPO / "profiles" / "default").resolve() == REPO / "workflow" / "profiles" / "default"


def test_paper_scale_lists_every_data_job(tmp_path):
    import yaml

    res = _snakemake(["data_all", "-n", "--nolock", "--quiet", "rules", "--forceall"], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    datasets = yaml.safe_load((REPO / "params.yaml").read_text())["data"]["datasets"]
    out = res.stdout + res.stderr
    # one prepare job and one plot job per dataset of the paper config
    for rule in ("prepare_dataset", "plot_dataset_samples"):
        line = next(l for l in out.splitlines() if l.strip().startswith(rule))
        assert int(line.split()[-1]) == len(datasets), line


@pytest.mark.parametrize("train_jobs", ["per_defence", "per_seed"])
def test_train_defence_job_sizing(train_jobs, tmp_path):
    """advtrain.train_jobs sizes the defence training jobs: one per (dataset, defence, seed) or one per (dataset, seed)
    writing every defence's files; the same files either way."""
    import yaml

    overlay = tmp_path / "jobs.yaml"
    overlay.write_text(yaml.safe_dump({"advtrain": {"train_jobs": train_jobs}}))
    res = _snakemake(["advtrain_all", "-n", "--nolock", "--forceall", "--configfile", "config/quick.yaml", str(overlay)],
                     tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    quick = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    n_seeds = len(quick["advtrain"].get("seeds") or quick["pretrain"]["seeds"])  # advtrain.seeds: null = every pretrain seed
    n_defences = len(yaml.safe_load((REPO / "params.yaml").read_text())["advtrain"]["defences"])
    line = next(l for l in out.splitlines() if l.strip().startswith("train_defence "))
    assert int(line.split()[-1]) == (n_seeds * n_defences if train_jobs == "per_defence" else n_seeds), line
    outputs = {p for l in out.splitlines() if l.strip().startswith("output:") for p in l.split(":", 1)[1].split(", ")
               if p.strip().endswith("/classifier.pt") and "/advtrain/" in p}
    assert len(outputs) == n_seeds * n_defences
