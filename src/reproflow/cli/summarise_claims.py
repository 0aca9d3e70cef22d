"""Rule summarise_claims: the reproduction summary of both papers (summary.csv/.md), metrics.json for
``dvc metrics show`` and the plot-ready tables for ``dvc plots show``, from the phase tables."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import write_json, write_table, write_text
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import Report

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

log = logging.getLogger(__name__)

# claim input name -> Config field holding its path
TABLE_INPUTS = ("t1", "t2", "phase_diagram", "gradient_rates", "universality", "depth_boundaries", "depth_shape",
                "captions")


@dataclass(frozen=True)
class Config:
    """Evaluate every registered claim on the phase tables; a missing table gives 'not run'."""

    t1: Path | None = field(metadata={"help": "attack phase claims/T1.csv (none: not run)"})
    t2: Path | None = field(metadata={"help": "advtrain phase claims/T2.csv"})
    phase_diagram: Path | None = field(metadata={"help": "meanfield phase_diagram.csv"})
    gradient_rates: Path | None = field(metadata={"help": "meanfield gradient decay-rate table"})
    universality: Path | None = field(metadata={"help": "meanfield universality slope table"})
    depth_boundaries: Path | None = field(metadata={"help": "depth_sweep boundary table"})
    depth_shape: Path | None = field(metadata={"help": "depth_sweep per-panel shape comparison (formula_shape.csv)"})
    captions: Path | None = field(metadata={"help": "meanfield Fig. 1 caption table (paper vs ours)"})
    attack_table: Path | None = field(metadata={"help": "attack phase tidy accuracy table (dvc plots)"})
    summary: Path = field(metadata={"help": "output: summary.csv (summary.md beside it)"})
    metrics: Path = field(metadata={"help": "output: metrics.json"})
    plots: Path = field(metadata={"help": "output folder: plot-ready CSVs for dvc plots"})
    scale: str = field(metadata={"help": "scale label (paper | cpu | quick | tiny | smoke; smoke draws no verdict)"})
    report: Report = field(metadata={"help": "the report section of params.yaml (JSON)"})


def _read_csv(path: Path | None) -> pd.DataFrame | None:
    if path is None or not Path(path).exists():
        if path is not None:
            log.warning("%s: missing; its claims are reported as 'not run'", path)
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable CSV ({exc}); re-run the step that writes it") from None


def _write_plot_data(cfg: Config, tables: dict[str, Any]) -> list[str]:
    from reproflow.report.plotdata import PLOT_ATTACKS, accuracy_vs_eps, trainability

    if cfg.plots.exists():
        shutil.rmtree(cfg.plots)
    written = []
    attack = _read_csv(cfg.attack_table)
    if attack is not None:
        for dataset, df in accuracy_vs_eps(attack, cfg.report.accuracy_metric, PLOT_ATTACKS, str(cfg.attack_table)).items():
            path = cfg.plots / "accuracy_vs_eps" / f"dataset~{dataset}.csv"
            write_table(path, df)
            written.append(str(path))
    if tables.get("depth_boundaries") is not None:
        for panel, df in trainability(tables["depth_boundaries"], str(cfg.depth_boundaries)).items():
            path = cfg.plots / "trainability" / f"panel~{panel}.csv"
            write_table(path, df)
            written.append(str(path))
    cfg.plots.mkdir(parents=True, exist_ok=True)
    return written


def run(cfg: Config) -> None:
    from reproflow.report.summary import Settings, summarise, to_markdown, to_metrics

    started = time.time()
    settings = Settings.of(cfg.report)
    tables = {name: _read_csv(getattr(cfg, name)) for name in TABLE_INPUTS}
    # "none": the rule found no phase that lists this table among its final outputs at this scale
    sources = {name: str(getattr(cfg, name) or f"{name} table (not produced at this scale)") for name in TABLE_INPUTS}
    table = summarise(tables, sources, cfg.scale, settings)
    write_table(cfg.summary, table)
    write_text(cfg.summary.with_suffix(".md"), to_markdown(table, cfg.scale))
    metrics = to_metrics(table)
    metrics["scale"] = cfg.scale
    write_json(cfg.metrics, metrics)
    written = _write_plot_data(cfg, tables)
    for r in table.itertuples(index=False):
        log.info("%-20s %-12s %s", r.claim, r.verdict, r.evidence)
    log.info("plot data: %d files under %s", len(written), cfg.plots)
    write_sidecar(cfg.summary, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
