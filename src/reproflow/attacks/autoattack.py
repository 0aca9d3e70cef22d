"""AutoAttack (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
diverse parameter-free attacks", ICML 2020) through the authors' maintained port ``pyautoattack``.

``version="standard"`` runs APGD-CE, APGD-T, FAB-T and Square (the RobustBench protocol);
``version="custom"`` runs the listed sub-attacks only (the CPU scales use APGD-CE alone), with the restart
counts of the standard version (APGD-CE, APGD-T and FAB-T: 1 restart each). The library's own custom default
is 5 APGD-CE restarts, which made a custom APGD-CE five times the cost of the standard protocol's.
``apgd_iterations`` sets the iterations of the APGD sub-attacks (APGD-CE, APGD-DLR, APGD-T; the protocol's 100,
params.yaml): a size the smoke scale cuts, where the paper's 100 on CelebA's ResNet-18 were most of its evaluation.
Not batch-invariant: the library draws one random start for the whole batch from a global seed.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from reproflow.attacks.base import Attack, AttackResult

log = logging.getLogger(__name__)

SUB_ATTACKS = ("apgd-ce", "apgd-dlr", "apgd-t", "fab", "fab-t", "square")


class AutoAttack(Attack):
    """l_inf AutoAttack on a float32 classifier (the library casts inputs to float32)."""

    name = "autoattack"
    batch_invariant = False

    def __init__(self, classifier: torch.nn.Module, eps: float, *, version: str,
                 sub_attacks: tuple[str, ...], apgd_iterations: int, batch_size: int, **base: Any):
        super().__init__(classifier, eps, **base)
        if version not in ("standard", "custom"):
            raise ValueError(f"autoattack version must be standard or custom, got {version!r}")
        bad = [s for s in sub_attacks if s not in SUB_ATTACKS]
        if bad or (version == "custom" and not sub_attacks):
            raise ValueError(f"custom AutoAttack needs sub-attacks from {SUB_ATTACKS}, got {sub_attacks}")
        self.version = version
        self.sub_attacks = tuple(sub_attacks)
        if int(apgd_iterations) < 1:
            raise ValueError(f"autoattack apgd_iterations must be >= 1, got {apgd_iterations}")
        self.apgd_iterations = int(apgd_iterations)
        self.batch_size = int(batch_size)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        from pyautoattack import AutoAttack as _AA

        if self.eps == 0:
            return AttackResult(x, x, None)
        kwargs = {"attacks": list(self.sub_attacks)} if self.version == "custom" else {}
        aa = _AA(self.classifier, norm="Linf", eps=self.eps, version=self.version, seed=self.seed,
                 device=self.device, **kwargs)
        if self.version == "custom":  # the standard protocol's restarts (the library's custom default: 5)
            aa.apgd.n_restarts = aa.apgd_targeted.n_restarts = aa.fab.n_restarts = 1
        for apgd in (aa.apgd, aa.apgd_targeted):
            set_iterations(apgd, self.apgd_iterations)
        with torch.no_grad():
            n_classes = int(self.classifier(x[:1]).shape[1])
        # The targeted sub-attacks use 9 target classes (CIFAR-10 setting); fewer classes (e.g. a binary
        # CelebA task) leave n_classes - 1 targets.
        aa.apgd_targeted.n_target_classes = min(aa.apgd_targeted.n_target_classes, n_classes - 1)
        aa.fab.n_target_classes = min(aa.fab.n_target_classes, n_classes - 1)
        if n_classes < 4:
            # the DLR losses of APGD-DLR / APGD-T need at least 4 classes (third and fourth largest logits)
            dropped = [a for a in aa.attacks_to_run if a in ("apgd-dlr", "apgd-t")]
            aa.attacks_to_run = [a for a in aa.attacks_to_run if a not in dropped]
            if dropped:
                log.warning("AutoAttack on %d classes: dropping %s (DLR loss needs >= 4 classes)", n_classes, dropped)
        # The library logs every sub-attack at INFO/WARNING; keep job logs readable.
        logging.getLogger("auto-attack").setLevel(logging.ERROR)
        x_adv, _ = aa.run_standard_evaluation(x, y, batch_size=self.batch_size)
        return AttackResult(x_adv.to(x.dtype), x, None)


# APGD's fields that its constructor derives from n_iter (the step-size checkpoints of Croce & Hein's schedule)
_ITERATION_FIELDS = ("n_iter", "n_iter_orig", "n_iter_2", "n_iter_min", "size_decr")


def set_iterations(apgd: Any, n_iter: int) -> None:
    """Give a constructed pyautoattack APGD attack ``n_iter`` iterations. Its constructor derives the step-size
    checkpoints from n_iter, so they are taken from a reference instance the library builds with that n_iter
    (its own formulas, nothing re-derived here)."""
    if apgd.n_iter == n_iter:
        return
    ref = type(apgd)(apgd.model, n_iter=n_iter, norm=apgd.norm, eps=apgd.eps, device=apgd.device)
    for name in _ITERATION_FIELDS:
        setattr(apgd, name, getattr(ref, name))
