"""Batched against one-at-a-time inner searches of the attacks, side by side in one run (issue 24).

For each scale (quick: SmallCNN on the embedded digits; cpu: LeNet-5 on Fashion-MNIST-ROT) it times, on the same
models and images, with the scale's own settings (params.yaml overlaid with config/<scale>.yaml):

- SPA per image, the evaluation setting (T steps, R restarts, the attribute grid start, early stop): the restarts
  as rows of one batch against one restart after another (``Attack.pass_images`` = 1);
- the attribute grid scan (the attribute-only attack): every grid value in one batch against one value at a time;
- grid-PGD (PGD at every grid value): all values in one batch (the attack as it runs) against a loop over the values;
- SPA-AT's inner step (the short SPA it crafts each training batch with: grid scan, T, K, no early stop): its grid
  scan batched against one value at a time.

It prints, per case, the ratios of CPU-seconds one at a time / batched (the process's CPU time, best of ``--repeats``;
ratios only, since the machine may be shared), batched both as the attacks run by default on this device
(``reproflow.attacks.base.PASS_IMAGES``) and with everything in one pass, and whether all give the same result
(max |x_adv difference|; float32, so round-off from the different batch shapes may show). Models: the scale's seed-0 pretrained models
when ``results/<scale>`` holds them, else randomly initialised ones of the same architectures.

    .venv/bin/python benchmarks/bench_batched_attacks.py                       # quick and cpu (a few CPU-minutes)
    .venv/bin/python benchmarks/bench_batched_attacks.py --scales cpu --images 200
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCALES = {"quick": ("digits_rot", "smallcnn"), "cpu": ("fashion_mnist_rot", "lenet5")}


def _setup(scale: str, n: int, device: Any) -> dict[str, Any]:
    import torch

    from reproflow.config import load_config
    from reproflow.data.store import load_split
    from reproflow.models import NoiseGenerator, RotationOracle, build_classifier, load_classifier, load_generator

    cfg = load_config(ROOT / "params.yaml", ROOT / "config" / f"{scale}.yaml")
    dataset, arch = SCALES[scale]
    root = ROOT / cfg.get("results_root", f"results/{scale}")
    pre = root / "pretrain" / f"dataset~{dataset}" / "seed~0"
    test = root / "data" / f"dataset~{dataset}" / "test.pt"
    am = RotationOracle((-40.0, 40.0))
    if (pre / "classifier.pt").exists() and (pre / "generator.pt").exists() and test.exists():
        split = load_split(test)
        clf, gen = load_classifier(pre / "classifier.pt", device), load_generator(pre / "generator.pt", device)
        am = RotationOracle(tuple(split.meta.get("attribute_range") or (-40.0, 40.0)))
        x, y, a, origin = split.images[:n], split.labels[:n], split.attributes[:n], f"trained ({pre.relative_to(ROOT)})"
    else:
        torch.manual_seed(0)
        clf = build_classifier(arch, 1, 10, 28).to(device).eval()
        gen = NoiseGenerator(1, z_dim=8, width=16).to(device).eval()
        gen.meta = {"eps": 0.05, "steps": 5, "step_size": 0.025}  # type: ignore[assignment]
        x = torch.rand(n, 1, 28, 28)
        with torch.no_grad():
            y = clf(x.to(device)).argmax(1).cpu()
        a, origin = torch.rand(n), "random init (no pretrained models of this scale)"
        for m in (clf, gen):
            for p in m.parameters():
                p.requires_grad_(False)
    grid = cfg["attack"]["eps_grid"][dataset]
    return {"cfg": cfg, "clf": clf, "gen": gen, "am": am, "x": x.to(device), "y": y.to(device), "a": a.to(device),
            "eps": float(sorted(grid)[len(grid) // 2]), "origin": origin, "arch": arch, "dataset": dataset}


def _warm_up(s: dict[str, Any]) -> None:
    """One gradient pass of the classifier and the generator at the largest batch shape, outside the timings
    (oneDNN's first call at a shape pays for its kernel choice)."""
    import torch

    x = s["x"].repeat(2, 1, 1, 1).requires_grad_(True)
    z = torch.zeros(x.shape[0], s["gen"].z_dim, device=x.device)
    (s["clf"](x).sum() + s["gen"](x, x, x, z).sum()).backward()


def _cpu_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def _cases(s: dict[str, Any]) -> list[tuple[str, Callable[[int], Any]]]:
    """(label, run(pass_images) -> x_adv) per case (``Attack.pass_images``: 1 = one grid value / restart at a time)."""
    import torch

    from reproflow.attacks.attribute import AttributeGrid
    from reproflow.attacks.registry import build_attack
    from reproflow.attacks.suite import generator_recursion

    cfg, clf, gen, am, x, y, a, eps = (s[k] for k in ("cfg", "clf", "gen", "am", "x", "y", "a", "eps"))
    at, adv = cfg["attack"], cfg["advtrain"]
    grid = int(at["attribute"]["grid_size"])
    spa_kw = {k: at["spa"][k] for k in ("steps", "restarts", "lr", "attr_lr")}
    rec = generator_recursion(gen)
    sat = adv["spa_at"]
    sat_rec = {"gen_steps": sat["gen_steps"] or rec["gen_steps"],
               "gen_step_factor": sat["gen_step_factor"] or rec["gen_step_factor"]}
    sat_kw = {k: sat[k] for k in ("steps", "restarts", "lr", "attr_lr", "grid_size")}
    train_b = int(adv["training"][s["dataset"]]["batch_size"])
    pgd = at["pgd"]

    def spa(per: int) -> Any:
        atk = build_attack("spa", clf, eps, manipulator=am, generator=gen, grid_size=grid, seed=1, **spa_kw, **rec)
        atk.pass_images = per
        return atk.attack(x, y, a).x_adv

    def scan(per: int) -> Any:
        atk = AttributeGrid(clf, eps, am, grid_size=grid)
        atk.pass_images = per
        return atk.attack(x, y, a).x_adv

    def grid_pgd(per: int) -> Any:
        atk = build_attack("grid_pgd", clf, eps, manipulator=am, grid_size=grid, seed=1, **pgd)
        atk.pass_images = per
        return atk.attack(x, y, a).x_adv

    def spa_at(per: int) -> Any:
        xb, yb, ab = x[:train_b], y[:train_b], a[:train_b]
        atk = build_attack("spa", clf, eps, manipulator=am, generator=gen, early_stop=False, seed=1, **sat_kw, **sat_rec)
        atk.pass_images = per
        return atk.attack(xb, yb, ab, keys=torch.arange(xb.shape[0])).x_adv

    r, t, k = spa_kw["restarts"], spa_kw["steps"], rec["gen_steps"]
    return [
        (f"SPA per image (T {t}, R {r}, K {k}, grid {grid}, early stop)", spa),
        (f"attribute grid scan ({grid} values)", scan),
        (f"grid-PGD ({grid} values x PGD-{pgd['steps']})", grid_pgd),
        (f"SPA-AT inner step (batch {train_b}: grid {sat_kw['grid_size']}, T {sat_kw['steps']}, "
         f"K {sat_rec['gen_steps']})", spa_at),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", nargs="+", default=list(SCALES), choices=list(SCALES))
    ap.add_argument("--images", type=int, default=0, help="test images per scale (0: quick 60, cpu 100)")
    ap.add_argument("--repeats", type=int, default=1, help="best of this many runs of each side")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import torch

    from reproflow.attacks.base import PASS_IMAGES
    from reproflow.device import describe_device, resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    default = PASS_IMAGES.get(device.type, PASS_IMAGES["cpu"])
    print(f"device: {describe_device(device)}, torch threads {torch.get_num_threads()}. Ratios of CPU-s (best of "
          f"{args.repeats}): one grid value / restart at a time over batched, 'default' = at most {default} images per pass "
          "(this device's Attack.pass_images), 'all' = every grid value / restart in one pass; same = max |x_adv "
          "difference| between the three")
    for scale in args.scales:
        s = _setup(scale, args.images or {"quick": 60, "cpu": 100}[scale], device)
        print(f"\n{scale}: {s['arch']} on {s['dataset']}, {s['x'].shape[0]} images, eps {s['eps']:g}; models: {s['origin']}")
        _warm_up(s)
        print(f"  {'case':<64}{'default':>9}{'all':>8}{'same':>10}")
        for label, run in _cases(s):
            t_seq, out_seq = _cpu_time(lambda run=run: run(1), args.repeats)
            t_def, out_def = _cpu_time(lambda run=run: run(default), args.repeats)
            t_all, out_all = _cpu_time(lambda run=run: run(10**9), args.repeats)
            diff = max(float((out_seq - o).abs().max()) for o in (out_def, out_all))
            print(f"  {label:<64}{t_seq / t_def:>8.2f}x{t_seq / t_all:>7.2f}x{diff:>10.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
