"""Speed of SPA against PGD-20 on the same model and batch, and of the whole quick attack phase.

    .venv/bin/python benchmarks/bench_attack.py                      # CPU, quick-scale models if present
    .venv/bin/python benchmarks/bench_attack.py --device cuda        # on a GPU
    .venv/bin/python benchmarks/bench_attack.py --quick-phase        # also re-run and time the quick attack phase

Prints the wall time per sample of PGD-20 and of SPA with the default T and R of params.yaml,
and their ratio, both with early stopping (the evaluation setting: a sample leaves once
misclassified) and without (fixed compute: every sample runs every step, as in adversarial
training). Models: the quick-scale pretrained digits_rot models (``--seed``, default 0) when they exist
(``results/quick/pretrain``), otherwise randomly initialised ones of the same architectures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _models(device, pre: Path, dataset: str):
    import torch

    from reproflow.data.store import load_split
    from reproflow.models import (
        NoiseGenerator,
        RotationOracle,
        build_classifier,
        load_classifier,
        load_generator,
        load_manipulator,
    )

    test = ROOT / "results" / "quick" / "data" / f"dataset~{dataset}" / "test.pt"
    if (pre / "classifier.pt").exists() and (pre / "generator.pt").exists() and test.exists():
        split = load_split(test)
        clf = load_classifier(pre / "classifier.pt", device)
        am = load_manipulator(pre / "manipulator.pt", device)
        gen = load_generator(pre / "generator.pt", device)
        return clf, am, gen, split.images, split.labels, split.attributes, f"trained ({pre})"
    torch.manual_seed(0)
    clf = build_classifier("smallcnn", 1, 10, 28).to(device).eval()
    gen = NoiseGenerator(1, z_dim=8, width=16).to(device).eval()
    gen.meta = {"eps": 0.2, "steps": 5, "step_size": 0.1}
    am = RotationOracle((-40.0, 40.0))
    x = torch.rand(512, 1, 28, 28)
    with torch.no_grad():
        y = clf(x.to(device)).argmax(1).cpu()
    return clf, am, gen, x, y, torch.rand(512), "random init (no quick models found)"


def _time(fn, device, repeats: int) -> float:
    import torch

    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=128, help="samples per timed batch")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0, help="which quick-scale pretrained models (pretrain seed)")
    ap.add_argument("--quick-phase", action="store_true", help="re-run the quick attack phase with Snakemake and time it")
    args = ap.parse_args(argv)

    import torch

    from reproflow.attacks.registry import build_attack
    from reproflow.attacks.suite import generator_recursion
    from reproflow.device import describe_device, resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["attack"]
    spa_cfg, pgd_cfg = params["spa"], params["pgd"]
    clf, am, gen, x, y, a, origin = _models(device, ROOT / f"results/quick/pretrain/dataset~digits_rot/seed~{args.seed}", "digits_rot")
    n = min(args.batch, x.shape[0])
    x, y, a = x[:n].to(device), y[:n].to(device), a[:n].to(device)
    rec = generator_recursion(gen)
    print(f"device: {describe_device(device)}, torch threads {torch.get_num_threads()}; models: {origin}")
    print(f"batch {n} samples of {tuple(x.shape[1:])}, eps {args.eps}; PGD {pgd_cfg['steps']} steps; "
          f"SPA T={spa_cfg['steps']} R={spa_cfg['restarts']} lr={spa_cfg['lr']}, generator K={rec['gen_steps']}")
    print(f"{'setting':<34}{'PGD-20 ms/sample':>18}{'SPA ms/sample':>16}{'SPA/PGD':>10}")
    for early in (True, False):
        pgd = build_attack("pgd", clf, args.eps, steps=pgd_cfg["steps"], step_factor=pgd_cfg["step_factor"],
                           restarts=pgd_cfg["restarts"], early_stop=early, device=device)
        spa = build_attack("spa", clf, args.eps, manipulator=am, generator=gen, steps=spa_cfg["steps"],
                           restarts=spa_cfg["restarts"], lr=spa_cfg["lr"], attr_lr=spa_cfg["attr_lr"], grid_size=0,
                           early_stop=early, device=device, **rec)
        t_pgd = _time(lambda: pgd.attack(x, y, a), device, args.repeats) / n
        t_spa = _time(lambda: spa.attack(x, y, a), device, args.repeats) / n
        label = "early stop (evaluation)" if early else "no early stop (fixed compute)"
        print(f"{label:<34}{1000 * t_pgd:>18.2f}{1000 * t_spa:>16.2f}{t_spa / t_pgd:>10.1f}")

    if args.quick_phase:
        env = {**os.environ, "XDG_CACHE_HOME": f"/tmp/xdg_bench_{os.getpid()}", "DVC_NO_ANALYTICS": "1",
               "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        cmd = [str(ROOT / ".venv/bin/snakemake"), "attack_all", "--cores", "2", "--configfile", "config/quick.yaml",
               "--forcerun", "evaluate_attacks", "--quiet"]
        t = time.perf_counter()
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        wall = time.perf_counter() - t
        print(f"quick attack phase (snakemake attack_all --cores 2, every job re-run): {wall:.0f} s wall, exit {rc}")
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
