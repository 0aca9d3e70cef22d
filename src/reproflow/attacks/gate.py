"""The semantic gate of a learned attribute editor (issue #11).

A result obtained through the learned MSP editor counts toward claims T1/T2 only if the editor keeps
the class for an independent judge (a clean classifier that is neither attacked nor used to train the
editor). Two drops of the judge's accuracy, thresholds fixed in params before the run:

- ``recon_drop = acc(x) - acc(AM(x, a, a))``: damage of encode/decode with no attribute change;
- ``edit_drop = acc_ref - acc(AM(x, a, a'))`` for random targets ``a' ~ U(0, 1)``, where ``acc_ref`` is
  the judge's accuracy on the exact rotation to the same targets when the dataset has one (a true
  rotation by +-40 deg itself changes some digits) and ``acc(x)`` otherwise.

A third drop reads the edits the attack chose (issue 21: the attacks use worst-case edits, not random ones):
``attack_drop = judge(x_sem of SPA through the exact editor) - judge(x_sem of SPA through the learned one)``, image by
image at the headline eps, where the learned-editor SPA ran.

Each drop is a non-inferiority test (:func:`noninferiority`) on its paired two-way interval over seeds and test images
(:func:`reproflow.report.verdicts.two_way_interval`): pass if the interval's upper end is at most the margin delta,
fail if its lower end exceeds delta, else undecided. delta is relative to the judge's error (params
``attack.gate.relative_margin`` times 1 - the judge's clean accuracy): 3 points mean a 43 % rise in error on a 0.93
judge but 13 % on a 0.77 one (review of 5805f97, section 4). The gate passes when every drop passes, fails when any
fails, and is undecided otherwise (with one seed there is no interval: undecided); only a passed gate lets the
learned editor's rows count. Claims T1 and T2 mark
each row with :func:`reproflow.attacks.claims.gate_counts`: rows through the exact editor count; rows through the learned editor (the
``_learned`` rows, and every semantic row of a dataset whose primary editor is the learned one, such as CelebA)
count only when its gate passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from reproflow.report.verdicts import Interval, two_way_interval
from reproflow.seeding import derive_seed

if TYPE_CHECKING:  # annotations only; torch is imported where it runs, so the claim tables stay torch-free
    import torch

    from reproflow.models.manipulator import AttributeManipulator


def noninferiority(drops: Any, delta: float, coverage: float) -> tuple[Interval, str]:
    """Non-inferiority of the learned editor on one view: ``drops`` ``[S, N]`` per (seed, image) of the judge's
    correctness under the reference minus under the learned editor (positive = the learned editor loses the class
    more often). ``pass`` when the two-way interval's upper end is <= ``delta`` (the drop is shown to be at most
    the margin), ``fail`` when its lower end is > ``delta`` (shown to exceed it), ``undecided`` otherwise or
    without an interval (one seed)."""
    if not delta >= 0:
        raise ValueError(f"the non-inferiority margin must be >= 0, got {delta}")
    iv = two_way_interval(drops, coverage).interval
    if not iv.finite:
        return iv, "undecided"
    if iv.high <= delta:
        return iv, "pass"
    if iv.low > delta:
        return iv, "fail"
    return iv, "undecided"


def combine_gate(verdicts: Iterable[str]) -> str:
    """The gate over its views: fail if any view fails, pass if every view passes, undecided otherwise (and with no
    view at all)."""
    vs = list(verdicts)
    if "fail" in vs:
        return "fail"
    return "pass" if vs and all(v == "pass" for v in vs) else "undecided"


def judge_editor_outcomes(
    judge: torch.nn.Module,
    editor: AttributeManipulator,
    x: torch.Tensor,
    y: torch.Tensor,
    a: torch.Tensor,
    *,
    seed: int,
    batch_size: int,
    device: torch.device,
    reference: AttributeManipulator | None = None,
) -> dict[str, np.ndarray]:
    """The judge's correctness per image (bool ``[N]``) on ``x``, on ``editor.edit(x, a, a)`` and on
    ``editor.edit(x, a, a')`` with ``a'`` drawn per sample from ``derive_seed(seed, "gate", index)``; with
    ``reference`` (the exact rotation) also on ``reference.edit(x, a, a')``. Keys: ``gate_clean_accuracy``,
    ``gate_recon_accuracy``, ``gate_edit_accuracy``, ``gate_reference_edit_accuracy``."""
    import torch

    with torch.no_grad():
        n = x.shape[0]
        targets = torch.stack([torch.rand((), generator=torch.Generator().manual_seed(derive_seed(seed, "gate", i)))
                               for i in range(n)]) if n else torch.empty(0)
        was = [m.training for m in (judge, editor)]
        judge.eval()
        editor.eval()
        keys = ["gate_clean_accuracy", "gate_recon_accuracy", "gate_edit_accuracy"]
        if reference is not None:
            keys.append("gate_reference_edit_accuracy")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        for s in range(0, n, batch_size):
            xb, yb = x[s : s + batch_size].to(device), y[s : s + batch_size].to(device)
            ab, tb = a[s : s + batch_size].to(device, xb.dtype), targets[s : s + batch_size].to(device, xb.dtype)
            views = {
                "gate_clean_accuracy": xb,
                "gate_recon_accuracy": editor.edit(xb, ab, ab).clamp(0, 1),
                "gate_edit_accuracy": editor.edit(xb, ab, tb).clamp(0, 1),
            }
            if reference is not None:
                views["gate_reference_edit_accuracy"] = reference.edit(xb, ab, tb).clamp(0, 1)
            for k, v in views.items():
                parts[k].append((judge(v).argmax(1) == yb).cpu().numpy())
        judge.train(was[0])
        editor.train(was[1])
        return {k: np.concatenate(v) if v else np.zeros(0, bool) for k, v in parts.items()}
