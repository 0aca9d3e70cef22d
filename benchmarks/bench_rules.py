"""Before/after of whole rules at fixed work, side by side in one run: CPU-second ratios and byte-identical outputs.

For each rule the script takes one job of a scale from Snakemake's own plan (as ``profile_rules.py`` does: the job
with the median time of a previous run's benchmark files, else the first), extracts the library at git revision
``--before`` (``git archive``, default the commit before this branch's optimisations) into a scratch folder, and
runs the job's CLI ``--reps`` times with each library, alternating which goes first (``PYTHONPATH`` puts the old
library before the installed one). Every output the job writes (tables, checkpoints, logs) goes to a scratch
folder per variant; the existing results are read, never written.

Printed per rule: the median CPU-seconds of the job process (user + system, from ``getrusage`` of the child, not
the wall clock, which on a shared machine also counts the other jobs) of each variant and their ratio, and whether
every table (``.csv``, ``.csv.gz`` decompressed, ``.json`` without its timing and path fields, the run sidecars
left out) is byte-identical between the two.

    .venv/bin/python benchmarks/bench_rules.py --configfile config/quick.yaml --rules evaluate_defence train_defence
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from profile_rules import HEAVY, Job, dry_run, pick

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "79669a1"  # main before the defence-phase optimisations (first-gradient reuse, shared grid scans, PGD tail)
RULES = (*HEAVY, "train_generator")


def _library(rev: str, into: Path) -> Path:
    """``src/`` at git revision ``rev`` extracted under ``into``; returns the folder to put on PYTHONPATH."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _command(job: Job, out: Path) -> list[str]:
    """The job's argv with every ``results/...`` path that is not an input moved under ``out``."""
    argv = shlex.split(job.command)
    inputs = set(job.inputs)
    return [sys.executable if a == "python" else (str(out / a) if a.startswith("results/") and a not in inputs else a)
            for a in argv]


def _run(argv: list[str], pythonpath: Path | None) -> float:
    """Run one job process; its CPU seconds (user + system)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if pythonpath is not None:
        env["PYTHONPATH"] = f"{pythonpath}{os.pathsep}{env.get('PYTHONPATH', '')}".rstrip(os.pathsep)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


_VOLATILE = {"started", "finished", "seconds", "wall_seconds", "cpu_seconds", "elapsed", "host", "path", "paths", "argv",
             "python", "command", "log"}


def _tables(folder: Path) -> dict[str, bytes]:
    """Every table under ``folder`` as comparable bytes, by relative path (run sidecars and logs left out)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if not p.is_file() or ".run.json" in rel or rel.endswith(".log") or "/logs/" in f"/{rel}":
            continue
        if p.name.endswith(".csv.gz"):
            out[rel] = gzip.decompress(p.read_bytes())
        elif p.suffix == ".csv":
            out[rel] = p.read_bytes()
        elif p.suffix == ".json":
            data = json.loads(p.read_text())
            if isinstance(data, dict):
                data = {k: v for k, v in data.items() if k not in _VOLATILE}
            out[rel] = json.dumps(data, sort_keys=True).encode()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", default="config/quick.yaml")
    ap.add_argument("--rules", nargs="+", default=["evaluate_defence", "train_defence"], choices=RULES)
    ap.add_argument("--before", default=BEFORE, help="git revision of the library to compare with")
    ap.add_argument("--reps", type=int, default=1, help="runs of each variant (alternating order)")
    args = ap.parse_args()
    jobs = dry_run(args.configfile)
    with tempfile.TemporaryDirectory(prefix="bench_rules_") as tmp:
        old = _library(args.before, Path(tmp))
        for rule in args.rules:
            mine = [j for j in jobs if j.rule == rule]
            if not mine:
                print(f"{rule}: no job at {args.configfile}")
                continue
            job = pick(mine)
            missing = [i for i in job.inputs if not (ROOT / i).exists()]
            if missing:
                raise SystemExit(f"{rule}: missing inputs {missing[:3]} (run the scale, or profile_rules.py --build)")
            cpu: dict[str, list[float]] = {"before": [], "after": []}
            outs = {v: Path(tmp) / rule / v for v in cpu}
            variants = [("before", old), ("after", None)]
            for r in range(args.reps):
                for name, path in variants if r % 2 == 0 else variants[::-1]:
                    cpu[name].append(_run(_command(job, outs[name]), path))
            med = {k: statistics.median(v) for k, v in cpu.items()}
            a, b = _tables(outs["before"]), _tables(outs["after"])
            differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            print(f"{rule} ({job.benchmark or 'first job'}): before {args.before} {med['before']:.1f} CPU-s, after "
                  f"{med['after']:.1f} CPU-s, before/after {med['before'] / med['after']:.2f}x ({args.reps} rep(s) each); "
                  f"{len(a)} tables, " + ("all byte-identical" if not differ else f"DIFFER: {', '.join(differ)}"),
                  flush=True)


if __name__ == "__main__":
    main()
