"""Rule tabulate_defence_matrix: gather every (dataset, defence, seed) evaluation into the defence x attack
x eps matrix (mean, std and standard error over seeds), check it covers every cell exactly once, and gather
the training curves.

    python -m reproflow.cli.tabulate_defence_matrix --metrics-in D1/metrics.csv ... --curves-in D1/train_curve.csv ... \
        --evaluations .../evaluations.csv --matrix .../matrix.csv --curves .../curves.csv \
        --sweep '{"datasets": ["digits_rot"], "seeds": [0, 1, 2]}' --roster ... --seeds ... --eps ... --selection ... \
        --evaluation ... --ablation ... --suite ... --scale quick

Each dataset's attack labels, eps grid and headline eps, the defences and their seeds are derived from the sections
(:mod:`reproflow.settings.derived`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.defences.matrix import check_coverage, matrix_markdown, summarise
from reproflow.errors import UserError
from reproflow.io import write_table, write_text
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived
from reproflow.settings.sections import (
    AdvtrainEvaluation,
    AdvtrainRoster,
    AdvtrainSeeds,
    AttackAblation,
    AttackEps,
    AttackSelection,
    AttackSuite,
    PretrainSweep,
)

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    """Build the defence x attack matrix from the per-job tidy tables."""

    metrics_in: tuple[Path, ...]
    curves_in: tuple[Path, ...]
    evaluations: Path
    matrix: Path
    curves: Path
    # the groups each dataset's attack labels, grid and headline eps, the defences and their seeds are derived from
    # (reproflow.settings.derived)
    sweep: PretrainSweep  # pretrain.datasets and seeds
    roster: AdvtrainRoster  # advtrain.defences
    seeds: AdvtrainSeeds  # advtrain.seeds (null: every pretrain seed)
    eps: AttackEps  # attack.eps_grid of pretrain.datasets
    selection: AttackSelection  # attack (its selection group)
    evaluation: AdvtrainEvaluation  # advtrain (its evaluation group: subsets and radii)
    ablation: AttackAblation  # attack.oracle_ablation
    suite: AttackSuite  # attack (its suite group): the reference ensemble's members
    scale: str


def read_tables(paths: tuple[Path, ...]) -> pd.DataFrame:
    frames = []
    for p in paths:
        if not p.exists():
            raise UserError(f"{p}: file not found; run the job that writes it first")
        frames.append(pd.read_csv(p))
    return pd.concat(frames, ignore_index=True)


def run(cfg: Config) -> None:
    started = time.time()
    ev = read_tables(cfg.metrics_in)
    # datasets in sorted order: the order the tables and the markdown blocks have always had
    datasets, ev_settings = sorted(cfg.sweep.datasets), cfg.evaluation
    grids = {d: list(derived.advtrain_eps_grid(cfg.eps, ev_settings, d)) for d in datasets}
    expected = {d: derived.advtrain_attack_labels(cfg.selection, ev_settings, cfg.ablation, cfg.suite, d) for d in datasets}
    defences, seeds = cfg.roster.defences, derived.advtrain_seeds(cfg.sweep, cfg.seeds)
    extra = set(ev["dataset"]) - set(grids)
    if extra:
        raise UserError(f"evaluation tables hold datasets {sorted(extra)} that are not configured")
    for dataset, grid in grids.items():
        sub = ev[(ev["dataset"] == dataset) & (ev["attack"] != "none")]
        check_coverage(sub, defences, expected[dataset], grid, seeds)
    attacks = list(dict.fromkeys(a for labels in expected.values() for a in labels))
    write_table(cfg.evaluations, ev)
    summary = summarise(ev[ev["attack"] != "none"])
    summary.insert(0, "scale", cfg.scale)
    write_table(cfg.matrix, summary)
    blocks = [f"# Defence x attack matrix ({cfg.scale} scale)\n",
              "Robust accuracy on the evaluated test samples and attack success rate on the originally correct "
              "ones, mean ± std over seeds " + f"{list(seeds)}" + ", every eps of the attack grid.\n"]
    for metric in ("accuracy", "success_rate"):
        blocks.append(matrix_markdown(summary, metric, models=defences, attacks=attacks))
    write_text(cfg.matrix.with_suffix(".md"), "\n\n".join(blocks) + "\n")
    write_table(cfg.curves, read_tables(cfg.curves_in))
    for dataset, eps in {d: derived.headline_eps(cfg.eps, d) for d in datasets}.items():
        log.info("matrix at the headline eps:\n%s", matrix_markdown(summary[summary.dataset == dataset], "accuracy",
                                                                  eps=eps, models=defences, attacks=attacks))
    write_sidecar(cfg.matrix, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
