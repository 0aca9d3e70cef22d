"""Gradient statistics g_aa, g_ab, tilde g_ab per layer by real backpropagation, for a group of runs (the
rule groups them by role and activation: one figure panel, one job start-up), and the GIA counterfactual of
the same draws (backward pass through independent weight copies). Each run draws from its own seed
(``derive_seed(seed, "gradients", name)``), so its numbers do not depend on the group it is in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import MeanfieldGradientsRunsItem


@dataclass(frozen=True)
class Config:
    draws_table: Path
    layers_table: Path
    gia_draws_table: Path
    runs: tuple[MeanfieldGradientsRunsItem, ...]
    depth: int
    draws: int
    draws_per_batch: int
    seed: int
    device: str


def run(cfg: Config) -> None:
    import pandas as pd
    import torch

    from reproflow.device import describe_device, resolve_device
    from reproflow.errors import UserError
    from reproflow.meanfield.tables import gradient_tables
    from reproflow.seeding import derive_seed, seed_everything

    start = time.time()
    device = resolve_device(cfg.device)
    tables: list[tuple[pd.DataFrame, ...]] = []
    for r in cfg.runs:
        seed = derive_seed(cfg.seed, "gradients", r.name)
        seed_everything(seed)
        # weights, masks and inputs are drawn on the run's device (no CPU generator feeding a GPU)
        gen = torch.Generator(device=device).manual_seed(seed)
        try:
            tables.append(gradient_tables(r.name, r.activation, r.sw2, r.sb2, r.rho, r.width, cfg.depth, cfg.draws,
                                          r.inputs, cfg.draws_per_batch, gen, device, r.role))
        except ValueError as exc:
            raise UserError(f"meanfield.gradients.runs '{r.name}': {exc}") from None
    outs = (cfg.draws_table, cfg.layers_table, cfg.gia_draws_table)
    for i, out in enumerate(outs):
        write_table(out, pd.concat([t[i] for t in tables], ignore_index=True))
        write_sidecar(out, cfg, cfg.seed, describe_device(device), start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
