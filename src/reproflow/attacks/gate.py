"""The semantic gate of a learned attribute editor (issue #11).

A result obtained through the learned MSP editor counts toward claims T1/T2 only if the editor keeps
the class for an independent judge (a clean classifier that is neither attacked nor used to train the
editor). Two drops of the judge's accuracy, thresholds fixed in params before the run:

- ``recon_drop = acc(x) - acc(AM(x, a, a))``: damage of encode/decode with no attribute change;
- ``edit_drop = acc_ref - acc(AM(x, a, a'))`` for random targets ``a' ~ U(0, 1)``, where ``acc_ref`` is
  the judge's accuracy on the exact rotation to the same targets when the dataset has one (a true
  rotation by +-40 deg itself changes some digits) and ``acc(x)`` otherwise.

The gate passes when the mean drop over seeds is at most the threshold, for both drops. Claims T1 and T2 mark
each row with :func:`reproflow.attacks.claims.gate_counts`: rows through the exact editor count; rows through the learned editor (the
``_learned`` rows, and every semantic row of a dataset whose primary editor is the learned one, such as CelebA)
count only when its gate passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reproflow.seeding import derive_seed


@dataclass(frozen=True)
class GateResult:
    """Judge accuracies (mean over seeds), the two drops, their thresholds and the verdict."""

    clean: float
    recon: float
    edit: float
    reference_edit: float
    recon_drop: float
    edit_drop: float
    max_recon_drop: float
    max_edit_drop: float
    passed: bool


def editor_gate(
    clean: float, recon: float, edit: float, reference_edit: float | None, max_recon_drop: float, max_edit_drop: float
) -> GateResult:
    """Gate of a learned editor from the judge's accuracies in [0, 1] (see module docstring);
    ``reference_edit`` None = no exact editor: the edits are compared with the clean accuracy."""
    if max_recon_drop < 0 or max_edit_drop < 0:
        raise ValueError(f"gate thresholds must be >= 0, got {max_recon_drop}, {max_edit_drop}")
    ref = clean if reference_edit is None else reference_edit
    recon_drop, edit_drop = clean - recon, ref - edit
    passed = recon_drop <= max_recon_drop + 1e-9 and edit_drop <= max_edit_drop + 1e-9
    return GateResult(clean, recon, edit, ref, recon_drop, edit_drop, max_recon_drop, max_edit_drop, bool(passed))


@torch.no_grad()
def judge_editor_accuracies(
    judge: torch.nn.Module,
    editor: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    a: torch.Tensor,
    *,
    seed: int,
    batch_size: int,
    device: torch.device,
    reference: torch.nn.Module | None = None,
) -> dict[str, float]:
    """The judge's accuracy on ``x``, on ``editor.edit(x, a, a)`` and on ``editor.edit(x, a, a')`` with
    ``a'`` drawn per sample from ``derive_seed(seed, "gate", index)``; with ``reference`` (the exact
    rotation) also on ``reference.edit(x, a, a')``. Keys: ``gate_clean_accuracy``,
    ``gate_recon_accuracy``, ``gate_edit_accuracy``, ``gate_reference_edit_accuracy``."""
    n = x.shape[0]
    targets = torch.stack([torch.rand((), generator=torch.Generator().manual_seed(derive_seed(seed, "gate", i)))
                           for i in range(n)]) if n else torch.empty(0)
    was = [m.training for m in (judge, editor)]
    judge.eval()
    editor.eval()
    counts = {"gate_clean_accuracy": 0, "gate_recon_accuracy": 0, "gate_edit_accuracy": 0}
    if reference is not None:
        counts["gate_reference_edit_accuracy"] = 0
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
            counts[k] += int((judge(v).argmax(1) == yb).sum())
    judge.train(was[0])
    editor.train(was[1])
    return {k: c / max(1, n) for k, c in counts.items()}
