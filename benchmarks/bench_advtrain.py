"""Cost of one training step of each defence relative to standard training, on the same model and batch.

    .venv/bin/python benchmarks/bench_advtrain.py                       # CPU, quick-scale settings
    .venv/bin/python benchmarks/bench_advtrain.py --scale paper         # params.yaml's (paper) inner-attack settings
    .venv/bin/python benchmarks/bench_advtrain.py --device cuda

Models: the quick-scale pretrained digits_rot models of seed 0 (``results/quick/pretrain``, override with
``--pretrain``) when they exist, otherwise randomly initialised ones of the same architectures. Settings:
params.yaml's ``advtrain`` section merged with ``config/quick.yaml`` (``--scale quick``, default) or alone.
Prints milliseconds per step (crafting + forward + backward + optimiser step) and the ratio to standard
training, then the cost of one SPA-AT generator-refresh batch.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import torch

    from reproflow.attacks.suite import generator_recursion
    from reproflow.config import load_config
    from reproflow.data.store import Split, load_split
    from reproflow.defences.base import DefenceName
    from reproflow.defences.refresh import RefreshSettings
    from reproflow.defences.registry import build_defence
    from reproflow.models import (
        NoiseGenerator,
        RotationOracle,
        build_classifier,
        load_classifier,
        load_generator,
        load_manipulator,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["quick", "paper"], default="quick")
    ap.add_argument("--pretrain", type=Path, default=ROOT / "results/quick/pretrain/dataset~digits_rot/seed~0")
    ap.add_argument("--data", type=Path, default=ROOT / "results/quick/data/dataset~digits_rot/train.pt")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    cfg = load_config(ROOT / "params.yaml", *([ROOT / "config/quick.yaml"] if args.scale == "quick" else []))["advtrain"]

    if (args.pretrain / "generator.pt").exists() and args.data.exists():
        train = load_split(args.data)
        model = load_classifier(args.pretrain / "classifier.pt", device, frozen=False)
        am = load_manipulator(args.pretrain / "manipulator.pt", device)
        gen = load_generator(args.pretrain / "generator.pt", device)
        source = f"pretrained models in {args.pretrain}"
    else:
        g = torch.Generator().manual_seed(0)
        n = 4 * args.batch
        train = Split(torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g),
                      torch.rand(n, generator=g), torch.zeros(n), None, {"num_classes": 10})
        model = build_classifier("smallcnn", 1, 10, 28).to(device)
        am = RotationOracle((-40.0, 40.0))
        gen = NoiseGenerator(1, 8, 16).to(device).eval()
        gen.meta = {"eps": 0.2, "steps": 5, "step_size": 0.1}  # type: ignore[assignment]
        for p in gen.parameters():
            p.requires_grad_(False)
        source = "randomly initialised models (no quick pretrain outputs found)"
    for p in model.parameters():
        p.requires_grad_(True)
    rec = generator_recursion(gen)
    eps = 0.1
    spa = cfg["spa_at"]
    gen_steps = spa["gen_steps"] or rec["gen_steps"]
    gen_factor = spa["gen_step_factor"] or rec["gen_step_factor"]
    refresh = RefreshSettings(1, spa["refresh_batch_size"], spa["refresh_lr"], eps, gen_steps, gen_factor,
                              spa["refresh_div_weight"])
    settings = {
        DefenceName.STANDARD: {},
        DefenceName.PGD_AT: cfg["pgd_at"],
        DefenceName.TRADES: cfg["trades"],
        DefenceName.ATTRIBUTE_AUGMENTATION: {},
        DefenceName.SPA_AT: {"steps": spa["steps"], "restarts": spa["restarts"], "lr": spa["lr"], "gen_steps": gen_steps,
                             "gen_step_factor": gen_factor, "loss_weights": tuple(spa["loss_weights"]),
                             "refresh_every": spa["refresh_every"], "refresh": refresh},
    }
    x, y = train.images[: args.batch].to(device), train.labels[: args.batch].to(device)
    a, keys = train.attributes[: args.batch].to(device), torch.arange(args.batch)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    print(f"{args.scale} settings, batch {args.batch}, {source}, device {device}")
    base = None
    for name, kw in settings.items():
        d = build_defence(name, eps, seed=0, manipulator=am, generator=gen, train=train, **kw)
        model.train()
        d.step(model, x, y, a, keys)  # warm-up (allocations)
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            out = d.step(model, x, y, a, keys)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
        ms = 1000 * (time.perf_counter() - t0) / args.repeats
        base = base or ms
        print(f"  {name.value:24s} {ms:8.1f} ms/step   x{ms / base:5.1f} standard")
    t0 = time.perf_counter()
    d.refresher.refresh(model, am, train, torch.Generator().manual_seed(0))
    ms = 1000 * (time.perf_counter() - t0)
    print(f"  spa_at generator refresh {ms:8.1f} ms/batch of {spa['refresh_batch_size']} (x{ms / base:.1f} standard step)")


if __name__ == "__main__":
    main()
