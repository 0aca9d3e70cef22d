"""Rule plot_depth_sweep: one trainability heatmap per panel (with 6 xi_c, 12 xi_1, 12 xi_2 and the
fitted line), the summary of fitted multipliers, and k and the shape error against training steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import save_figure

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True


@dataclass(frozen=True)
class Config:
    """Render the depth-sweep figures (PNG + PDF twins)."""

    style: Path  # the figure style (params.yaml figures.style), applied before drawing
    panels: tuple[Path, ...] = field(metadata={"help": "per-panel accuracy tables"})
    heatmaps: tuple[Path, ...] = field(metadata={"help": "heatmap PNGs, one per panel, same order"})
    boundaries: Path = field(metadata={"help": "boundary table"})
    fit: Path = field(metadata={"help": "fit table"})
    phase_diagram: Path = field(metadata={"help": "meanfield phase_diagram.csv"})
    summary: Path = field(metadata={"help": "summary PNG"})
    k_steps: Path = field(metadata={"help": "k_steps table of fit_depth_formula"})
    k_steps_figure: Path = field(metadata={"help": "k and sigma against training steps (PNG)"})
    scale: str = field(metadata={"help": "scale label for titles"})

    def __post_init__(self) -> None:
        if len(self.panels) != len(self.heatmaps):
            raise ValueError("--panels and --heatmaps must have the same length")


def fine_scales(pdg: pd.DataFrame, rho: float, sb2: float, lo: float, hi: float) -> pd.DataFrame:
    """Depth scales of tanh at (rho, sb2) on every sw2 of the meanfield grid within [lo, hi]."""
    t = pdg[(pdg["activation"] == "tanh") & (np.abs(pdg["rho"] - rho) <= 1e-9) & (np.abs(pdg["sb2"] - sb2) <= 1e-9)
            & (pdg["sw2"] >= lo - 1e-9) & (pdg["sw2"] <= hi + 1e-9)]
    if t.empty:
        raise UserError(f"phase diagram has no tanh rows for rho={rho:g}, sb2={sb2:g}; extend the meanfield grid")
    out = pd.DataFrame({"sw2": t["sw2"], "xi_1": t["xi_1"].abs(), "xi_c": t["xi_c"].abs()})
    out["xi_min"] = np.minimum(out["xi_1"], out["xi_c"])
    return out.sort_values("sw2").reset_index(drop=True)


def run(cfg: Config) -> None:
    import matplotlib.pyplot as plt

    from reproflow.plots.depth_sweep import fit_summary_figure, heatmap_figure, k_steps_figure
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    pdg = pd.read_csv(cfg.phase_diagram)
    bnd = pd.read_csv(cfg.boundaries)
    fit = pd.read_csv(cfg.fit)
    for table, png in zip(cfg.panels, cfg.heatmaps):
        acc = pd.read_csv(table)
        first = acc.iloc[0]
        panel = str(first["panel"])
        scales = fine_scales(pdg, float(first["rho"]), float(first["sb2"]), acc["sw2"].min(), acc["sw2"].max())
        steps_note = f", width {int(first['width'])}" if "width" in acc.columns else ""
        title = (f"{panel} ({cfg.scale}): {first['dataset']}, {first['init']} init, {first['optimizer']}, "
                 f"rho = {float(first['rho']):g}{steps_note}")
        fig = heatmap_figure(acc, scales, bnd[bnd["panel"] == panel], fit[fit["panel"] == panel], title)
        save_figure(fig, png)
        plt.close(fig)
    fig = fit_summary_figure(fit)
    save_figure(fig, cfg.summary)
    plt.close(fig)
    fig = k_steps_figure(pd.read_csv(cfg.k_steps))
    save_figure(fig, cfg.k_steps_figure)
    plt.close(fig)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
