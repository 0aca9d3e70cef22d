"""Gradient statistics g_aa, g_ab, tilde g_ab per layer by real backpropagation, for one run, and the
GIA counterfactual of the same draws (backward pass through independent weight copies)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar


@dataclass(frozen=True)
class Config:
    draws_table: Path
    layers_table: Path
    gia_draws_table: Path
    run_name: str
    role: str
    activation: str
    sw2: float
    sb2: float
    rho: float
    width: int
    depth: int
    draws: int
    inputs: str
    draws_per_batch: int
    seed: int
    device: str


def run(cfg: Config) -> None:
    import torch

    from reproflow.device import describe_device, resolve_device
    from reproflow.errors import UserError
    from reproflow.meanfield.tables import gradient_tables
    from reproflow.seeding import derive_seed, seed_everything

    start = time.time()
    device = resolve_device(cfg.device)
    seed = derive_seed(cfg.seed, "gradients", cfg.run_name)
    seed_everything(seed)
    # weights, masks and inputs are drawn on the run's device (no CPU generator feeding a GPU)
    gen = torch.Generator(device=device).manual_seed(seed)
    try:
        draws_df, layers_df, gia_df = gradient_tables(cfg.run_name, cfg.activation, cfg.sw2, cfg.sb2, cfg.rho,
                                                      cfg.width, cfg.depth, cfg.draws, cfg.inputs,
                                                      cfg.draws_per_batch, gen, device, cfg.role)
    except ValueError as exc:
        raise UserError(f"meanfield.gradients.runs '{cfg.run_name}': {exc}") from None
    write_table(cfg.draws_table, draws_df)
    write_table(cfg.layers_table, layers_df)
    write_table(cfg.gia_draws_table, gia_df)
    for out in (cfg.draws_table, cfg.layers_table, cfg.gia_draws_table):
        write_sidecar(out, cfg, seed, describe_device(device), start)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
