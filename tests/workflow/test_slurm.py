"""The SLURM workflow profile: partitions, groups and local rules, on a real one-node SLURM.

The one-node cluster (tests/workflow/slurm_cluster.py) has two partitions, ``cpu`` and ``gpu``.
The run covers a local rule (prepare_dataset), a group of seconds-long jobs (plot_dataset_samples
x2 in one submission) and a GPU-capable rule (simulate_forward) sent to the GPU partition. What
was submitted is read twice: the executor's own ``sbatch call:`` lines and the controller's
record of each finished job (jobcomp, the stand-in for sacct).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import IGNORE
from tests.workflow.slurm_cluster import LocalSlurm, available

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "workflow/profiles/slurm/config.yaml"


def _gpu_rules() -> set[str]:
    """Rules whose resources ask for gpu=GPUS, read from the rules files."""
    out = set()
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in re.split(r"\n(?=rule \w+:)", smk.read_text()):
            m = re.match(r"rule (\w+):", block)
            if m and re.search(r"^\s+gpu=GPUS,", block, re.M):
                out.add(m.group(1))
    return out


def test_profile_sends_exactly_the_gpu_rules_to_the_gpu_partition():
    prof = yaml.safe_load(PROFILE.read_text())
    gpu = _gpu_rules()
    assert len(gpu) == 11, gpu  # the rules files changed: check the profile's list by hand
    routed = {r for r, res in prof["set-resources"].items()
              if "REPROFLOW_SLURM_GPU_PARTITION" in res.get("slurm_partition", "")}
    assert routed == gpu
    grouped = set(prof["groups"])
    assert not grouped & gpu, "GPU rules must not be grouped with CPU bookkeeping"
    assert set(prof["groups"].values()) == set(prof["group-components"])
    # exactly the grouped rules take the one serial slot, so a group runs its members one after another
    slotted = {r for r, res in prof["set-resources"].items() if res.get("serial_slot") == 1}
    assert slotted == grouped
    assert prof["resources"] == ["serial_slot=1"]


def _dry_run_partitions(tmp_path, **env_vars) -> dict[str, str]:
    """rule -> slurm_partition (and account) that the profile gives, from a dry run (no SLURM needed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPROFLOW_SLURM_")}
    env.update(env_vars, XDG_CACHE_HOME=str(tmp_path / "cache"), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "results/tiny/meanfield/forward_mc.csv", "results/tiny/meanfield/phase_diagram.csv",
         "--workflow-profile", "workflow/profiles/slurm", "--configfile", "config/tiny.yaml", "-n", "-F", "--nolock"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = {}
    for m in re.finditer(r"rule (\w+):.*?resources: ([^\n]*)", res.stdout, re.S):
        res_ = dict(kv.split("=", 1) for kv in m.group(2).split(", ") if "=" in kv)
        out[m.group(1)] = (res_["slurm_partition"], res_["slurm_account"])
    return out


@pytest.mark.parametrize(
    "env, gpu_rule, cpu_rule",
    [
        ({}, ("", ""), ("", "")),  # nothing set: the cluster's default partition, the plugin's account
        ({"REPROFLOW_SLURM_CPU_PARTITION": "short"}, ("short", ""), ("short", "")),  # one partition
        (
            {"REPROFLOW_SLURM_CPU_PARTITION": "cpu", "REPROFLOW_SLURM_GPU_PARTITION": "a100", "REPROFLOW_SLURM_ACCOUNT": "lab"},
            ("a100", "lab"), ("cpu", "lab"),
        ),
    ],
)
def test_profile_partition_fallbacks(tmp_path, env, gpu_rule, cpu_rule):
    got = _dry_run_partitions(tmp_path, **env)
    assert got["simulate_forward"] == gpu_rule
    assert got["compute_phase_diagram"] == cpu_rule


@pytest.mark.parametrize("overlay", [[], ["--configfile", "config/quick.yaml"], ["--configfile", "config/tiny.yaml"]])
def test_groups_are_valid_at_every_scale(tmp_path, overlay):
    """Snakemake refuses a group whose members depend on each other through an outside job; the
    whole DAG under the profile must build, with one group job per phase at the paper scale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPROFLOW_SLURM_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "all", "--workflow-profile", "workflow/profiles/slurm", *overlay, "-n", "-F", "--nolock"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    groups = set(re.findall(r"Group job (\w+) ", res.stdout))
    prof = yaml.safe_load(PROFILE.read_text())
    assert groups == set(prof["group-components"]), groups


def _sbatch_calls(text: str) -> list[dict[str, str]]:
    """Options of every `sbatch call:` the executor logged (--verbose)."""
    calls = []
    for m in re.finditer(r"sbatch call: (sbatch .*?)(?=\n\S|\Z)", text, re.S):
        argv = shlex.split(m.group(1).split(" --wrap=")[0].replace("\n", " "))
        opts, i = {}, 1
        while i < len(argv):
            a = argv[i]
            if a.startswith("--") and "=" in a:
                k, v = a.split("=", 1)
                opts[k] = v
            elif a.startswith("-") and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                opts[a] = argv[i + 1]
                i += 1
            else:
                opts[a] = ""
            i += 1
        calls.append(opts)
    return calls


@pytest.mark.slurm
def test_partitions_groups_and_localrules_through_slurm(tmp_path):
    reason = available()
    if reason:
        pytest.skip(reason)
    work = tmp_path / "repo"
    shutil.copytree(REPO, work, ignore=IGNORE)
    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        REPROFLOW_SLURM_CPU_PARTITION="cpu",
        REPROFLOW_SLURM_GPU_PARTITION="gpu",
    )
    env.pop("REPROFLOW_SLURM_ACCOUNT", None)
    with LocalSlurm(tmp_path / "slurm") as cluster:
        cmd = [
            sys.executable, "-m", "snakemake", "data_all", "meanfield_all",
            "--workflow-profile", "workflow/profiles/slurm",
            "--configfile", "config/tiny.yaml",
            "--slurm-status-command", "squeue",
            "--slurm-init-seconds-before-status-checks", "5",
            "--slurm-keep-successful-logs",
            "--slurm-no-account",
            "--jobs", "4", "--local-cores", "1",
            "--verbose",
        ]
        res = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        finished = cluster.finished_jobs()
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    for ds in ("digits", "digits_rot"):
        for art in ("train.pt", "test.pt", "train.json", "samples.png"):
            assert (work / "results/tiny/data" / f"dataset~{ds}" / art).exists()
    assert (work / "results/tiny/meanfield/forward_mc.csv").exists()

    calls = _sbatch_calls(out)
    by_comment = {c["--comment"]: c for c in calls}
    print("\n".join(" ".join(f"{k} {v}".strip() for k, v in c.items()) for c in calls))
    # prepare_dataset is a local rule: never submitted. Two sample plots: one group submission.
    assert not any("prepare_dataset" in c for c in by_comment), by_comment.keys()
    assert "rule_plot_dataset_samples" not in by_comment, by_comment.keys()
    groups = {g: [c for c in calls if f"/group_{g}" in c["--output"]] for g in ("data_small", "meanfield_small")}
    assert all(len(v) == 1 for v in groups.values()), [c["--output"] for c in calls]
    data_small, meanfield_small = groups["data_small"][0], groups["meanfield_small"][0]
    # The two 10-minute, 2000 MB plot jobs run one after the other in one allocation: the largest member's
    # memory and CPUs, the sum of the runtimes (side by side they asked for 4000 MB and 2 CPUs).
    assert data_small["-p"] == "cpu"
    assert (data_small["-t"], data_small["--mem"], data_small["--cpus-per-task"]) == ("20", "2000", "1")
    # The mean-field bookkeeping group has more one-CPU members than the node has CPUs (2): it asks for one
    # member's worth, so it starts and finishes (summed, it pended forever with reason PartitionConfig).
    assert meanfield_small["--cpus-per-task"] == "1" and int(meanfield_small["--mem"]) <= 2000, meanfield_small
    gpu = {k: c for k, c in by_comment.items() if k.startswith("rule_") and c["-p"] == "gpu"}
    assert "rule_simulate_forward" in gpu and any(k.startswith("rule_measure_gradients") for k in gpu), by_comment.keys()
    sim = by_comment["rule_simulate_forward"]
    assert sim["-t"] == "60" and sim["--mem"] == "4000"
    assert not any("--gpus" in c for c in calls)  # gpus_per_job is 0 at the tiny scale

    print("\n".join(" ".join(f"{k}={r.get(k)}" for k in ("JobId", "Partition", "TimeLimit", "JobState", "ProcCnt")) for r in finished.values()))
    # The controller saw the same: every submission completed, in the partition it was sent to.
    assert len(finished) == len(calls), finished
    assert {r["Partition"] for r in finished.values()} == {"cpu", "gpu"}, finished
    assert all(r["JobState"] == "COMPLETED" for r in finished.values()), finished
    slurm_logs = list((work / ".snakemake" / "slurm_logs").rglob("*.log"))
    dirs = sorted(p.relative_to(work / ".snakemake/slurm_logs").parts[0] for p in slurm_logs)
    assert any(d.startswith("group_data_small") for d in dirs) and any(d.startswith("group_meanfield_small") for d in dirs), dirs
    assert "rule_simulate_forward" in dirs, dirs
