"""Rule write_results: the run's results as documents, from its tables alone: ``docs/results/<scale>.md``
(linked from the README) and one HTML table per table for the Snakemake report.

    python -m reproflow.cli.write_results --tables '{"summary": ".../summary.csv", "t1": ".../T1.csv"}' \
        --doc docs/results/quick.md --html-dir results/quick/report/tables --scale quick \
        --pretrain '{"seeds": [0, 1, 2]}' --depth-sweep '{"seeds": [0, 1, 2], ...}' --gradients '{"draws": 200, ...}' \
        --report '{"coverage": 0.95, ...}'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import read_json, write_text
from reproflow.runinfo import write_sidecar
from reproflow.settings.sections import AdvtrainSeeds, DepthSweepCell, MeanfieldGradientsMeasure, PretrainSeeds, Report

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Render the summary and the phase tables of one scale as Markdown and HTML."""

    tables: dict[str, Path] = field(metadata={"help": "table key (reproflow.report.results.TABLES) -> its CSV (JSON)"})
    doc: Path = field(metadata={"help": "output: the results page (docs/results/<scale>.md)"})
    html_dir: Path = field(metadata={"help": "output folder: <key>.html per table, for the Snakemake report"})
    scale: str = field(metadata={"help": "scale label"})
    pretrain: PretrainSeeds = field(metadata={"help": "pretrain.seeds (JSON)"})
    advtrain: AdvtrainSeeds = field(metadata={"help": "advtrain.seeds (JSON; null = every pretrain seed)"})
    depth_sweep: DepthSweepCell = field(metadata={"help": "depth_sweep's cell keys: its seeds (JSON)"})
    gradients: MeanfieldGradientsMeasure = field(metadata={"help": "meanfield.gradients' draws (JSON)"})
    report: Report = field(metadata={"help": "the report section: its coverage (JSON)"})


def _commit(summary: Path) -> str | None:
    """The commit the summary was computed at, from its run sidecar (None when the sidecar is absent)."""
    sidecar = Path(f"{summary}.run.json")
    return (read_json(sidecar).get("git") or {}).get("commit") if sidecar.exists() else None


def run(cfg: Config) -> None:
    from reproflow.report.results import TABLES, results_markdown, run_settings, table_html

    started = time.time()
    unknown = set(cfg.tables) - set(TABLES)
    if unknown:
        raise UserError(f"--tables: unknown table keys {sorted(unknown)}; known: {', '.join(TABLES)}")
    tables = {}
    for key, path in cfg.tables.items():
        if not Path(path).exists():
            raise UserError(f"{path}: file not found; run the step that writes it first")
        tables[key] = pd.read_csv(path)
    settings = run_settings(cfg.pretrain, cfg.advtrain, cfg.depth_sweep, cfg.gradients, cfg.report)
    sources = {key: str(path) for key, path in cfg.tables.items()}
    commit = _commit(cfg.tables["summary"]) if "summary" in cfg.tables else None
    write_text(cfg.doc, results_markdown(cfg.scale, tables, sources, settings, commit))
    cfg.html_dir.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        write_text(cfg.html_dir / f"{key}.html", table_html(key, df, cfg.scale, sources[key]))
    write_sidecar(cfg.html_dir, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
