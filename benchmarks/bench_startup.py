"""Start-up cost of every workflow job: the CPU-seconds a ``python -m reproflow.cli.<rule>`` process spends
importing before (and while) it works, per CLI and summed over a scale's planned jobs.

Each job is one Python process, so every job pays the interpreter and its imports again. Two numbers per CLI
(CPU-seconds of a fresh child process, user + system, read with ``getrusage(RUSAGE_CHILDREN)``; the median of
``--repeats`` runs, so a loaded machine's noise mostly cancels):

  import   ``python -c "import reproflow.cli.X"``: what the module imports at module level;
  closure  every reproflow module the CLI can import when it runs (:func:`reproflow.deps.module_closure`,
           module-level and function-level imports, not annotation-only ones), imported together: the job's start-up when its run
           reaches every lazy import (an upper bound: a table job that never calls the theory code never
           imports torch, though its closure names it);
  ran      with ``--modules DIR`` (the folder an end-to-end run wrote with ``REPROFLOW_RECORD_MODULES``, one
           file of reproflow modules per job): the modules one real job of the CLI imported, imported
           together (a lower bound: a package those modules import inside a function that ran is missed).

and the heavy third-party packages each variant loads, plus the packages whose modules took the most own time
(``python -X importtime``; self times, so nothing is counted twice). ``python -c pass`` is the floor.

The scale's totals are each number summed over its planned jobs, with the job count per CLI taken from Snakemake's own
plan (``snakemake all -n -p --forceall``: the ``python -m reproflow.cli.X`` shell commands, so a rule that runs
another rule's CLI, like retrain_depth_cell, counts under the CLI it runs). With ``--scale-cpu`` (the CPU-s of
that scale's jobs, e.g. the sum of its benchmark TSVs' ``cpu_time``) the start-up share is printed too.

    .venv/bin/python benchmarks/bench_startup.py --configfile config/quick.yaml --repeats 5
    .venv/bin/python benchmarks/bench_startup.py --clis evaluate_attacks tabulate_claim_t1 --repeats 3
"""

from __future__ import annotations

import argparse
import ast
import collections
import os
import re
import resource
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
CLI_DIR = ROOT / "src" / "reproflow" / "cli"
# third-party packages worth naming when a job loads them (each costs >= ~0.1 CPU-s to import)
HEAVY = ("torch", "torchvision", "scipy", "pandas", "matplotlib", "sklearn", "PIL", "jsonschema", "snakemake", "yaml")
_REPORT = "import sys; print(' '.join(m for m in {heavy!r} if m in sys.modules))"


def clis() -> list[str]:
    return sorted(p.stem for p in CLI_DIR.glob("*.py") if not p.stem.startswith("_"))


