"""The smoke scale: the paper's whole DAG on real-format fixture files, on 2 CPU cores.

config/smoke.yaml is params.yaml with only sizes cut; workflow/scripts/make_fixtures.py writes MNIST,
Fashion-MNIST, CIFAR-10 and CelebA in their on-disk formats. Two checks:

- the job graph cannot drift from the paper's: ``snakemake all -n`` plans the same rules, with the same
  wildcard names and (except for the size wildcards: seeds and depths) the same wildcard values;
- the whole DAG runs (in the test command; REPROFLOW_SMOKE_DAG=0 skips it, within SMOKE_BUDGET_S) through the same readers,
  models and rules as the paper scale, writes its figures,
  report and summary, and the summary draws no verdict ("smoke: numbers mean nothing").
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pandas as pd
import pytest
import torch
import yaml

from tests.e2e.helpers import REPO, copy_repo, env, run

pytestmark = pytest.mark.e2e
SMOKE = ["--configfile", "config/smoke.yaml"]
# wildcards whose values are sizes the smoke scale may cut (how many seeds, which depths of a Fig. 7
# panel or a speed setting); every other wildcard (dataset, defence, panel, run, ...) must match
SIZE_WILDCARDS = {"seed", "depth"}


def planned(work, tmp, *extra) -> dict[str, dict[str, set[str]]]:
    """rule -> wildcard name -> values, from a forced dry run of `all` (every job, done or not)."""
    res = run([sys.executable, "-m", "snakemake", "all", "-n", "-F", "--nolock", *extra], work, tmp, timeout=600)
    jobs: dict[str, dict[str, set[str]]] = {}
    rule = None
    for line in (res.stdout + res.stderr).splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m:
            rule = m.group(1)
            jobs.setdefault(rule, defaultdict(set))
            continue
        m = re.match(r"^wildcards: (.*)$", line.strip())
        if m and rule:
            for pair in m.group(1).split(", "):
                key, _, value = pair.partition("=")
                jobs[rule][key].add(value)
    assert jobs, (res.stdout + res.stderr)[-3000:]
    return jobs


def drift(paper: dict, smoke: dict) -> list[str]:
    """What differs between two plans (empty = the same workflow)."""
    out = []
    for rule in sorted(set(paper) | set(smoke)):
        if rule not in smoke or rule not in paper:
            out.append(f"rule {rule} planned only at the {'paper' if rule in paper else 'smoke'} scale")
            continue
        if set(paper[rule]) != set(smoke[rule]):
            out.append(f"rule {rule}: wildcards {sorted(paper[rule])} (paper) vs {sorted(smoke[rule])} (smoke)")
            continue
        for key in sorted(set(paper[rule]) - SIZE_WILDCARDS):
            if paper[rule][key] != smoke[rule][key]:
                out.append(f"rule {rule}, wildcard {key}: only paper {sorted(paper[rule][key] - smoke[rule][key])}, "
                           f"only smoke {sorted(smoke[rule][key] - paper[rule][key])}")
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    return copy_repo(tmp / "repo"), tmp


def test_smoke_plans_the_paper_rules_and_wildcards(repo):
    work, tmp = repo
    paper, smoke = planned(work, tmp), planned(work, tmp, *SMOKE)
    assert not drift(paper, smoke), "\n".join(drift(paper, smoke))
    assert "train_depth_cell" in smoke and "evaluate_defence" in smoke
    # the comparison can fail: a smoke overlay without one defence is a different workflow
    (work / "config" / "drop.yaml").write_text(yaml.safe_dump(
        {"advtrain": {"defences": ["standard", "pgd_at", "trades", "attribute_augmentation"]}}))
    dropped = drift(paper, planned(work, tmp, *SMOKE, "config/drop.yaml"))
    assert any("defence" in d and "spa_at" in d for d in dropped), dropped


# The whole smoke DAG (134 jobs) runs in the test command. It gets SMOKE_BUDGET_S of wall in all (the run, the dry
# run that checks nothing is left, the HTML report) with --cores 2; past that the run is stopped and the test fails
# with a banner naming the budget, the jobs done and the costliest of them, never a hang. Measured: on an unshared
# 2-core machine the DAG alone took 8 min 20 s of wall and 911 CPU-s (Snakemake and every job, /usr/bin/time), and
# inside the whole suite, beside the other pytest worker, its fixture took 579 s (suite 17 min 11 s, docs/cluster.md
# section 5). 1200 s bounds an overrun with room for a CI machine up to ~2x slower than that one (machines of CI's
# class differ by up to 1.6x); on a loaded machine allow more: REPROFLOW_SMOKE_TIMEOUT_S=3600.
SMOKE_BUDGET_S = int(os.environ.get("REPROFLOW_SMOKE_TIMEOUT_S", "1200"))


class Budget:
    """The smoke DAG's one wall-clock budget, shared by every command of its run and checks."""

    def __init__(self, seconds: int):
        self.seconds, self.start = seconds, time.monotonic()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)


