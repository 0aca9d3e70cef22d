"""Benchmark: channels-last (NHWC) against contiguous (NCHW) convolution weights, side by side.

Every conv model of the SPA phases stores its weights channels-last (``reproflow.models._ckpt.channels_last``).
This script times one training step (forward and backward, input gradient included, as attacks and
adversarial training need it) of each model in both layouts on the same inputs, and prints the ratio and
the largest difference between the two layouts' input gradients (they compute the same function).

    .venv/bin/python benchmarks/bench_layout.py                  # CPU, one thread (the workflow's jobs)
    .venv/bin/python benchmarks/bench_layout.py --device cuda    # on a GPU
"""

from __future__ import annotations

import argparse
import time

import torch

from reproflow.models import MSPManipulator, NoiseGenerator, build_classifier


def _step(model, inputs, call):
    def run():
        xs = [x.clone().requires_grad_(True) for x in inputs]
        out = call(model, *xs)
        (g,) = torch.autograd.grad(out.float().pow(2).mean(), xs[0])
        return g

    return run


def _time(fn, device: torch.device, reps: int) -> float:
    for _ in range(3):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(device)

    cases = [
        ("smallcnn (digits, batch 128)", build_classifier("smallcnn", 1, 10, 28), [rand(128, 1, 28, 28)],
         lambda m, x: m(x)),
        ("lenet5 (Fashion-MNIST, batch 128)", build_classifier("lenet5", 1, 10, 28), [rand(128, 1, 28, 28)],
         lambda m, x: m(x)),
        ("resnet20 (CIFAR-10, batch 64)", build_classifier("resnet20", 3, 10, 32), [rand(64, 3, 32, 32)],
         lambda m, x: m(x)),
        ("msp manipulator (batch 64)", MSPManipulator(1, 28, 64, 32), [rand(64, 1, 28, 28)],
         lambda m, x: m.reconstruct(x)),
        ("noise generator (batch 128)", NoiseGenerator(1, 8, 16),
         [rand(128, 1, 28, 28), rand(128, 1, 28, 28), rand(128, 1, 28, 28), torch.randn(128, 8, generator=gen).to(device)],
         lambda m, x, g, d, z: m(x, g, d, z)),
    ]
    print(f"device {device}, {args.threads} thread(s), {args.reps} steps each (forward + backward)")
    print(f"{'model':36s} {'NCHW ms':>9s} {'NHWC ms':>9s} {'speed-up':>9s} {'max |grad diff|':>16s}")
    for name, model, inputs, call in cases:
        model = model.to(device)
        nhwc = _step(model, inputs, call)
        t_nhwc, g_nhwc = _time(nhwc, device, args.reps), nhwc()
        model.to(memory_format=torch.contiguous_format)
        nchw = _step(model, inputs, call)
        t_nchw, g_nchw = _time(nchw, device, args.reps), nchw()
        diff = float((g_nhwc - g_nchw).abs().max())
        print(f"{name:36s} {t_nchw * 1e3:9.1f} {t_nhwc * 1e3:9.1f} {t_nchw / t_nhwc:8.2f}x {diff:16.2e}")


if __name__ == "__main__":
    main()
