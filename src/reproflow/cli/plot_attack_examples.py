"""Rule plot_attack_examples: image grid original | attribute sweep | attribute + noise for several z."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reproflow.cli._base import FigureJob, exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True, kw_only=True)
class Config(FigureJob):
    """Render the image-grid arrays written by evaluate_attacks."""

    examples: Path
    dataset: str


def run(cfg: Config) -> None:
    from reproflow.plots.attack import examples_grid
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    try:
        with np.load(cfg.examples) as z:
            ex = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"{cfg.examples}: cannot be read ({exc}); re-run evaluate_attacks") from None
    save_figure(examples_grid(ex, cfg.dataset), cfg.output)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
