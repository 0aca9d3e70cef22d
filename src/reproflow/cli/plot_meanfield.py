"""Render one mean-field figure (PNG + PDF) from its tables: forward, phase_diagram, gradients,
gia_counterfactual, universality."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproflow.cli._base import FigureJob, exit_with, main_entry

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

FIGURES = ("forward", "phase_diagram", "gradients", "gia_counterfactual", "universality")


@dataclass(frozen=True, kw_only=True)
class Config(FigureJob):
    mf_figure: str  # the rule's wildcard
    inputs: tuple[Path, ...]

    def __post_init__(self) -> None:
        if self.mf_figure not in FIGURES:
            raise ValueError(f"--mf-figure must be one of {', '.join(FIGURES)}")


def run(cfg: Config) -> None:
    import pandas as pd

    from reproflow.io import save_figure
    from reproflow.meanfield.tables import read_tables
    from reproflow.plots import meanfield as P
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    tables = [read_tables((p,)) for p in cfg.inputs]
    if cfg.mf_figure == "forward":
        fig = P.plot_forward(tables[0])
    elif cfg.mf_figure == "phase_diagram":
        fig = P.plot_phase_diagram(tables[0], tables[1])
    elif cfg.mf_figure == "gradients":
        fig = P.plot_gradients(pd.concat(tables[:-1], ignore_index=True), tables[-1])
    elif cfg.mf_figure == "gia_counterfactual":
        fig = P.plot_gia_counterfactual(pd.concat(tables[:-1], ignore_index=True), tables[-1])
    else:
        fig = P.plot_universality(tables[0], tables[1])
    save_figure(fig, cfg.output)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
