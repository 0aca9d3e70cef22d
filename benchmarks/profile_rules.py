"""Profile one representative job of each heavy rule: where its CPU-seconds go.

For each rule (train_depth_cell, evaluate_attacks, train_defence, evaluate_defence, train_generator,
measure_gradients) the script asks Snakemake for the job list of a scale (a dry run with
``--forceall --printshellcmds``), picks one job (the one with the median time in the scale's
``benchmarks/`` TSVs when a previous run left them, else the first), builds that job's missing inputs
with Snakemake (``--build``), and runs the job's CLI IN-PROCESS under cProfile for at most
``--seconds`` (the profile is kept when the bound stops it). Every ``results/...`` argument that is not
one of the job's inputs (outputs, log, checkpoint) is redirected into a scratch folder, so the existing
results are never written. Times are the process's CPU seconds (the wall clock of a shared machine also counts
the other jobs).

Output per rule: a ranked table of the functions with the largest own time, each with a category,
and the category totals:
  start-up/import  module imports (torch, the CLI's dependencies) and argument parsing;
  data movement    torch.load/save, copies, device and dtype moves, gathers, DataLoader work;
  forward/backward torch kernels (matmul, conv, elementwise ops) and autograd's backward;
  Python overhead  everything else spent in Python frames (loops, logging, bookkeeping).

    .venv/bin/python benchmarks/profile_rules.py --configfile config/tiny.yaml --build
    .venv/bin/python benchmarks/profile_rules.py --configfile config/cpu.yaml --seconds 120 --rules train_depth_cell
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("train_depth_cell", "evaluate_attacks", "train_defence", "evaluate_defence", "train_generator", "measure_gradients")

# (category, substrings of a pstats function label); the first match wins, the rest is Python overhead
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("start-up/import", ("<frozen importlib", "_bootstrap", "exec_module", "argparse", "built-in method _imp.",
                         "marshal.loads", "builtins.compile", "/ast.py", "builtins.__build_class__", "/typing.py",
                         "dataclasses.py", "/enum.py", "/inspect.py", "sre_compile", "re/_compiler.py", "re/_parser.py")),
    ("data movement", ("torch.load", "torch.save", "serialization.py", "method 'to' of 'torch", "method 'copy_'",
                       "method 'cpu' of", "method 'clone' of", "method 'contiguous' of", "index_select",
                       "built-in method torch.stack", "built-in method torch.cat", "dataloader.py", "_utils/collate.py",
                       "write_record", "_io.BufferedReader", "_io.FileIO", "data/store.py", "pickle")),
    ("forward/backward", ("run_backward", "built-in method torch.", "of 'torch._C.TensorBase' objects", "torch._C._nn",
                          "torch._C._VariableFunctions", "torch._ops", "_ops.py", "torch/nn/functional.py",
                          "built-in method conv", "_foreach_")),
)


@dataclass
class Job:
    rule: str
    inputs: list[str]
    benchmark: str
    command: str


def category(label: str) -> str:
    for name, keys in CATEGORIES:
        if any(k in label for k in keys):
            return name
    return "Python overhead"


def dry_run(configfile: str) -> list[Job]:
    """Every job of the scale, from Snakemake's own plan (``-n -p --forceall``)."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", configfile, "--cores", "1", "-n", "-p", "--forceall"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    jobs: list[Job] = []
    for block in re.split(r"\n(?=rule \w+:)", out):
        m = re.match(r"rule (\w+):", block)
        cmd = re.search(r"^Shell command: (.*)$", block, re.M)
        if not m or not cmd:
            continue
        inp = re.search(r"^\s+input: (.*)$", block, re.M)
        bench = re.search(r"^\s+benchmark: (.*)$", block, re.M)
        jobs.append(Job(m.group(1), inp.group(1).split(", ") if inp else [], bench.group(1) if bench else "", cmd.group(1)))
    return jobs


