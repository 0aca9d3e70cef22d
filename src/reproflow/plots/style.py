"""The figure style every plotting CLI applies: a matplotlib style file (workflow/resources/figures.mplstyle,
named by params.yaml ``figures.style``) holds sizes, fonts, palette and DPI; this module reads it and
turns panel counts into figure sizes, so no plotting function carries its own size, font size or colours.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import Colormap  # noqa: E402

from reproflow.errors import UserError  # noqa: E402


def use_style(path: str | os.PathLike) -> None:
    """Reset matplotlib's settings and apply the style file at ``path`` (a clear error when it is missing
    or not a style file)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: figure style file not found (params.yaml figures.style names it)")
    matplotlib.rcdefaults()
    try:
        plt.style.use(p)
    except (OSError, ValueError) as exc:
        raise UserError(f"{p}: not a matplotlib style file ({exc})") from None
    matplotlib.use("Agg")


def size(cols: float = 1.0, rows: float = 1.0, *, extra_height: float = 0.0) -> tuple[float, float]:
    """A figure size in inches: ``cols`` x ``rows`` panels of the style's ``figure.figsize`` (fractions allowed:
    an image-grid cell is a fraction of a panel), plus ``extra_height`` panel heights (titles, legends)."""
    w, h = plt.rcParams["figure.figsize"]
    return (cols * w, (rows + extra_height) * h)


def palette(n: int) -> list:
    """The style's first ``n`` categorical colours (the property cycle; repeats when ``n`` exceeds it)."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return [colours[i % len(colours)] for i in range(n)]


def sequential(n: int | None = None, reverse: bool = False) -> Colormap:
    """The style's sequential colour map (``image.cmap``), optionally resampled to ``n`` colours or reversed."""
    cmap = plt.get_cmap(plt.rcParams["image.cmap"])
    if reverse:
        cmap = cmap.reversed()
    return cmap.resampled(n) if n else cmap
