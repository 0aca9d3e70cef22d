"""Training speed against learning rate and depth (Huang et al., ECAI 2020, Fig. 6).

For a depth L and learning rates ``eta_i = 10^(-1 - i/10)``, count the SGD steps until the test
accuracy (dropout off) first reaches a target (25 % in the paper). The paper's observation: at
rho = 1 the curves for different L collapse when plotted against ``eta * L``; with dropout
(rho = 0.99, 0.98) they collapse against ``eta``. All learning rates
of one depth train as one stack (per-network learning rates) and share init seeds across i, so the
only difference between the networks of a depth is eta.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from reproflow.depthsweep.batched import NetSpec, StackedMLP
from reproflow.depthsweep.train import Data, train_stack
from reproflow.seeding import derive_seed
from reproflow.settings.sections import DepthSweepSpeedJob


def learning_rate(i: float) -> float:
    """``eta_i = 10^(-1 - i/10)`` (the paper's grid)."""
    return 10.0 ** (-1.0 - i / 10.0)


def speed_specs(lr_exponents: list[float] | tuple[float, ...], depth: int, sw2: float, seeds: list[int] | tuple[int, ...]) -> list[NetSpec]:
    """One network per (seed, eta_i); the init seed depends on (seed, depth) only."""
    return [
        NetSpec(
            sw2=float(sw2),
            seed=derive_seed("depth_sweep_speed", int(seed), int(depth)),
            data_seed=derive_seed("depth_sweep_speed_data", int(seed)),
            lr=learning_rate(i),
        )
        for seed in seeds
        for i in lr_exponents
    ]


def measure_speed(
    data: Data,
    *,
    depth: int,
    width: int,
    sw2: float,
    sb2: float,
    rho: float,
    init: str,
    lr_exponents: list[float] | tuple[float, ...],
    seeds: list[int] | tuple[int, ...],
    batch: int,
    max_steps: int,
    eval_every: int,
    fine_eval_steps: int,
    target_accuracy: float,
    device: torch.device,
) -> pd.DataFrame:
    """Steps to ``target_accuracy`` per (seed, eta). Columns ``depth, seed, lr_exponent, lr,
    lr_times_depth, steps_to_target, reached, diverged``; ``steps_to_target`` is NaN when the
    target was not reached within ``max_steps`` (or the network diverged). The test accuracy is
    checked at every step up to ``fine_eval_steps`` (the optimum is reached in ~10 steps, paper Fig. 6)
    and every ``eval_every`` steps after."""
    specs = speed_specs(lr_exponents, depth, sw2, seeds)
    model = StackedMLP(specs, data.in_dim, width, depth, data.classes, sb2, rho, init, "sgd", device)
    rec = train_stack(model, data, max_steps, batch, curve_every=max_steps, eval_every=eval_every,
                      target_accuracy=target_accuracy, fine_eval_steps=fine_eval_steps)
    rows = []
    k = 0
    for seed in seeds:
        for i in lr_exponents:
            hit = rec.target_step[k] > 0
            rows.append(
                {
                    "depth": int(depth),
                    "seed": int(seed),
                    "lr_exponent": float(i),
                    "lr": specs[k].lr,
                    "lr_times_depth": specs[k].lr * depth,
                    "steps_to_target": float(rec.target_step[k]) if hit else math.nan,
                    "reached": bool(hit),
                    "diverged": rec.diverged_step[k] > 0,
                }
            )
            k += 1
    return pd.DataFrame(rows)


def speed_table(data: Data, speed: DepthSweepSpeedJob, rho: float, depth: int, device: torch.device) -> pd.DataFrame:
    """:func:`measure_speed` of ``depth_sweep.speed`` at keep probability ``rho`` and depth ``depth`` (one job of
    Fig. 6), with the phase, dataset and rho columns of the tidy table."""
    df = measure_speed(
        data, depth=depth, width=speed.width, sw2=speed.sw2, sb2=speed.sb2, rho=rho, init=speed.init,
        lr_exponents=speed.lr_exponents, seeds=speed.seeds, batch=speed.batch, max_steps=speed.max_steps,
        eval_every=speed.eval_every, fine_eval_steps=speed.fine_eval_steps, target_accuracy=speed.target_accuracy,
        device=device,
    )
    df.insert(0, "dataset", speed.dataset)
    df.insert(0, "phase", "depth_sweep")
    df["rho"] = rho
    return df
