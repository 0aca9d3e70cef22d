"""Sample-image grids of a prepared dataset."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from reproflow.plots.style import size  # noqa: E402


def sample_grid(images: torch.Tensor, labels: torch.Tensor, originals: torch.Tensor | None,
                angles: torch.Tensor, per_row: int, title: str) -> plt.Figure:
    """Rows: originals (when rotated) then the stored images, ``per_row`` samples, labels/angles as titles.

    images/originals: float [N, C, H, W] in [0, 1].
    """
    n = min(per_row, images.shape[0])
    rows = [("original", originals), ("rotated" if originals is not None else "image", images)]
    shown = [(name, imgs) for name, imgs in rows if imgs is not None]
    fig, axes = plt.subplots(len(shown), n, figsize=size(0.3 * n, 0.45 * len(shown), extra_height=0.15), squeeze=False)
    for r, (name, imgs) in enumerate(shown):
        for i in range(n):
            ax = axes[r][i]
            img = imgs[i].permute(1, 2, 0).clamp(0, 1).numpy()
            ax.imshow(img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            sub = f"y={int(labels[i])}" if r == 0 or originals is None else f"{float(angles[i]):+.0f}°"
            ax.set_title(sub, fontsize="small")
            if i == 0:
                ax.set_ylabel(name, fontsize="small")
    fig.suptitle(title, fontsize="large")
    fig.tight_layout()
    return fig
