"""Benchmark: how much the depth sweep and the gradient measurements move when only the platform changes.

Identical code and settings can still round differently on another machine: another CPU's vector kernels
(ATen dispatches AVX512 / AVX2 / scalar code at run time), another BLAS code path (MKL's conditional
numerical reproducibility, oneDNN) or another thread count. This script re-runs a few jobs of the pipeline's
CLIs on this one machine under each of those settings, as a stand-in for other machines, and compares every
output with the run under the default settings:

- ``train_depth_cell`` cells of one panel (a depth near the trainability boundary and one far from it):
  bitwise equality of the accuracy and curve tables, the largest |difference| of each metric, and how
  many (sw2, seed) networks change their trained / untrained status (accuracy against the boundary
  threshold chance + boundary_fraction * (max - chance)); beside them the seed-to-seed scale of the default
  run (mean over sw2 columns of the seeds' accuracy range, and how many columns the seeds split on);
- one ``measure_gradients`` group: bitwise equality and the largest relative difference of the per-draw
  g_aa, g_ab, tilde g_ab, and the largest shift of each fitted decay rate (``fit_gradients``' estimator)
  beside its bootstrap interval's half-width.

Settings come from params.yaml plus one config overlay; data from a finished run's data phase.

    nice -n 19 .venv/bin/python benchmarks/bench_platform_variation.py --overlay config/cpu.yaml \
        --data results/cpu/data --out /tmp/platform   # prints a table, writes variation.csv + summary.json

On a shared machine the variants can be split over workers (``--mode run --variants ...``, one of them
listing ``default``) and compared afterwards (``--mode compare``); a job whose worker was stopped is
left out of the table. Thread-count variants are slow to measure on a loaded machine (two OpenMP threads
on two busy cores ran about 10x slower than one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from reproflow.cli._base import format_flags
from reproflow.config import load_config
from reproflow.depthsweep.platform import compare_cells

ROOT = Path(__file__).resolve().parents[1]

# name -> (environment overrides, torch threads, python run before the CLI)
VARIANTS: dict[str, tuple[dict[str, str], int, str]] = {
    "default": ({}, 1, ""),
    "rerun": ({}, 1, ""),
    "aten_avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, 1, ""),
    "aten_scalar": ({"ATEN_CPU_CAPABILITY": "default"}, 1, ""),
    "mkl_cbwr_compatible": ({"MKL_CBWR": "COMPATIBLE"}, 1, ""),
    # what the pipeline's platform check (rule retrain_depth_cell) runs: an AVX2-only CPU for torch and MKL
    "avx2_cpu": ({"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}, 1, ""),
    "mkldnn_off": ({}, 1, "import torch; torch.backends.mkldnn.enabled = False; "),
    "threads_2": ({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, 2, ""),
}


def run_cli(module: str, flags: str, variant: str, log: Path) -> float:
    """Run ``python -m module flags`` under ``variant``; returns the child's CPU seconds."""
    env_over, threads, prelude = VARIANTS[variant]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **env_over}
    env.pop("ATEN_CPU_CAPABILITY", None) if "ATEN_CPU_CAPABILITY" not in env_over else None
    env.pop("MKL_CBWR", None) if "MKL_CBWR" not in env_over else None
    code = f"{prelude}import sys; from {module} import main; sys.exit(main(sys.argv[1:]))"
    cmd = f"{sys.executable} -c {json.dumps(code)} {flags} --threads {threads} --log {log}"
    before = os.times()
    subprocess.run(cmd, shell=True, check=True, env=env, cwd=ROOT)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def cell_flags(ds: dict, panel: dict, depth: int, data: Path, out: Path) -> str:
    return format_flags(
        train=data / f"dataset~{panel['dataset']}" / "train.pt", test=data / f"dataset~{panel['dataset']}" / "test.pt",
        output=out / "accuracy.csv", curves=out / "curves.csv", checkpoint=out / "ckpt.pt", panel=panel["name"],
        dataset=panel["dataset"], depth=depth, sw2_grid=panel["sw2_grid"], seeds=ds["seeds"], rho=panel["rho"],
        init=panel["init"], optimizer=panel["optimizer"], lr=panel["lr"], batch=panel["batch"], steps=panel["steps"],
        width=ds["width"], sb2=ds["sb2"], train_size=ds["train_size"], test_size=ds["test_size"],
        curve_every=ds["curve_every"], checkpoint_every=ds["checkpoint_every"], max_stack=ds["max_stack"],
        device="cpu",
    )


