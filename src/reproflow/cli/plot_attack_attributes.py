"""Rule plot_attack_attributes: histogram of the attribute values the semantic attacks chose."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.cli._base import FigureJob, exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure
from reproflow.settings import derived
from reproflow.settings.sections import AttackEps

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True, kw_only=True)
class Config(FigureJob):
    """Plot the chosen-attribute histogram at each dataset's headline eps."""

    attributes: Path
    eps: AttackEps  # attack.eps_grid of pretrain.datasets: each dataset's histogram is drawn at its headline eps


def run(cfg: Config) -> None:
    from reproflow.plots.attack import attribute_histogram
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    if not cfg.attributes.exists():
        raise UserError(f"{cfg.attributes}: file not found; run collect_attack first")
    save_figure(attribute_histogram(pd.read_csv(cfg.attributes), derived.headline_eps_of(cfg.eps)), cfg.output)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
