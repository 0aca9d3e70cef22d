"""Attribute-only attack: grid search over the attribute range (spec section 5).

For each grid value ``a'`` in ``linspace(0, 1, grid_size)`` the manipulator sets the attribute,
``x_a = AM(x, a, a')``; the worst case per sample over the grid is kept (misclassified first, then
highest loss). No pixel noise: ``x_adv = x_sem = x_a``, so the result does not depend on eps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.base import Attack, AttackResult, WorstCase

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class AttributeGrid(Attack):
    """Semantic-only attack; deterministic (no randomness)."""

    name = "attribute"
    semantic = True
    manipulator: AttributeManipulator  # the frozen editor it works through (required here)

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator, *, grid_size: int = 17,
                 **base: Any):
        super().__init__(classifier, eps, manipulator=manipulator, **base)
        if grid_size < 2:
            raise ValueError(f"grid_size must be >= 2, got {grid_size}")
        self.grid_size = int(grid_size)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        assert a is not None
        best = self._start_worst_case(x, y, a)
        scan_grid(self, x, y, a, self.grid_size, best)
        return best.result()


@torch.no_grad()
def scan_grid(atk: Attack, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, grid_size: int, *cases: WorstCase) -> None:
    """Offer ``AM(x, a, v)`` (no noise) for every ``v`` in ``linspace(0, 1, grid_size)`` to each worst case in
    ``cases``, through ``atk``'s manipulator and against its classifier (the attribute-only attack's search;
    SPA's grid start runs the same scan).

    The grid values go through the editor and the classifier as batches of ``values x B`` images (at most
    ``atk.pass_images`` images per pass, at least one value);
    the candidates are offered value by value in grid order, as a scan one value at a time would."""
    assert atk.manipulator is not None
    b = x.shape[0]
    if b == 0:
        return
    per = max(1, atk.pass_images // b)
    values = torch.linspace(0.0, 1.0, grid_size, dtype=x.dtype)
    for start in range(0, grid_size, per):
        chunk = values[start:start + per].to(a.device)
        c = chunk.shape[0]
        a_tgt = chunk.repeat_interleave(b)  # [c*B]: value j for the j-th copy of the batch
        x_a = atk.manipulator.edit(x.repeat(c, 1, 1, 1), a.repeat(c), a_tgt).clamp(0.0, 1.0)
        loss, logits = atk._loss(x_a, y.repeat(c))
        for j in range(c):
            sl = slice(j * b, (j + 1) * b)
            for case in cases:
                case.update(x_a[sl], x_a[sl], a_tgt[sl], loss[sl], logits[sl], y)


def check_grid_size(grid_size: int) -> int:
    """A grid start's ``grid_size``: 0 (no grid start) or >= 2."""
    if grid_size < 0 or grid_size == 1:
        raise ValueError(f"grid_size must be 0 (no grid start) or >= 2, got {grid_size}")
    return int(grid_size)


def grid_start(atk: Attack, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, grid_size: int,
               best: WorstCase) -> torch.Tensor:
    """The attribute ``[B]`` an attack's first search starts from: with ``grid_size`` > 0 each sample's worst value
    of the scanned grid (misclassified first, then highest loss; every grid image offered to ``best`` as a
    candidate), else the sample's own ``a``."""
    if not grid_size:
        return a
    scan = WorstCase(x, with_attr=True)
    scan_grid(atk, x, y, a, grid_size, best, scan)
    assert scan.attr is not None
    return scan.attr
