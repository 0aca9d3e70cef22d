"""Collect Snakemake benchmark files into a per-rule table of measured costs.

Every heavy rule writes ``<results_root>/benchmarks/<phase>/<rule>/...tsv`` (Snakemake's ``benchmark:``),
one row per job: wall seconds ``s``, ``cpu_time`` (user + system CPU-seconds) and ``max_rss`` (MB). This
script reads one or more such folders, each labelled with its scale, and writes one row per rule and scale:

    .venv/bin/python workflow/scripts/benchmark_table.py smoke=results/smoke/benchmarks \\
        cpu=/path/to/results/cpu/benchmarks --out benchmarks/rule_costs.tsv

Columns: rule, scale, jobs, s (sum of the jobs' wall), cpu_time (sum of their CPU-seconds), cpu_max (the
largest job), max_rss (MB, the largest job). The wall time of a run on a shared machine says little; the
CPU-seconds do. Snakemake samples a job's CPU time every 30 s after its first 30 s, so ``cpu_time`` misses up to
30 s at the end of each job; where the job's log (``<results_root>/logs/<phase>/<rule>/...log``, named like its
benchmark file) ends with the CLI's own count (``done in ... (Y CPU-s in all)``, reproflow.cli._base), the larger
of the two is taken. It prints the top rules by CPU-seconds and each scale's total. ``--jobs`` also writes one row
per job (JOB_COLUMNS; ``job``: the benchmark file's path under the phase folder, i.e. the rule and the job's
wildcards), which workflow/scripts/slurm_resources.py scales to the paper sizes.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

COLUMNS = ("rule", "scale", "jobs", "s", "cpu_time", "cpu_max", "max_rss")
JOB_COLUMNS = ("rule", "scale", "job", "s", "cpu_time", "max_rss")


def read_benchmarks(root: Path) -> list[tuple[str, str, float, float, float]]:
    """(rule, job, s, cpu_time, max_rss) of every benchmark file under ``root`` (``<phase>/<rule>/...``)."""
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root).parts
        # <phase>/<rule>.tsv (one job per rule) or <phase>/<rule>/<wildcards...>.tsv
        rule = rel[1].removesuffix(".tsv")
        logged = logged_cpu(root.parent / "logs" / path.relative_to(root).with_suffix(".log"))
        with path.open() as fh:
            for rec in csv.DictReader(fh, delimiter="\t"):
                cpu = max(_num(rec["cpu_time"]), logged)
                rows.append((rule, "/".join(rel[1:]), _num(rec["s"]), cpu, _num(rec["max_rss"])))
    return rows


_LOGGED = re.compile(r"done in [\d.]+s \(([\d.]+) CPU-s in all\)")


def logged_cpu(log: Path) -> float:
    """The CPU-seconds a job's CLI counted itself (the last ``done in`` line of its log); 0 without one."""
    if not log.is_file():
        return 0.0
    found = _LOGGED.findall(log.read_text(errors="replace"))
    return float(found[-1]) if found else 0.0


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "-", "NA") else 0.0
    except ValueError:
        return 0.0


def table(sources: dict[str, Path]) -> list[dict[str, str | int | float]]:
    """One row per rule and scale (COLUMNS), rules sorted by name within each scale."""
    out: list[dict[str, str | int | float]] = []
    for scale, root in sources.items():
        per_rule: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        for rule, _job, s, cpu, rss in read_benchmarks(root):
            per_rule[rule].append((s, cpu, rss))
        for rule, jobs in sorted(per_rule.items()):
            out.append({
                "rule": rule, "scale": scale, "jobs": len(jobs), "s": round(sum(j[0] for j in jobs), 2),
                "cpu_time": round(sum(j[1] for j in jobs), 2), "cpu_max": round(max(j[1] for j in jobs), 2),
                "max_rss": round(max(j[2] for j in jobs), 1),
            })
    return out


def job_table(sources: dict[str, Path]) -> list[dict[str, str | float]]:
    """One row per job (JOB_COLUMNS), in each scale's file order."""
    return [{"rule": rule, "scale": scale, "job": job, "s": round(s, 2), "cpu_time": round(cpu, 2), "max_rss": round(rss, 1)}
            for scale, root in sources.items() for rule, job, s, cpu, rss in read_benchmarks(root)]


def _write(path: Path, columns: tuple[str, ...], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, columns, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("sources", nargs="+", help="scale=benchmarks folder")
    ap.add_argument("--out", type=Path, help="TSV to write (default: print only)")
    ap.add_argument("--jobs", type=Path, help="TSV of one row per job to write (default: none)")
    ap.add_argument("--top", type=int, default=12, help="rules to print per scale, by CPU-seconds")
    args = ap.parse_args(argv)
    sources = {}
    for item in args.sources:
        scale, sep, folder = item.partition("=")
        if not sep or not Path(folder).is_dir():
            print(f"[benchmark_table] '{item}': expected scale=<existing benchmarks folder>", file=sys.stderr)
            return 2
        sources[scale] = Path(folder)
    rows = table(sources)
    if args.out:
        _write(args.out, COLUMNS, rows)
    if args.jobs:
        _write(args.jobs, JOB_COLUMNS, job_table(sources))
    for scale in sources:
        mine = [(str(r["rule"]), int(r["jobs"]), float(r["cpu_time"]), float(r["cpu_max"]), float(r["max_rss"]), float(r["s"]))
                for r in rows if r["scale"] == scale]
        mine.sort(key=lambda r: -r[2])
        total = sum(r[2] for r in mine)
        print(f"{scale}: {sum(r[1] for r in mine)} jobs, {total:.0f} CPU-s, {sum(r[5] for r in mine):.0f} s of job wall")
        for rule, jobs, cpu, cpu_max, rss, _s in mine[: args.top]:
            print(f"  {rule:<24} {jobs:>4} jobs {cpu:>8.1f} CPU-s (largest {cpu_max}, {100 * cpu / max(total, 1e-9):4.1f}%)"
                  f"  max_rss {rss} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