def _costliest(work) -> tuple[float, str]:
    costs = []
    for tsv in (work / "results" / "smoke" / "benchmarks").rglob("*.tsv"):
        row = pd.read_csv(tsv, sep="\t").iloc[-1]
        costs.append((float(row["cpu_time"]), str(tsv.relative_to(work / "results" / "smoke" / "benchmarks"))))
    top = "\n".join(f"    {c:7.1f} CPU-s  {name}" for c, name in sorted(costs, reverse=True)[:8])
    return sum(c for c, _ in costs), top


def run_within_budget(cmd: list[str], work, tmp, budget: Budget) -> subprocess.CompletedProcess:
    """Run ``cmd`` in the budget's remaining time; past it stop its whole process tree and fail loudly, naming the
    budget, the jobs done and the costliest jobs so far (their benchmark files)."""
    proc = subprocess.Popen(cmd, cwd=work, env=env(tmp, work), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=max(budget.left(), 1))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        done = re.findall(r"(\d+) of (\d+) steps", out)
        total, top = _costliest(work)
        bar = "=" * 100
        pytest.fail(f"\n{bar}\nSMOKE DAG TIMEOUT: stopped after its {budget.seconds} s budget (REPROFLOW_SMOKE_TIMEOUT_S) in\n"
                    f"  {' '.join(cmd[2:])}\n"
                    f"  {done[-1][0] if done else 0} of {done[-1][1] if done else '?'} jobs done, {total:.0f} CPU-s in their "
                    f"benchmark files.\n  On a loaded machine set REPROFLOW_SMOKE_TIMEOUT_S higher; if it overruns on an idle "
                    f"2-core machine, cut sizes in config/smoke.yaml. Costliest jobs done:\n{top}\n{bar}\n"
                    f"last output:\n{out[-2000:]}", pytrace=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-6000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


# REPROFLOW_SMOKE_DAG=0 skips the whole-DAG run (a quick local iteration on other tests); the test command runs it.
needs_the_dag = pytest.mark.skipif(os.environ.get("REPROFLOW_SMOKE_DAG") == "0",
                                   reason="REPROFLOW_SMOKE_DAG=0: the whole smoke DAG (about 900 CPU-s) is skipped")


@pytest.fixture(scope="module")
def smoke_run(repo):
    work, tmp = repo
    budget = Budget(SMOKE_BUDGET_S)
    run([sys.executable, "workflow/scripts/make_fixtures.py", "data/smoke"], work, tmp)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = run_within_budget([sys.executable, "-m", "snakemake", "all", "--cores", "2", *SMOKE], work, tmp, budget)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = time.monotonic() - budget.start
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    jobs = re.findall(r"(\d+) of (\d+) steps \(100%\) done", res.stdout)
    print(f"[smoke] snakemake all: {jobs[-1][1] if jobs else '?'} jobs in {took:.0f} s of wall, {cpu:.0f} CPU-s "
          f"(Snakemake and every job), {_costliest(work)[0]:.0f} CPU-s in the jobs' benchmark files")
    return work, tmp, budget


@needs_the_dag
def test_smoke_dag_runs_every_paper_rule(smoke_run):
    work, tmp, budget = smoke_run
    root = work / "results" / "smoke"
    # every job the paper graph has at this scale is done
    res = run_within_budget([sys.executable, "-m", "snakemake", "all", "-n", *SMOKE], work, tmp, budget)
    assert "Nothing to be done" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
    # the paper's datasets came through torchvision's readers in their real formats and sizes
    for name, shape in (("mnist_rot", (1, 28, 28)), ("fashion_mnist_rot", (1, 28, 28)), ("cifar10_rot", (3, 32, 32)),
                        ("celeba", (3, 64, 64)), ("mnist", (1, 28, 28)), ("cifar10", (3, 32, 32))):
        manifest = yaml.safe_load((root / "data" / f"dataset~{name}" / "train.json").read_text())
        assert "torchvision.datasets" in str(manifest), manifest
        split = torch.load(root / "data" / f"dataset~{name}" / "test.pt", weights_only=False)
        assert tuple(split["images"].shape[1:]) == shape, (name, split["images"].shape)
        if name.startswith(("cifar10", "celeba")):
            assert "md5 not verified" in split["meta"]["source"], split["meta"]
    celeba = torch.load(root / "data" / "dataset~celeba" / "train.pt", weights_only=False)
    # Male (class) and Smiling (attribute) both balanced and not the same column
    assert 0.3 < celeba["labels"].float().mean() < 0.7 and 0.3 < celeba["attributes"].mean() < 0.7
    assert not torch.equal(celeba["labels"].float(), celeba["attributes"])
    pngs = list(root.rglob("*.png"))
    assert len(pngs) > 20
    for png in pngs:
        assert png.with_suffix(".pdf").exists(), f"{png} has no PDF twin"


@needs_the_dag
def test_smoke_summary_draws_no_verdict(smoke_run):
    work, tmp, budget = smoke_run
    root = work / "results" / "smoke" / "report"
    summary = pd.read_csv(root / "summary.csv")
    assert len(summary) >= 7 and set(summary["scale"]) == {"smoke"}
    assert set(summary["verdict"]) == {"no verdict"}, summary[["claim", "verdict"]]
    assert summary["evidence"].str.startswith("smoke: numbers mean nothing").all(), summary["evidence"].tolist()
    assert "smoke: numbers mean nothing" in (root / "summary.md").read_text()
    report = tmp / "report.zip"
    run_within_budget([sys.executable, "-m", "snakemake", "all", "--cores", "1", *SMOKE, "--report", str(report)], work,
                      tmp, budget)
    assert report.stat().st_size > 10_000


def test_fixture_script_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        run([sys.executable, str(REPO / "workflow/scripts/make_fixtures.py"), str(out), "--train", "20", "--test", "8"],
            REPO, tmp_path)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) > 20
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_an_overrun_stops_the_run_and_fails_loudly(tmp_path):
    """The budget is enforced on the whole process tree, and the failure says what ran out and what to do."""
    work = tmp_path / "w"
    (work / "results" / "smoke" / "benchmarks" / "x" / "train_defence").mkdir(parents=True)
    (work / "results" / "smoke" / "benchmarks" / "x" / "train_defence" / "celeba.tsv").write_text("s\tcpu_time\n2.0\t1.5\n")
    child = tmp_path / "child.pid"
    script = f"import os, subprocess, time; p = subprocess.Popen(['sleep', '60']); open({str(child)!r}, 'w').write(str(p.pid)); " \
             "print('3 of 134 steps (2%) done', flush=True); time.sleep(60)"
    start = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as err:
        run_within_budget([sys.executable, "-c", script], work, tmp_path, Budget(3))
    assert time.monotonic() - start < 30
    msg = str(err.value)
    assert "SMOKE DAG TIMEOUT" in msg and "3 s budget" in msg and "3 of 134 jobs done" in msg and "REPROFLOW_SMOKE_TIMEOUT_S" in msg
    assert "1.5 CPU-s  x/train_defence/celeba.tsv" in msg
    pid = int(child.read_text())
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2], "the job was left running"
