"""Rule plot_advtrain: the defence x attack heatmap at the headline eps, the defences' training curves and the
plateau probe's curves (T2's training adequacy).

    python -m reproflow.cli.plot_advtrain --matrix .../matrix.csv --curves .../curves.csv --heatmap .../matrix_heatmap.png \
        --curves-figure .../training_curves.png --plateau-figure .../plateau_curves.png \
        --plateau '{"epochs": 2, "tolerance": 0.04, ...}' --roster '{"defences": [...]}' --selection '<attack selection>' \
        --evaluation '<advtrain evaluation>' --eps '{"eps_grid": {"digits_rot": [...]}}' --scale quick
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived
from reproflow.settings.sections import AdvtrainEvaluation, AdvtrainPlateau, AdvtrainRoster, AttackEps, AttackSelection

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Draw the advtrain figures (PNG + PDF)."""

    style: Path  # the figure style (params.yaml figures.style), applied before drawing
    matrix: Path
    curves: Path
    heatmap: Path
    curves_figure: Path
    plateau_figure: Path  # the plateau probe's curves with the window and tolerance T2's training-adequacy rule reads
    roster: AdvtrainRoster  # advtrain.defences
    selection: AttackSelection  # attack (its selection group), the matrix's attacks unless advtrain names a subset
    evaluation: AdvtrainEvaluation  # advtrain (its evaluation group)
    eps: AttackEps  # attack.eps_grid of pretrain.datasets: the heatmap is drawn at each one's headline eps
    scale: str
    plateau: AdvtrainPlateau  # advtrain.plateau: the rule the plateau figure draws


def run(cfg: Config) -> None:
    from reproflow.plots.advtrain import matrix_heatmap, plateau_curves, training_curves
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    started = time.time()
    for p in (cfg.matrix, cfg.curves):
        if not p.exists():
            raise UserError(f"{p}: file not found; run tabulate_defence_matrix first")
    matrix, curves = pd.read_csv(cfg.matrix), pd.read_csv(cfg.curves)
    eps, defences = derived.headline_eps_of(cfg.eps), cfg.roster.defences
    attacks = derived.advtrain_attacks(cfg.selection, cfg.evaluation)
    save_figure(matrix_heatmap(matrix, eps, defences, attacks, cfg.scale), cfg.heatmap)
    save_figure(training_curves(curves, defences, cfg.scale), cfg.curves_figure)
    rule = cfg.plateau
    save_figure(plateau_curves(curves, defences, rule.epochs, rule.tolerance, rule.coverage, cfg.scale),
                cfg.plateau_figure)
    write_sidecar(cfg.heatmap, cfg, None, "cpu", started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
