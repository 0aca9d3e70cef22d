"""workflow/scripts/slurm_resources.py: the SLURM profile's per-job runtime and mem_mb come from measured costs."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import yaml
from snakemake.iocontainers import Wildcards
from snakemake.resources import Resources

from reproflow.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "workflow" / "scripts" / "slurm_resources.py"
spec = importlib.util.spec_from_file_location("slurm_resources", SCRIPT)
assert spec and spec.loader
sr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sr)


def test_profile_is_in_sync_with_the_measured_costs():
    res = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_check_fails_when_the_profile_was_edited(tmp_path, monkeypatch):
    edited = tmp_path / "config.yaml"
    edited.write_text(sr.PROFILE.read_text().replace("runtime: \"", "runtime: \"1 + ", 1))
    monkeypatch.setattr(sr, "PROFILE", edited)
    assert sr.main(["--check"]) == 1


def _evaluate(expr: str, **wildcards: str) -> int:
    """The value Snakemake gives a job with these wildcards, read through Snakemake's own --set-resources parser
    (``runtime`` goes through its time-span parser first)."""
    res = Resources.parse([f"runtime={expr}"], allow_expressions=True)["runtime"]
    return int(res.evaluate(wildcards=Wildcards(fromdict=wildcards), input=None, attempt=1, threads=1, rulename="r",
                            async_run=None).value)


def test_every_paper_job_gets_a_request_and_measured_jobs_are_keyed():
    prof = yaml.safe_load(sr.PROFILE.read_text())["set-resources"]
    paper = load_config(ROOT / "params.yaml")
    measured: dict[str, set[str]] = {}
    for row in sr.read_tsv(sr.JOB_COSTS):
        if row["scale"] == "smoke" and row["rule"] in sr.MODELLED:
            wc = sr.parse_job(row["rule"], row["job"])
            measured.setdefault(row["rule"], set()).add("/".join(wc[k] for k in sr.MODELLED[row["rule"]]))
    assert {"train_classifier", "train_defence", "evaluate_attacks"} <= set(measured), measured.keys()
    for rule in [*sr.MODELLED, "retrain_depth_cell"]:
        assert "REPROFLOW_SLURM_GPU_PARTITION" in prof[rule]["slurm_partition"], rule  # still on the GPU partition
        source = "train_depth_cell" if rule == "retrain_depth_cell" else rule
        assert ("runtime" in prof[rule]) == (source in measured), rule
    for rule, keys in measured.items():
        for key in keys:  # every measured job kind has its own value, not the fallback
            assert f"('{key}', " in prof[rule]["runtime"] and f"('{key}', " in prof[rule]["mem_mb"], (rule, key)
    for d in paper["pretrain"]["datasets"]:  # every paper job evaluates (unmeasured kinds: the rule's largest value)
        for rule in set(measured) - {"train_defence", "train_depth_cell"}:
            assert _evaluate(prof[rule]["runtime"], dataset=d) >= sr.FLOOR_MIN + 1
            assert _evaluate(prof[rule]["mem_mb"], dataset=d) >= 2000
        for defence in paper["advtrain"]["defences"]:
            assert _evaluate(prof["train_defence"]["runtime"], dataset=d, defence=defence) >= sr.FLOOR_MIN + 1
    # CelebA (162 770 images of 64 px through ResNet-18) asks for more memory than MNIST-ROT (LeNet-5), and SPA-AT's
    # inner attack makes its job longer than standard training's on the same data
    both = {"celeba", "mnist_rot"} <= measured["train_classifier"]
    assert not both or _evaluate(prof["train_classifier"]["mem_mb"], dataset="celeba") > _evaluate(
        prof["train_classifier"]["mem_mb"], dataset="mnist_rot")
    defence = prof["train_defence"]["runtime"]
    assert {"celeba/spa_at", "celeba/standard"} <= measured["train_defence"]
    assert _evaluate(defence, dataset="celeba", defence="spa_at") > _evaluate(defence, dataset="celeba", defence="standard")
    # a per-seed job (no defence wildcard: advtrain.train_jobs per_seed) trains every defence in turn
    assert _evaluate(defence, dataset="celeba") == min(sr.MAX_RUNTIME_MIN, sum(
        _evaluate(defence, dataset="celeba", defence=x) for x in paper["advtrain"]["defences"]))
    if "train_depth_cell" in measured:  # a depth cell's runtime grows with its depth
        cell = prof["train_depth_cell"]["runtime"]
        for p in paper["depth_sweep"]["panels"]:
            lo, hi = min(p["depth_grid"]), max(p["depth_grid"])
            assert _evaluate(cell, panel=p["name"], depth=str(hi)) > _evaluate(cell, panel=p["name"], depth=str(lo))
        assert prof["retrain_depth_cell"]["runtime"] == cell


def test_rates_scale_work_not_start_up():
    smoke = load_config(ROOT / "params.yaml", ROOT / "config" / "smoke.yaml")
    paper = load_config(ROOT / "params.yaml")
    job = {"rule": "train_classifier", "scale": "smoke", "job": "train_classifier/celeba/seed~0.tsv",
           "cpu_time": str(sr.STARTUP_CPU_S + 10.0), "max_rss": "1500"}
    rate, rss = sr.rates([job], [], smoke, None)[("train_classifier", "celeba")]
    assert rss == 1500 and abs(rate * sr.units(smoke, "train_classifier", {"dataset": "celeba"}) - 10.0) < 1e-9
    res = sr.paper_resources(paper, smoke, {("train_classifier", "celeba"): (rate, rss)})["train_classifier"]
    ratio = sr.units(paper, "train_classifier", {"dataset": "celeba"}) / sr.units(smoke, "train_classifier", {"dataset": "celeba"})
    expect_cpu = sr.STARTUP_CPU_S + 10.0 * ratio
    assert res["runtime"]["celeba"] == min(sr.MAX_RUNTIME_MIN, sr.FLOOR_MIN + math.ceil(sr.SAFETY * expect_cpu / sr.GPU_SPEEDUP / 60))
    assert abs(res["estimate_h"]["celeba"] - expect_cpu / sr.GPU_SPEEDUP / 3600) < 1e-9
    # a job that is all start-up still counts MIN_WORK_FRACTION of its CPU-s as work
    idle = dict(job, cpu_time=str(sr.STARTUP_CPU_S))
    rate0, _ = sr.rates([idle], [], smoke, None)[("train_classifier", "celeba")]
    assert rate0 > 0
