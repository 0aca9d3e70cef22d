"""Control attack "reconstruction + PGD" (issue #11): PGD inside the eps ball around the editor's own
output with the attribute left unchanged, ``x_sem = AM(x, a, a)`` (for the MSP editor the plain
reconstruction ``D(E(x))``).

It has no attribute search at all, so whatever it gains over pixel PGD around ``x`` is the editor's
damage to the image, not a semantic change. SPA through the same editor is only a semantic result
where it beats this control. With the exact rotation ``AM(x, a, a)`` is ``x`` up to interpolation and
the control equals PGD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from reproflow.attacks.base import AttackResult
from reproflow.attacks.pgd import PGD

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class ReconPGD(PGD):
    """Madry PGD (same settings and per-sample random starts as :class:`PGD`) around ``AM(x, a, a)``."""

    name = "recon_pgd"
    semantic = True
    manipulator: AttributeManipulator  # the frozen editor it works through (required here)

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator, **kw):
        super().__init__(classifier, eps, manipulator=manipulator, **kw)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        assert a is not None
        with torch.no_grad():
            x_rec = self.manipulator.edit(x, a, a).clamp(0.0, 1.0)
        res = super()._run(x_rec, y, None, keys)
        return AttackResult(res.x_adv, x_rec, a.clone())