def _walk_runtime(tree: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` without the bodies of ``if TYPE_CHECKING:`` blocks (imports that never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        test = node.test if isinstance(node, ast.If) else None
        if test is not None and "TYPE_CHECKING" in ast.unparse(test):
            todo.extend(node.orelse)  # type: ignore[attr-defined]
        else:
            todo.extend(ast.iter_child_nodes(node))


def closure(cli: str) -> list[str]:
    """The CLI's :func:`reproflow.deps.module_closure` read without annotation-only imports: what its run can import
    (the digests keep those imports; a benchmark must not count a module no run imports)."""
    from reproflow import deps

    with mock.patch.object(ast, "walk", _walk_runtime):
        deps._direct_imports.cache_clear()
        deps.module_closure.cache_clear()
        out = list(deps.module_closure(f"reproflow.cli.{cli}"))
    deps._direct_imports.cache_clear()
    deps.module_closure.cache_clear()
    return out


def child_cpu(args: list[str], env: dict[str, str]) -> tuple[float, str, str]:
    """CPU-s (user + sys) of one child process, its stdout and stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"{' '.join(args[:4])}...: exit {p.returncode}\n{p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, p.stdout, p.stderr


def recorded(folder: Path | None, cli: str) -> list[str] | None:
    """The reproflow modules one recorded job of ``cli`` imported (the first file), or None."""
    files = sorted(folder.glob(f"reproflow.cli.{cli}.*.txt")) if folder else []
    return files[0].read_text().split() if files else None


def code_for(modules: list[str]) -> str:
    return "import " + ", ".join(modules) + "; " + _REPORT.format(heavy=HEAVY)


def self_time_by_package(importtime: str) -> collections.Counter[str]:
    """Own import time (seconds) summed per top-level package, from ``-X importtime`` lines."""
    by = collections.Counter[str]()
    for line in importtime.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            by[m.group(2).split(".")[0]] += int(m.group(1)) / 1e6
    return by


def measure(code: str, repeats: int, env: dict[str, str]) -> tuple[float, str, collections.Counter[str]]:
    py = sys.executable
    cpus = [child_cpu([py, "-c", code], env)[0] for _ in range(repeats)]
    _, loaded, imp = child_cpu([py, "-X", "importtime", "-c", code], env)
    return statistics.median(cpus), loaded.strip(), self_time_by_package(imp)


def planned_jobs(configfile: str) -> collections.Counter[str]:
    """Jobs per CLI module in Snakemake's plan of ``all`` at ``configfile`` (a dry run: nothing executes)."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "all", "-n", "-p", "--forceall", "--cores", "1", "--configfile", configfile],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return collections.Counter(re.findall(r"python -m reproflow\.cli\.(\w+)", out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clis", nargs="+", default=None, help="CLI modules to measure (default: all)")
    ap.add_argument("--repeats", type=int, default=5, help="runs per measurement; the median is printed")
    ap.add_argument("--configfile", default=None, help="a scale's config: sum the start-up over its planned jobs")
    ap.add_argument("--scale-cpu", type=float, default=None, help="that scale's job CPU-s, for the start-up share")
    ap.add_argument("--modules", type=Path, default=None, help="REPROFLOW_RECORD_MODULES folder of a run")
    ap.add_argument("--top", type=int, default=4, help="packages named per CLI by own import time")
    a = ap.parse_args(argv)

    # the jobs' environment: one thread (as every rule's --threads 1 sets), the project's src importable
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    names = a.clis or clis()
    jobs = planned_jobs(a.configfile) if a.configfile else collections.Counter[str]()
    floor, _, _ = measure("pass", a.repeats, env)
    print(f"python -c pass: {floor:.3f} CPU-s (median of {a.repeats})\n")
    print(f"{'cli':26} {'jobs':>4} {'import':>7} {'closure':>7} {'ran':>7}  {'loads (closure / ran)':44} "
          "top own import time (closure; wall s)")
    totals = collections.Counter[str]()
    for cli in names:
        imp_cpu, _, _ = measure(code_for([f"reproflow.cli.{cli}"]), a.repeats, env)
        clo_cpu, clo_loaded, by = measure(code_for(closure(cli)), a.repeats, env)
        ran = recorded(a.modules, cli)
        ran_cpu, ran_loaded, _ = measure(code_for(ran), a.repeats, env) if ran else (float("nan"), "?", None)
        top = ", ".join(f"{k} {v:.2f}" for k, v in by.most_common(a.top))
        n = jobs.get(cli, 0)
        totals.update({"import": n * imp_cpu, "closure": n * clo_cpu, "ran": n * ran_cpu if ran else 0.0})
        loads = f"{clo_loaded or '-'} / {ran_loaded or '-'}"
        print(f"{cli:26} {n:4d} {imp_cpu:7.3f} {clo_cpu:7.3f} {ran_cpu:7.3f}  {loads:44} {top}", flush=True)
    if a.configfile:
        njobs = sum(jobs.values())
        missing = sorted(set(jobs) - set(names))
        print(f"\n{a.configfile}: {njobs} jobs" + (f" (not measured: {', '.join(missing)})" if missing else ""))
        print(f"  interpreter floor (python -c pass x jobs): {njobs * floor:.1f} CPU-s")
        for kind in ("import", "closure", "ran"):
            if kind == "ran" and not a.modules:
                continue
            share = f", {100 * totals[kind] / a.scale_cpu:.1f} % of the scale's {a.scale_cpu:.0f} job CPU-s" \
                if a.scale_cpu else ""
            print(f"  start-up, {kind:7} CPU-s x jobs: {totals[kind]:7.1f} CPU-s{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