def pick(jobs: list[Job]) -> Job:
    """The job whose previous benchmark time is the median of its rule's, else the first."""
    timed = []
    for j in jobs:
        tsv = ROOT / j.benchmark
        if j.benchmark and tsv.is_file():
            rows = tsv.read_text().splitlines()
            if len(rows) > 1:
                timed.append((float(rows[1].split("\t")[0]), j))
    if not timed:
        return jobs[0]
    timed.sort(key=lambda t: t[0])
    return timed[len(timed) // 2][1]


class _Bound(BaseException):  # not an Exception: a CLI's own error handling must not swallow it
    pass


def _stop(signum, frame):  # noqa: ARG001
    raise _Bound


def profile_job(job: Job, seconds: float, scratch: Path) -> tuple[pstats.Stats, float, str]:
    """Run the job's CLI in this process under cProfile; returns (stats, wall seconds, how it ended)."""
    argv = shlex.split(job.command)
    if argv[:2] != ["python", "-m"]:
        raise SystemExit(f"{job.rule}: not a 'python -m' CLI: {job.command}")
    module, args = argv[2], argv[3:]
    inputs = set(job.inputs)
    args = [str(scratch / a) if a.startswith("results/") and a not in inputs else a for a in args]
    # CPU time of this process, not wall time: on a shared machine the wall clock also counts the other jobs
    prof = cProfile.Profile(time.process_time)
    t0 = time.perf_counter()
    signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    end = "finished"
    try:
        prof.enable()
        main = importlib.import_module(module).main  # the import is part of the job's start-up
        rc = main(args)
        end = f"finished (rc {rc})"
    except _Bound:
        end = f"stopped at the {seconds:.0f} s bound"
    except SystemExit as e:
        end = f"exited ({e.code})"
    finally:
        prof.disable()
        signal.setitimer(signal.ITIMER_REAL, 0)
    return pstats.Stats(prof), time.perf_counter() - t0, end


def report(rule: str, stats: pstats.Stats, wall: float, end: str, top: int) -> None:
    rows = []
    for (fname, line, func), (_cc, nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        label = f"{func}" if fname == "~" else f"{Path(fname).name}:{line}({func})"
        full = f"{fname}:{func}"
        rows.append((tt, nc, label, category(full if fname != "~" else func)))
    total = sum(r[0] for r in rows) or 1.0
    cats: dict[str, float] = {}
    for tt, _nc, _label, cat in rows:
        cats[cat] = cats.get(cat, 0.0) + tt
    print(f"\n== {rule}: {wall:.1f} s wall, {total:.1f} CPU-s profiled, {end}")
    for cat, tt in sorted(cats.items(), key=lambda kv: -kv[1]):
        print(f"   {cat:18s} {tt:8.2f} s  {100 * tt / total:5.1f} %")
    print(f"   top {top} by own time:")
    for tt, nc, label, cat in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"   {100 * tt / total:5.1f} % {tt:8.2f} s {nc:9d} calls  [{cat}] {label[:90]}")
    # where the time goes by the project's own functions (inclusive: an attack's _run holds its forwards and
    # backwards), which names the attack, defence or refit a cost belongs to
    own = [(ct, nc, f"{Path(fname).parent.name}/{Path(fname).name}:{line}({func})")
           for (fname, line, func), (_cc, nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
           if "/reproflow/" in fname and "/cli/" not in fname and func not in ("<module>", "main", "run")]
    print(f"   top {top} project functions by inclusive time:")
    for ct, nc, label in sorted(own, key=lambda r: -r[0])[:top]:
        print(f"   {100 * ct / total:5.1f} % {ct:8.2f} s {nc:9d} calls  {label[:100]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", default="config/tiny.yaml")
    ap.add_argument("--rules", nargs="+", default=list(HEAVY), choices=HEAVY)
    ap.add_argument("--seconds", type=float, default=30.0, help="time bound per job")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--build", action="store_true", help="build the chosen jobs' missing inputs with Snakemake first")
    args = ap.parse_args()
    t0 = time.perf_counter()
    import torch

    print(f"import torch: {time.perf_counter() - t0:.1f} s (once per job process; not in the tables below, "
          "where each rule's import row counts only the modules earlier rules had not loaded)")
    torch.set_num_threads(1)
    jobs = dry_run(args.configfile)
    chosen = {}
    for rule in args.rules:
        mine = [j for j in jobs if j.rule == rule]
        if not mine:
            print(f"{rule}: no job at {args.configfile} (rule not in this scale's DAG)")
            continue
        chosen[rule] = pick(mine)
    missing = sorted({i for j in chosen.values() for i in j.inputs if not (ROOT / i).exists()})
    if missing and args.build:
        print(f"building {len(missing)} missing inputs with snakemake (not profiled)", flush=True)
        subprocess.run([sys.executable, "-m", "snakemake", *missing, "--configfile", args.configfile, "--cores", "1"],
                       cwd=ROOT, check=True)
    elif missing:
        raise SystemExit(f"missing inputs (pass --build): {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    walls = {}
    with tempfile.TemporaryDirectory(prefix="profile_rules_") as tmp:
        for rule, job in chosen.items():
            stats, wall, end = profile_job(job, args.seconds, Path(tmp) / rule)
            walls[rule] = wall
            report(rule, stats, wall, end, args.top)
    if walls:
        print(f"\nprofiled {len(walls)} rules, median job wall {statistics.median(walls.values()):.1f} s "
              f"(one thread, in-process, bounded at {args.seconds:.0f} s)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
