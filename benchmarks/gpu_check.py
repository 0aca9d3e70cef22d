"""Time one paper-size unit of each heavy rule for a bounded number of steps; write a CSV of seconds per
unit and the device-hour estimate per phase (benchmarks/gpu_check.sh runs it after the smoke scale).

    .venv/bin/python benchmarks/gpu_check.py --device cuda --out results/gpu_check/gpu_check.csv
    .venv/bin/python benchmarks/gpu_check.py --device cpu --steps 1 --out /tmp/x.csv   # CPU path (small bounds)

Sizes come from params.yaml (the paper scale), never from an overlay. What is timed, per rule:

- train_classifier: SGD steps of each paper architecture (LeNet-5, ResNet-20, ResNet-18 on 64 px CelebA)
  at the paper batch size on inputs of the real shape -> seconds per epoch (x the real training-set size
  / batch) -> hours for every (dataset, seed) job of the phase (seeds + the editor seed);
- train_defence: the same step plus the measured input-gradient step times each defence's inner steps
  (standard 0, PGD-AT and TRADES ``steps``, attribute augmentation 1, SPA-AT ``steps x restarts``): a cost
  MODEL over measured parts, labelled as such;
- evaluate_attacks: input-gradient steps at ``attack.batch_size`` -> PGD-``steps`` over the test set per eps
  (a lower bound of the attack job: the other attacks add to it);
- train_depth_cell: the stacked trainer of benchmarks/bench_gpu_hours.py on the largest paper cell
  (all sw2 x seeds, the deepest L) -> FLOP/s -> the Fig. 7 grid's hours;
- measure_gradients: exact-backprop gradient draws of a width-1000 depth-200 network -> seconds per draw
  -> every run's draws.

Each row: rule, what, unit, seconds per unit (measured), units of the paper phase, estimated hours, how.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

# training-set and test-set sizes of the published datasets (torchvision's splits; CelebA's partition 0 / 2)
TRAIN_N = {"mnist_rot": 60000, "fashion_mnist_rot": 60000, "cifar10_rot": 50000, "celeba": 162770}
TEST_N = {"mnist_rot": 10000, "fashion_mnist_rot": 10000, "cifar10_rot": 10000, "celeba": 19962}
SHAPE = {"mnist_rot": (1, 28, 28, 10), "fashion_mnist_rot": (1, 28, 28, 10), "cifar10_rot": (3, 32, 32, 10)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, steps: int, device: torch.device) -> float:
    fn()  # warm-up: allocator, kernels, cudnn autotuning
    _sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(device)
    return (time.perf_counter() - t) / steps


MAX_BATCH = 0  # --max-batch: the CPU path times smaller batches and scales linearly (labelled in the rows)


def classifier_steps(arch: str, shape: tuple[int, int, int, int], batch: int, steps: int, device: torch.device) -> tuple[float, float]:
    """(seconds per SGD step, seconds per input-gradient step) at ``batch`` (measured at ``MAX_BATCH`` and
    scaled linearly when that is smaller)."""
    from reproflow.models import build_classifier

    scale = 1.0
    if 0 < MAX_BATCH < batch:
        batch, scale = MAX_BATCH, batch / MAX_BATCH
    c, h, _, k = shape
    model = build_classifier(arch, c, k, h).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, c, h, h, device=device)
    y = torch.randint(0, k, (batch,), device=device)

    def train() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    def input_grad() -> None:
        xa = x.clone().requires_grad_(True)
        torch.autograd.grad(torch.nn.functional.cross_entropy(model(xa), y), xa)

    return _timed(train, steps, device) * scale, _timed(input_grad, steps, device) * scale


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (or draws) per measurement")
    ap.add_argument("--depth-nets", type=int, default=0, help="networks of the timed depth cell (0 = the paper cell's)")
    ap.add_argument("--depth-depth", type=int, default=0, help="depth of the timed depth cell (0 = the paper's deepest)")
    ap.add_argument("--mf-width", type=int, default=1000)
    ap.add_argument("--mf-depth", type=int, default=200)
    ap.add_argument("--max-batch", type=int, default=0, help="time at most this batch and scale linearly (CPU path; 0 = the paper's)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    global MAX_BATCH
    MAX_BATCH = args.max_batch
    from reproflow.device import resolve_device

    device = resolve_device(args.device, tf32=True)
    cfg = yaml.safe_load((ROOT / "params.yaml").read_text())
    shapes = {**SHAPE, "celeba": (3, cfg["data"]["celeba_size"], cfg["data"]["celeba_size"], 2)}
    pre, adv, att = cfg["pretrain"], cfg["advtrain"], cfg["attack"]
    rows: list[dict] = []

    def row(rule, what, unit, sec, units, how, hours=None):
        hours = sec * units / 3600 if hours is None else hours
        if MAX_BATCH and rule != "measure_gradients" and rule != "train_depth_cell":
            how += f" (timed at batch <= {MAX_BATCH}, scaled linearly)"
        rows.append({"rule": rule, "what": what, "unit": unit, "seconds_per_unit": round(sec, 4), "units": units,
                     "hours": round(hours, 3), "how": how, "device": str(device)})
        print(f"{rule:22s} {what:28s} {sec:9.3f} s/{unit:8s} x {units:>9} -> {hours:9.2f} h")

    # input-gradient steps per training step; a forward-only scan (SPA-AT's attribute grid, worst-of-k's k
    # rotations) counts as a third of one (a forward is about a third of a forward + backward)
    inner = {"standard": 0, "pgd_at": adv["pgd_at"]["steps"], "trades": adv["trades"]["steps"],
             "attribute_augmentation": 1,
             "spa_at": adv["spa_at"]["steps"] * adv["spa_at"]["restarts"] + math.ceil(adv["spa_at"].get("grid_size", 0) / 3),
             "worst_of_k": adv["worst_of_k"]["steps"] + math.ceil(adv["worst_of_k"]["k"] / 3)}
    if missing := set(adv["defences"]) - set(inner):
        raise SystemExit(f"gpu_check.py: no cost model for defence(s) {sorted(missing)}; add them to `inner`")
    for ds in pre["datasets"]:
        cl = pre["classifier"][ds]
        t_train, t_grad = classifier_steps(cl["arch"], shapes[ds], cl["batch_size"], args.steps, device)
        per_epoch = math.ceil(TRAIN_N[ds] / cl["batch_size"])
        row("train_classifier", f"{ds} {cl['arch']}", "epoch", t_train * per_epoch, cl["epochs"] * (len(pre["seeds"]) + 1),
            f"measured SGD step at batch {cl['batch_size']} x {per_epoch} steps")
        tr = adv["training"][ds]
        t_train_adv, _ = (t_train, t_grad) if tr["batch_size"] == cl["batch_size"] else classifier_steps(
            cl["arch"], shapes[ds], tr["batch_size"], args.steps, device)
        per_epoch_adv = math.ceil(TRAIN_N[ds] / tr["batch_size"])
        for d in adv["defences"]:
            k = inner[d] if (tr["epochs"] - tr["warmup_epochs"]) > 0 else 0
            row("train_defence", f"{ds} {d}", "epoch", (t_train_adv + k * t_grad) * per_epoch_adv,
                tr["epochs"] * len(pre["seeds"]),
                f"model: measured train step + {k} measured input-gradient steps, x {per_epoch_adv} steps")
        b = att["batch_size"]
        _, t_grad_b = classifier_steps(cl["arch"], shapes[ds], b, max(1, args.steps // 2), device)
        row("evaluate_attacks", f"{ds} pgd-{att['pgd']['steps']}", "eps", t_grad_b * att["pgd"]["steps"] * math.ceil(TEST_N[ds] / b),
            len(att["eps_grid"][ds]) * len(pre["seeds"]), f"measured input-gradient step at batch {b}; PGD only (lower bound)")

    from bench_gpu_hours import grid_flop, measure

    ds_cfg = cfg["depth_sweep"]
    nets = args.depth_nets or len(ds_cfg["panels"][0]["sw2_grid"]) * len(ds_cfg["seeds"])
    depth = args.depth_depth or max(max(p["depth_grid"]) for p in ds_cfg["panels"])
    batch = ds_cfg["panels"][0]["batch"]
    secs, flop = measure(device, ds_cfg["width"], batch, depth, nets, args.steps)
    total_flop, cells, _ = grid_flop(ds_cfg)
    rate = flop / secs
    row("train_depth_cell", f"{nets} nets x L{depth} x N{ds_cfg['width']}", "cell-step", secs / args.steps,
        cells, f"measured {rate / 1e12:.3g} TFLOP/s; the grid's {total_flop:.3g} FLOP ({cells} cells) at that rate",
        hours=total_flop / rate / 3600)

    from reproflow.meanfield.gradients import measure_gradient_pair

    gen = torch.Generator(device=device).manual_seed(0)
    mf = cfg["meanfield"]["gradients"]

    def draw() -> None:
        measure_gradient_pair("tanh", 1.4, 0.1, 0.9, args.mf_width, args.mf_depth, 1, "standard", gen, device, 1)

    sec = _timed(draw, max(1, args.steps // 5), device)
    row("measure_gradients", f"width {args.mf_width} depth {args.mf_depth}", "draw", sec, len(mf["runs"]) * mf["draws"],
        "measured exact backprop + GIA counterfactual of one draw; x draws x runs (narrower runs cost less)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        phases: dict[str, float] = {}
        for r in rows:
            phases[r["rule"]] = phases.get(r["rule"], 0.0) + r["hours"]
        for rule, hours in phases.items():
            w.writerow({"rule": rule, "what": "PHASE TOTAL", "unit": "", "seconds_per_unit": "", "units": "",
                        "hours": round(hours, 2), "how": "sum of the rows above", "device": str(device)})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
