"""workflow/scripts/benchmark_table.py sums Snakemake benchmark files per rule and scale."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "workflow" / "scripts" / "benchmark_table.py"
HEAD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write(path: Path, s: float, rss: float, cpu: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_rows_sum_jobs_per_rule_and_keep_the_largest(tmp_path):
    b = tmp_path / "bench"
    write(b / "advtrain" / "train_defence" / "celeba" / "pgd_at" / "seed~0.tsv", 10.0, 2000.0, 8.0)
    write(b / "advtrain" / "train_defence" / "mnist_rot" / "trades" / "seed~0.tsv", 4.0, 900.0, 3.5)
    write(b / "meanfield" / "simulate_forward.tsv", 2.0, 500.0, 1.5)
    out = tmp_path / "t.tsv"
    res = subprocess.run([sys.executable, str(SCRIPT), f"smoke={b}", "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = {r["rule"]: r for r in csv.DictReader(out.open(), delimiter="\t")}
    assert set(rows) == {"train_defence", "simulate_forward"}
    d = rows["train_defence"]
    assert (d["scale"], int(d["jobs"]), float(d["s"]), float(d["cpu_time"]), float(d["cpu_max"]), float(d["max_rss"])) == (
        "smoke", 2, 14.0, 11.5, 8.0, 2000.0)
    assert "3 jobs, 13 CPU-s" in res.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), str(b)], capture_output=True, text=True)
    assert bad.returncode == 2 and "scale=" in bad.stderr


def test_jobs_table_has_one_row_per_job_with_its_wildcards(tmp_path):
    b = tmp_path / "bench"
    write(b / "advtrain" / "train_defence" / "celeba" / "pgd_at" / "seed~0.tsv", 10.0, 2000.0, 8.0)
    write(b / "depth_sweep" / "train_depth_cell" / "a_mnist_gauss" / "10.tsv", 3.0, 700.0, 2.5)
    jobs = tmp_path / "jobs.tsv"
    res = subprocess.run([sys.executable, str(SCRIPT), f"smoke={b}", "--jobs", str(jobs)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(jobs.open(), delimiter="\t"))
    assert [(r["rule"], r["job"], float(r["cpu_time"]), float(r["max_rss"])) for r in rows] == [
        ("train_defence", "train_defence/celeba/pgd_at/seed~0.tsv", 8.0, 2000.0),
        ("train_depth_cell", "train_depth_cell/a_mnist_gauss/10.tsv", 2.5, 700.0)]


def test_a_job_s_own_cpu_count_in_its_log_replaces_a_smaller_sampled_one(tmp_path):
    # Snakemake samples CPU every 30 s after a job's first 30 s, so the sampled cpu_time can miss the job's end;
    # the CLI's log line counts the whole process (reproflow.cli._base.run_cli)
    b = tmp_path / "bench"
    write(b / "advtrain" / "train_defence" / "celeba" / "pgd_at" / "seed~0.tsv", 10.0, 2000.0, 8.0)
    write(b / "advtrain" / "train_defence" / "celeba" / "trades" / "seed~0.tsv", 10.0, 2000.0, 8.0)
    logs = tmp_path / "logs" / "advtrain" / "train_defence" / "celeba"
    (logs / "pgd_at").mkdir(parents=True)
    (logs / "trades").mkdir(parents=True)
    (logs / "pgd_at" / "seed~0.log").write_text("... INFO reproflow.cli._base: done in 9.1s (12.5 CPU-s in all)\n")
    (logs / "trades" / "seed~0.log").write_text("... INFO reproflow.cli._base: done in 9.1s (3.0 CPU-s in all)\n")
    out = tmp_path / "jobs.tsv"
    res = subprocess.run([sys.executable, str(SCRIPT), f"smoke={b}", "--jobs", str(out), "--out", str(tmp_path / "t.tsv")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    cpu = {r["job"]: float(r["cpu_time"]) for r in csv.DictReader(out.open(), delimiter="\t")}
    assert cpu == {"train_defence/celeba/pgd_at/seed~0.tsv": 12.5, "train_defence/celeba/trades/seed~0.tsv": 8.0}
