"""Rule plot_dataset_samples: a PNG+PDF grid of sample images (and their rotated variants)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.io import save_figure
from reproflow.settings.sections import DataSamples


@dataclass(frozen=True)
class Config:
    """Plot the first ``data.sample_grid`` test images of a prepared dataset."""

    style: Path  # the figure style (params.yaml figures.style), applied before drawing
    split: Path = field(metadata={"help": "prepared split (.pt)"})
    output: Path = field(metadata={"help": "PNG path (a PDF twin is written beside it)"})
    samples: DataSamples = field(metadata={"help": "JSON: data (its samples group: sample_grid, images per row)"})


def run(cfg: Config) -> None:
    from reproflow.plots.data import sample_grid
    from reproflow.plots.style import use_style

    use_style(cfg.style)
    s = load_split(cfg.split)
    title = f"{s.meta['name']} ({s.meta['split']}, {len(s)} images"
    if s.meta.get("attribute_range"):
        title += f", {s.meta['attribute_name']} in {s.meta['attribute_range']}"
    fig = sample_grid(s.images, s.labels, s.originals, s.angles, cfg.samples.sample_grid, title + ")")
    save_figure(fig, cfg.output)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