def gradient_flags(mf: dict, group: str, out: Path) -> str:
    runs = [r for r in mf["gradients"]["runs"] if f"{r['role']}_{r['activation']}" == group]
    if not runs:
        raise SystemExit(f"no meanfield.gradients.runs in group {group!r}")
    g = mf["gradients"]
    return format_flags(draws_table=out / "draws.csv", layers_table=out / "layers.csv",
                        gia_draws_table=out / "gia_draws.csv", runs=runs, depth=g["depth"], draws=g["draws"],
                        draws_per_batch=g["draws_per_batch"], seed=mf["seed"], device="cpu")


def _same_bytes(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def compare_cell(ref: Path, var: Path, metric: str, threshold: float) -> dict:
    """:func:`reproflow.depthsweep.platform.compare_cells` (the pipeline's own comparison, with the seeds'
    scale) plus byte equality of both tables and the largest |difference| of the final loss and the curves."""
    a, b = pd.read_csv(ref / "accuracy.csv"), pd.read_csv(var / "accuracy.csv")
    row = {"bitwise": _same_bytes(ref / "accuracy.csv", var / "accuracy.csv")
           and _same_bytes(ref / "curves.csv", var / "curves.csv"), **compare_cells(a, b, metric, threshold)}
    loss = a.merge(b, on=["sw2", "seed", "metric"]).query("metric == 'final_loss'")
    row["max_abs_final_loss"] = float((loss["value_x"] - loss["value_y"]).abs().max())
    ca, cb = pd.read_csv(ref / "curves.csv"), pd.read_csv(var / "curves.csv")
    row["max_abs_curve"] = float((ca["value"] - cb["value"]).abs().max()) if len(ca) == len(cb) else math.nan
    return row


def fitted_rates(folder: Path, mf: dict) -> pd.DataFrame:
    from reproflow.meanfield import rates as RT
    from reproflow.meanfield.tables import read_tables, run_chis

    g = mf["gradients"]
    draws = read_tables([folder / "draws.csv", folder / "gia_draws.csv"])
    boot = RT.BootSettings(g["n_boot"], g["level"], mf["seed"])
    return RT.rate_table(draws, run_chis(draws), g["fit_skip"], g["transient_factor"], g["min_z"], boot)


def compare_gradients(ref: Path, var: Path, ref_rates: pd.DataFrame, mf: dict) -> dict:
    row: dict = {"bitwise": all(_same_bytes(ref / f, var / f) for f in ("draws.csv", "gia_draws.csv"))}
    a, b = pd.read_csv(ref / "draws.csv"), pd.read_csv(var / "draws.csv")
    for m in ("g_aa", "g_ab", "tg_ab"):
        scale = a[m].abs().where(a[m].abs() > 0)
        row[f"max_rel_{m}"] = float(((a[m] - b[m]).abs() / scale).max())
    if row["bitwise"]:
        row["max_rate_shift"] = 0.0
        row["max_rate_shift_over_halfwidth"] = 0.0
        return row
    vr = fitted_rates(var, mf)
    keys = [c for c in ("run", "backward", "curve") if c in ref_rates.columns]
    j = ref_rates.set_index(keys)[["slope", "ci_low", "ci_high"]].join(
        vr.set_index(keys)[["slope"]], rsuffix="_var")
    shift = (j["slope"] - j["slope_var"]).abs()
    half = (j["ci_high"] - j["ci_low"]) / 2
    row["max_rate_shift"] = float(shift.max())
    row["max_rate_shift_over_halfwidth"] = float((shift / half).max())
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--overlay", type=Path, required=True, help="config overlay, e.g. config/cpu.yaml")
    ap.add_argument("--data", type=Path, required=True, help="a finished run's data folder (results/<scale>/data)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--panel", default=None, help="depth-sweep panel (default: the last one, rho < 1 at cpu)")
    ap.add_argument("--depths", type=int, nargs="+", default=[8, 33], help="cells: far from / near the boundary")
    ap.add_argument("--group", default="paper_tanh", help="measure_gradients group (role_activation)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--mode", choices=("all", "run", "compare"), default="all",
                    help="run: only the listed variants' jobs (workers splitting them); compare: only the comparison "
                         "of the variants found under --out with its default/")
    args = ap.parse_args(argv)
    cfg = load_config(ROOT / "params.yaml", ROOT / args.overlay)
    ds, mf = cfg["depth_sweep"], cfg["meanfield"]
    panel = next(p for p in ds["panels"] if p["name"] == args.panel) if args.panel else ds["panels"][-1]
    variants = ["default"] + [v for v in args.variants if v != "default"]
    if args.mode == "run":
        variants = list(args.variants)
    elif args.mode == "compare":
        variants = ["default"] + [v for v in VARIANTS if v != "default" and (args.out / v).is_dir()]
    cpu: dict[tuple[str, str], float] = {}
    for v in variants if args.mode != "compare" else []:
        for d in args.depths:
            out = args.out / v / f"depth~{d}"
            out.mkdir(parents=True, exist_ok=True)
            cpu[(v, f"depth~{d}")] = run_cli("reproflow.cli.train_depth_cell", cell_flags(ds, panel, d, args.data, out),
                                             v, out / "log.txt")
            for f in out.glob("ckpt.pt*"):
                f.unlink()
        out = args.out / v / "gradients"
        out.mkdir(parents=True, exist_ok=True)
        cpu[(v, "gradients")] = run_cli("reproflow.cli.measure_gradients", gradient_flags(mf, args.group, out), v,
                                        out / "log.txt")
        (args.out / v / "cpu_s.json").write_text(json.dumps({k[1]: t for k, t in cpu.items() if k[0] == v}))
        print(f"{time.strftime('%H:%M:%S')} {v} done", file=sys.stderr, flush=True)
    if args.mode == "run":
        return 0
    for v in variants:
        done = args.out / v / "cpu_s.json"
        for job, t in (json.loads(done.read_text()) if done.exists() else {}).items():
            cpu[(v, job)] = t
    metric = ds["boundary_metric"]
    ref = args.out / "default"
    # the panel's threshold from the cells run here (the shallowest cell holds the panel's max accuracy)
    cells = [pd.read_csv(ref / f"depth~{d}" / "accuracy.csv") for d in args.depths]
    best = max(c.loc[c["metric"] == metric, "value"].max() for c in cells)
    chance = 0.1
    threshold = chance + ds["boundary_fraction"] * (best - chance)
    ref_rates = fitted_rates(ref / "gradients", mf)
    rows = []
    for v in variants[1:]:
        for d in args.depths:
            if not (args.out / v / f"depth~{d}" / "accuracy.csv").exists():
                continue  # a job this variant's worker did not run (--depths) or did not finish
            rows.append({"variant": v, "job": f"train_depth_cell {panel['name']} L={d}",
                         "cpu_s": cpu.get((v, f"depth~{d}"), math.nan),
                         **compare_cell(ref / f"depth~{d}", args.out / v / f"depth~{d}", metric, threshold)})
        if not (args.out / v / "gradients" / "draws.csv").exists():
            continue
        rows.append({"variant": v, "job": f"measure_gradients {args.group}", "cpu_s": cpu.get((v, "gradients"), math.nan),
                     **compare_gradients(ref / "gradients", args.out / v / "gradients", ref_rates, mf)})
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "variation.csv", index=False)
    caps = {v: json.loads(next((args.out / v).glob("*/*.run.json")).read_text())["platform"] for v in variants}
    summary = {"panel": panel["name"], "threshold": threshold, "metric": metric,
               "platform": caps, "rate_halfwidth_median": float(((ref_rates.ci_high - ref_rates.ci_low) / 2).median())}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    print(json.dumps(summary, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
