"""Benchmark: batched (stacked) training of S networks against a loop over single networks.

Prints network-steps per second for both, the largest difference between their results (they must
agree), the ratio, and an estimate of the paper-scale Fig. 7 grid's device hours from the measured
throughput of the stacked trainer at the paper's width and batch.

    .venv/bin/python benchmarks/bench_depth_sweep.py                 # CPU, quick settings
    .venv/bin/python benchmarks/bench_depth_sweep.py --device cuda   # on a GPU

The paper grid is read from params.yaml (depth_sweep.panels): cost is proportional to
networks x steps x depth, so throughput is measured in network-layer-steps per second.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from reproflow.depthsweep.batched import StackedMLP
from reproflow.depthsweep.train import Data, cell_specs, train_stack

ROOT = Path(__file__).resolve().parents[1]


def _data(n: int, d: int, device: torch.device) -> Data:
    g = torch.Generator().manual_seed(0)
    protos = torch.rand(10, d, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    x = (protos[y] + 0.3 * torch.rand(n, d, generator=g)).clamp(0, 1)
    return Data(x.to(device), y.to(device), x[:500].to(device), y[:500].to(device), 10)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _train(specs, data, width, depth, rho, steps, batch, device):
    model = StackedMLP(specs, data.in_dim, width, depth, 10, 0.05, rho, "orthogonal", "sgd", device)
    _sync(device)
    t = time.perf_counter()
    rec = train_stack(model, data, steps, batch, curve_every=steps)
    _sync(device)
    return model, rec, time.perf_counter() - t


def compare(width: int, depth: int, n_sw2: int, batch: int, steps: int, rho: float, device: torch.device) -> None:
    data = _data(2000, 784, device)
    sw2 = [1.0 + 3.0 * i / max(1, n_sw2 - 1) for i in range(n_sw2)]
    specs = cell_specs(sw2, [0], depth, 0.01)
    _train(specs[:1], data, width, depth, rho, 2, batch, device)  # warm-up (allocator, kernels)
    stack, rec, t_stack = _train(specs, data, width, depth, rho, steps, batch, device)
    t_single, diff_w, diff_loss = 0.0, 0.0, 0.0
    for j, spec in enumerate(specs):
        single, r1, t1 = _train([spec], data, width, depth, rho, steps, batch, device)
        t_single += t1
        diff_w = max(diff_w, max(float((a[j] - b[0]).detach().abs().max()) for a, b in zip(stack.params(), single.params())))
        diff_loss = max(diff_loss, abs(rec.final_loss[j] - r1.final_loss[0]))
    ns = len(specs) * steps
    print(f"settings: {device.type}, S={len(specs)} networks, width {width}, depth {depth}, batch {batch}, "
          f"rho {rho}, {steps} SGD steps, threads {torch.get_num_threads()}")
    print(f"  stacked : {ns / t_stack:9.1f} network-steps/s  ({t_stack:.2f} s)")
    print(f"  singles : {ns / t_single:9.1f} network-steps/s  ({t_single:.2f} s)")
    print(f"  speed-up: {t_single / t_stack:.2f}x   largest |diff|: weights {diff_w:.2e}, final loss {diff_loss:.2e}")


def paper_estimate(device: torch.device, depth: int, n_sw2: int, steps: int) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["depth_sweep"]
    width = params["width"]
    batch = max(p["batch"] for p in params["panels"])
    data = _data(max(batch, 2000), 784, device)
    specs = cell_specs([1.0 + 0.1 * i for i in range(n_sw2)], [0], depth, 0.003)
    _train(specs, data, width, depth, 0.98, 1, batch, device)  # warm-up
    _, _, t = _train(specs, data, width, depth, 0.98, steps, batch, device)
    thr = len(specs) * steps * depth / t  # network-layer-steps per second
    total = sum(len(p["sw2_grid"]) * len(params["seeds"]) * p["steps"] * sum(p["depth_grid"]) for p in params["panels"])
    hours = total / thr / 3600
    print(f"paper grid: {len(params['panels'])} panels, {total:.3e} network-layer-steps (width {width}, batch {batch})")
    print(f"  measured {thr:.3e} network-layer-steps/s on {device.type} (S={len(specs)}, L={depth}, {steps} steps, rho 0.98)")
    print(f"  estimated {hours:.1f} {'GPU' if device.type == 'cuda' else 'CPU'}-hours for the whole Fig. 7 grid "
          f"(MNIST input size; CIFAR-10's larger first layer adds a little)")
    flops = 6.0 * total * batch * width**2  # forward + backward multiply-adds of the N x N layers
    print(f"  FLOP count {flops:.2e}: {flops / 20e12 / 3600:.0f} GPU-hours at an ASSUMED 20 TFLOP/s sustained "
          "(not measured; run with --device cuda on a GPU for a measured estimate)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)  # more threads than free cores stalls (shared machine)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    # quick scale (config/quick.yaml): width 128, 7 sw2, batch 64
    compare(width=128, depth=16, n_sw2=7, batch=64, steps=args.steps, rho=0.98, device=device)
    if device.type == "cuda":  # the paper's cell: width 400, 31 sw2, batch 1000
        compare(width=400, depth=50, n_sw2=31, batch=1000, steps=args.steps, rho=0.98, device=device)
        paper_estimate(device, depth=100, n_sw2=31, steps=20)
    else:
        paper_estimate(device, depth=4, n_sw2=7, steps=2)


if __name__ == "__main__":
    main()
