"""FLOP/s of the depth-sweep trainer, and the paper-scale Fig. 7 grid's GPU-hours at a stated peak.

    .venv/bin/python benchmarks/bench_gpu_hours.py                          # this machine (CPU)
    .venv/bin/python benchmarks/bench_gpu_hours.py --device cuda --tf32     # on a GPU, TF32 matmuls
    .venv/bin/python benchmarks/bench_gpu_hours.py --peak-tflops 67 --utilisation 0.4

Measured: wall time of ``train_stack`` (forward, backward, SGD update, dropout masks) on one stacked
cell at the paper's width and batch, and the matmul FLOP it performs, counted analytically:
6 x batch x (D*N + (L-2)*N^2 + N*C) per network-step (forward 2, backward 4 multiply-add FLOP per
weight and example). Elementwise work (tanh, mask hashing, updates) is timed but not counted, so
the FLOP/s is the rate of useful matmul work.

Assumed (printed with the result): the device peak (``--peak-tflops``, default 67 = H100 SXM FP32
without tensor cores; TF32 in tensor cores is about 7x more, and opt-in, see reproflow.device), the
fraction of it the trainer sustains (``--utilisation``; only a GPU run can measure it: rerun with
``--device cuda`` and pass the printed fraction), and that every network trains all its steps (no
early stop after divergence: an upper bound). The grid is read from params.yaml (depth_sweep.panels).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from reproflow.depthsweep.batched import StackedMLP
from reproflow.depthsweep.train import Data, cell_specs, train_stack
from reproflow.device import resolve_device

ROOT = Path(__file__).resolve().parents[1]
IN_DIM = {"mnist": 784, "fashion_mnist": 784, "digits": 64, "cifar10": 3072}


def step_flop(batch: int, in_dim: int, width: int, depth: int, classes: int = 10) -> float:
    """Matmul FLOP of one SGD step of one network (forward + backward)."""
    return 6.0 * batch * (in_dim * width + (depth - 2) * width * width + width * classes)


def grid_flop(ds: dict) -> tuple[float, int, int]:
    """(FLOP, cells, networks) of every Fig. 7 panel of params.yaml at full length."""
    flop, cells, nets = 0.0, 0, 0
    for p in ds["panels"]:
        n = len(p["sw2_grid"]) * len(ds["seeds"])
        d = IN_DIM[p["dataset"].removesuffix("_rot")]
        for depth in p["depth_grid"]:
            flop += n * p["steps"] * step_flop(p["batch"], d, ds["width"], depth)
            cells, nets = cells + 1, nets + n
    return flop, cells, nets


def rule_minutes(ds: dict) -> float:
    """Sum of the SLURM runtime requests of train_depth_cell (workflow/rules/common.smk, ds_cell_minutes)."""
    total = 0.0
    for p in ds["panels"]:
        nets = len(p["sw2_grid"]) * len(ds["seeds"])
        for depth in p["depth_grid"]:
            total += int(10 + 3 * 6.0 * nets * p["batch"] * ds["width"] ** 2 * depth * p["steps"] / 5e12 / 60)
    return total


def measure(device: torch.device, width: int, batch: int, depth: int, nets: int, steps: int) -> tuple[float, float]:
    """(seconds, matmul FLOP) of ``steps`` steps of a stack of ``nets`` networks."""
    g = torch.Generator().manual_seed(0)
    n = max(batch, 2000)
    y = torch.randint(0, 10, (n,), generator=g)
    x = (torch.rand(10, 784, generator=g)[y] + 0.3 * torch.rand(n, 784, generator=g)).clamp(0, 1)
    data = Data(x.to(device), y.to(device), x[:500].to(device), y[:500].to(device), 10)
    specs = cell_specs([1.0 + 0.1 * i for i in range(nets)], [0], depth, 0.003)

    def run(k: int) -> float:
        model = StackedMLP(specs, 784, width, depth, 10, 0.05, 0.98, "gaussian", "sgd", device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        train_stack(model, data, k, batch, curve_every=k)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t

    run(1)  # warm-up: allocator, kernels, cudnn autotuning
    t = run(steps)
    return t, nets * steps * step_flop(batch, 784, width, depth)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matmuls on CUDA (reproflow.device)")
    ap.add_argument("--depth", type=int, default=20, help="depth of the measured cell")
    ap.add_argument("--nets", type=int, default=4, help="networks in the measured stack (paper cells: 31)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--peak-tflops", type=float, default=67.0, help="ASSUMED device peak, TFLOP/s")
    ap.add_argument("--utilisation", type=float, default=0.4, help="ASSUMED sustained fraction of the peak")
    args = ap.parse_args()

    ds = yaml.safe_load((ROOT / "params.yaml").read_text())["depth_sweep"]
    device = resolve_device(args.device, tf32=args.tf32)
    width, batch = ds["width"], max(p["batch"] for p in ds["panels"])
    t, flop = measure(device, width, batch, args.depth, args.nets, args.steps)
    rate = flop / t
    total, cells, nets = grid_flop(ds)
    sustained = args.peak_tflops * 1e12 * args.utilisation
    peak_here = ""
    if device.type == "cuda":
        peak_here = f"  = {rate / (args.peak_tflops * 1e12):.2f} of the stated peak (pass it as --utilisation)"

    print("MEASURED")
    print(f"  device          : {device.type}, {torch.get_num_threads()} torch threads, fp32"
          + (f", tf32 {'on' if args.tf32 else 'off'}" if device.type == "cuda" else ""))
    print(f"  cell            : {args.nets} networks x width {width} x depth {args.depth}, batch {batch}, {args.steps} SGD steps")
    print(f"  wall time       : {t:.2f} s   matmul work {flop:.3e} FLOP")
    print(f"  trainer rate    : {rate / 1e9:.2f} GFLOP/s{peak_here}")
    print("PAPER-SCALE FIG. 7 (params.yaml depth_sweep.panels; every network trains all its steps)")
    print(f"  grid            : {len(ds['panels'])} panels, {cells} cells, {nets} networks, {total:.3e} FLOP")
    print("ASSUMED")
    print(f"  device peak     : {args.peak_tflops:g} TFLOP/s (--peak-tflops), sustained fraction {args.utilisation:g} (--utilisation)")
    print("ESTIMATES, side by side")
    print(f"  at the assumed GPU rate  ({sustained / 1e12:6.1f} TFLOP/s): {total / sustained / 3600:10.1f} GPU-hours")
    print(f"  at this run's rate       ({rate / 1e12:6.3f} TFLOP/s): {total / rate / 3600:10.1f} device-hours on {device.type}")
    print(f"  SLURM runtime requested by train_depth_cell (5 TFLOP/s x 3 + 10 min per cell): {rule_minutes(ds) / 60:.1f} hours")
    print(f"  ratio measured rate / assumed GPU rate: {rate / sustained:.2e}")


if __name__ == "__main__":
    main()
