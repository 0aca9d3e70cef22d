"""Rule collect_attack: concatenate the per-job attack tables; summary over seeds; semantic checks.

    python -m reproflow.cli.collect_attack --metrics-in a.csv b.csv --attributes-in ... --metrics ... --summary ... --checks ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.attacks.tables import TIDY, accuracy_markdown, semantic_checks, summarise
from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import write_table, write_text
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import AttackCollect

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Merge the attack jobs' tidy tables and derive the summary and semantic-check tables."""

    metrics_in: tuple[Path, ...]
    attributes_in: tuple[Path, ...]
    metrics: Path
    attributes: Path
    summary: Path
    checks: Path
    collect: AttackCollect  # attack (its collect group: crosscheck_tolerance)


def _read(paths: tuple[Path, ...]) -> pd.DataFrame:
    frames = []
    for p in paths:
        if not p.exists():
            raise UserError(f"{p}: file not found; run the evaluate_attacks job that writes it")
        frames.append(pd.read_csv(p))
    return pd.concat(frames, ignore_index=True)


def run(cfg: Config) -> None:
    started = time.time()
    metrics = _read(cfg.metrics_in)
    missing = set(TIDY) - set(metrics.columns)
    if missing:
        raise UserError(f"attack tables lack the tidy columns {sorted(missing)}; re-run evaluate_attacks")
    metrics = metrics[TIDY].sort_values(["dataset", "model", "attack", "eps", "seed", "metric"], ignore_index=True)
    write_table(cfg.metrics, metrics)
    write_table(cfg.attributes, _read(cfg.attributes_in))
    summary = summarise(metrics)
    write_table(cfg.summary, summary)
    write_text(cfg.summary.with_suffix(".md"), accuracy_markdown(summary) + "\n")
    write_table(cfg.checks, semantic_checks(metrics, cfg.collect.crosscheck_tolerance), markdown=True)
    write_sidecar(cfg.metrics, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
