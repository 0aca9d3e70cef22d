"""Benchmark: stacked training of one depth-sweep cell against one network at a time, and the trainer
before/after its optimisation, all side by side in one run.

One cell at the cpu scale's panel size: width 128, 16 sw2 columns x 2 seeds = 32 networks of one depth
stacked, batch 64, orthogonal tanh networks, SGD at lr 0.01, dropout keep rho 1 and 0.98. The four
variants (stacked / one-at-a-time, current trainer / the trainer at ``--before``, default the commit
before the optimisation) are timed in interleaved repetitions on the same inputs; the script prints
medians as RATIOS (absolute times on a shared machine are not comparable across runs; CPU time of this process on
a CPU, wall time after a synchronise on a GPU) and checks
that the current stacked trainer reproduces the ``--before`` one bit for bit and the one-at-a-time
networks to float tolerance. One-at-a-time is timed on ``--singles`` of the 32 networks and scaled
(every network of a cell has the same shapes, so the same cost).

    .venv/bin/python benchmarks/bench_depth_sweep.py                 # CPU, one thread
    .venv/bin/python benchmarks/bench_depth_sweep.py --device cuda   # on a GPU (adds the paper's cell)

The paper grid is read from params.yaml (depth_sweep.panels): cost is proportional to
networks x steps x depth, so throughput is measured in network-layer-steps per second.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import torch
import yaml

from reproflow.depthsweep.batched import StackedMLP
from reproflow.depthsweep.train import Data, cell_specs, train_stack

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "f339236"  # the trainer before the mask/update/in-place tanh optimisation


def _data(n: int, d: int, device: torch.device) -> Data:
    g = torch.Generator().manual_seed(0)
    protos = torch.rand(10, d, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    x = (protos[y] + 0.3 * torch.rand(n, d, generator=g)).clamp(0, 1)
    return Data(x.to(device), y.to(device), x[:500].to(device), y[:500].to(device), 10)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _load_before(rev: str) -> ModuleType:
    """``reproflow.depthsweep.batched`` as it was at git revision ``rev`` (an importable copy)."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/reproflow/depthsweep/batched.py"],
        check=True, capture_output=True, text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "batched_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("batched_before", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["batched_before"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _train(cls, specs, data, width, depth, rho, steps, batch, device):
    model = cls(specs, data.in_dim, width, depth, 10, 0.05, rho, "orthogonal", "sgd", device)
    # on a CPU this process's CPU time (a shared machine's wall clock counts the other jobs too); on a GPU the wall
    # clock after a synchronise (the host's CPU time would miss the kernels)
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    _sync(device)
    t = clock()
    rec = train_stack(model, data, steps, batch, curve_every=steps)
    _sync(device)
    return model, rec, clock() - t


def compare(width: int, depth: int, n_sw2: int, n_seeds: int, batch: int, steps: int, rho: float,
            device: torch.device, before: ModuleType | None, singles: int, reps: int) -> None:
    data = _data(2000, 784, device)
    sw2 = [1.0 + 3.0 * i / max(1, n_sw2 - 1) for i in range(n_sw2)]
    specs = cell_specs(sw2, list(range(n_seeds)), depth, 0.01)
    k = min(singles, len(specs))
    picks = [round(i * (len(specs) - 1) / max(1, k - 1)) for i in range(k)]
    classes = {"after": StackedMLP} | ({"before": before.StackedMLP} if before is not None else {})
    for cls in classes.values():
        _train(cls, specs[:1], data, width, depth, rho, 2, batch, device)  # warm-up (allocator, kernels)
    times: dict[str, list[float]] = {f"{v} {m}": [] for v in classes for m in ("stacked", "singles")}
    models, recs = {}, {}
    for r in range(reps):
        order = list(classes.items())
        for name, cls in order if r % 2 == 0 else order[::-1]:  # interleaved, alternating order
            stack, rec, t_stack = _train(cls, specs, data, width, depth, rho, steps, batch, device)
            times[f"{name} stacked"].append(t_stack)
            models[name], recs[name] = stack, rec
            t_single = 0.0
            for j in picks:
                single, r1, t1 = _train(cls, [specs[j]], data, width, depth, rho, steps, batch, device)
                t_single += t1
                if name == "after" and r == 0:
                    diff_w = max(float((a[j] - b[0]).detach().abs().max()) for a, b in zip(stack.params(), single.params()))
                    diff_loss = abs(rec.final_loss[j] - r1.final_loss[0])
                    models.setdefault("diff", []).append((diff_w, diff_loss))
            times[f"{name} singles"].append(t_single * len(specs) / k)
    med = {key: statistics.median(v) for key, v in times.items()}
    ns = len(specs) * steps
    print(f"cell: {device.type}, S={len(specs)} networks ({n_sw2} sw2 x {n_seeds} seeds), width {width}, depth {depth}, "
          f"batch {batch}, rho {rho}, {steps} SGD steps, threads {torch.get_num_threads()}, {reps} interleaved reps "
          f"(singles timed on {k} networks, scaled x{len(specs) / k:.1f})")
    for name in classes:
        print(f"  {name:6s} stacked {ns / med[f'{name} stacked']:8.1f} network-steps/s | one at a time "
              f"{ns / med[f'{name} singles']:8.1f} | stacked vs one-at-a-time {med[f'{name} singles'] / med[f'{name} stacked']:.2f}x")
    if before is not None:
        same = recs["after"].as_dict() == recs["before"].as_dict() and all(
            torch.equal(a, b) for a, b in zip(models["after"].params(), models["before"].params())
        )
        print(f"  before/after: stacked {med['before stacked'] / med['after stacked']:.2f}x, one at a time "
              f"{med['before singles'] / med['after singles']:.2f}x; results bitwise identical: {same}")
    dw = max(d[0] for d in models["diff"])
    dl = max(d[1] for d in models["diff"])
    print(f"  stacked vs one at a time (current trainer): largest |diff| weights {dw:.2e}, final loss {dl:.2e}")


