"""Attribute-only attack: grid search over the attribute range (spec section 5).

For each grid value ``a'`` in ``linspace(0, 1, grid_size)`` the manipulator sets the attribute,
``x_a = AM(x, a, a')``; the worst case per sample over the grid is kept (misclassified first, then
highest loss). No pixel noise: ``x_adv = x_sem = x_a``, so the result does not depend on eps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator, *, grid_size: int,
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
    scan = _shared_scan(atk, x, y, a, grid_size, per)
    for n, start in enumerate(range(0, grid_size, per)):
        if scan is not None and n < len(scan.passes):
            a_tgt, x_a, loss, logits = scan.passes[n]
        else:
            chunk = values[start:start + per].to(a.device)
            a_tgt = chunk.repeat_interleave(b)  # [c*B]: value j for the j-th copy of the batch
            x_a = atk.manipulator.edit(x.repeat(chunk.shape[0], 1, 1, 1), a.repeat(chunk.shape[0]), a_tgt).clamp(0.0, 1.0)
            loss, logits = atk._loss(x_a, y.repeat(chunk.shape[0]))
            if scan is not None:
                scan.passes.append((a_tgt, x_a, loss, logits))
        c = a_tgt.shape[0] // b
        for j in range(c):
            sl = slice(j * b, (j + 1) * b)
            for case in cases:
                case.update(x_a[sl], x_a[sl], a_tgt[sl], loss[sl], logits[sl], y)


@dataclass
class _Scan:
    """One grid scan's inputs and its passes ``(a_tgt, x_a, loss, logits)``, for :func:`shared_scans`."""

    classifier: torch.nn.Module
    manipulator: torch.nn.Module
    grid_size: int
    per: int
    x: torch.Tensor
    y: torch.Tensor
    a: torch.Tensor
    passes: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]


_SCANS: list[_Scan] | None = None  # the scans of the innermost active shared_scans() block; None = not shared
_SCAN_ELEMENTS = 1 << 26  # a scan kept for reuse holds at most this many image elements (256 MB of float32)


@contextmanager
def shared_scans() -> Iterator[None]:
    """Within the block, a grid scan (:func:`scan_grid`) through the same classifier and editor objects, on equal
    ``x``, ``y``, ``a`` and the same grid, reuses the editor's images and the classifier's losses and logits of the
    first such scan instead of computing them again: one evaluation scans the same grid for the attribute attack
    and for the grid starts of SPA, joint-PGD and joint-APGD (speed only: the candidates offered are the same
    tensors a new scan computes). Only for frozen models: nothing may train the classifier or the editor inside
    the block."""
    global _SCANS
    outer, _SCANS = _SCANS, []
    try:
        yield
    finally:
        _SCANS = outer


def _shared_scan(atk: Attack, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, grid_size: int,
                 per: int) -> _Scan | None:
    """The active block's scan of these inputs (new and empty when none matches); None outside a block or for a
    scan too large to keep."""
    if _SCANS is None or x.numel() * grid_size > _SCAN_ELEMENTS:
        return None
    for s in _SCANS:
        if (s.classifier is atk.classifier and s.manipulator is atk.manipulator and s.grid_size == grid_size
                and s.per == per and s.x.shape == x.shape and s.x.device == x.device and s.x.dtype == x.dtype
                and torch.equal(s.x, x) and torch.equal(s.y, y) and torch.equal(s.a, a)):
            return s
    assert atk.manipulator is not None
    _SCANS[:] = _SCANS[-3:]  # the last few scans (one per classifier, editor and eps in practice)
    _SCANS.append(_Scan(atk.classifier, atk.manipulator, grid_size, per, x, y, a, []))
    return _SCANS[-1]


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