def stack_floor(depth: int, steps: int, rho: float, device: torch.device, sizes: tuple[int, ...] = (1, 4, 16, 32, 64, 128)) -> None:
    """Time per network-step of the stacked trainer as the stack grows (the cpu scale's cell shape: width 128,
    batch 64). One network alone pays the per-step Python and dispatch cost in full; a large stack spreads it over
    its networks, so the time per network-step falls toward the cost of the arithmetic itself (the matmuls and
    elementwise kernels every network needs however it is scheduled). ``S=1 / S=n`` is then the most stacking can
    give over one network at a time: when it flattens out before n = 32, the cpu cell's 32 networks already sit at
    that floor and only faster kernels, not fewer Python steps, can raise the stacked-vs-one-at-a-time ratio."""
    data = _data(2000, 784, device)
    per: dict[int, float] = {}
    for n in sizes:
        specs = cell_specs([1.0 + 3.0 * i / max(1, n - 1) for i in range(n)], [0], depth, 0.01)
        _train(StackedMLP, specs[:1], data, 128, depth, rho, 2, 64, device)  # warm-up
        times = []
        for _ in range(3):
            times.append(_train(StackedMLP, specs, data, 128, depth, rho, steps, 64, device)[2])
        per[n] = statistics.median(times) / (n * steps)
    print(f"stack floor: {device.type}, width 128, depth {depth}, batch 64, rho {rho}, {steps} steps; CPU time per "
          "network-step relative to one network alone (S=1 / S=n: the most stacking can give at that size):")
    print("  " + " | ".join(f"S={n}: {per[1] / per[n]:.2f}x" for n in sizes))


def op_shares(depth: int, steps: int, rho: float, device: torch.device, sizes: tuple[int, ...] = (32, 1)) -> None:
    """Where a training step's CPU time goes, stacked (S=32) and one network alone (S=1), from torch's profiler: the
    share of each op's own time. The matmuls (``baddbmm`` forward, ``bmm`` backward), ``tanh_`` and, with dropout,
    the mask hash are the arithmetic every network needs however it is scheduled; what stacking removes is the rest,
    the per-op Python and dispatch cost of the one-network run, so the stacked-vs-one-at-a-time ratio cannot exceed
    one network's time over its arithmetic's."""
    from torch.profiler import ProfilerActivity, profile

    data = _data(2000, 784, device)
    for n in sizes:
        specs = cell_specs([1.0 + 3.0 * i / max(1, n - 1) for i in range(n)], [0], depth, 0.01)
        model = StackedMLP(specs, data.in_dim, 128, depth, 10, 0.05, rho, "orthogonal", "sgd", device)
        train_stack(model, data, 2, 64, curve_every=2)  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train_stack(model, data, steps, 64, curve_every=steps)
        ops = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in ops) or 1.0
        top = sorted(ops, key=lambda e: -e.self_cpu_time_total)[:8]
        print(f"op shares: S={n}, width 128, depth {depth}, batch 64, rho {rho}: "
              + ", ".join(f"{e.key.removeprefix('aten::')} {100 * e.self_cpu_time_total / total:.0f} %" for e in top))


def paper_estimate(device: torch.device, depth: int, n_sw2: int, steps: int) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["depth_sweep"]
    width = params["width"]
    batch = max(p["batch"] for p in params["panels"])
    data = _data(max(batch, 2000), 784, device)
    specs = cell_specs([1.0 + 0.1 * i for i in range(n_sw2)], [0], depth, 0.003)
    _train(StackedMLP, specs, data, width, depth, 0.98, 1, batch, device)  # warm-up
    _, _, t = _train(StackedMLP, specs, data, width, depth, 0.98, steps, batch, device)
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
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--depth", type=int, default=33)  # the cell measured at 57 CPU-s (300 steps)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--singles", type=int, default=8, help="networks timed one at a time (of the 32)")
    ap.add_argument("--before", default=BEFORE, help="git revision of the trainer to compare with ('' = none)")
    ap.add_argument("--rho", type=float, nargs="+", default=[1.0, 0.98])
    ap.add_argument("--floor", action="store_true", help="only the stack-size scan and the op shares at each --rho")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.floor:
        for rho in args.rho:
            stack_floor(args.depth, args.steps, rho, device)
            op_shares(args.depth, min(args.steps, 5), rho, device)
        return
    before = _load_before(args.before) if args.before else None
    for rho in args.rho:  # the cpu scale's cell: width 128, 16 sw2 x 2 seeds, batch 64
        compare(128, args.depth, 16, 2, 64, args.steps, rho, device, before, args.singles, args.reps)
    if device.type == "cuda":  # the paper's cell: width 400, 31 sw2, batch 1000
        compare(400, 50, 31, 1, 1000, args.steps, 0.98, device, before, args.singles, args.reps)
        paper_estimate(device, depth=100, n_sw2=31, steps=20)
    else:
        paper_estimate(device, depth=4, n_sw2=7, steps=2)


if __name__ == "__main__":
    main()
