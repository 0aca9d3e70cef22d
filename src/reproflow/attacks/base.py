"""The small base every attack builds on: device, eval mode, clamping, per-sample seeding.

An attack maps a batch ``(x, y, a)`` to an :class:`AttackResult` ``(x_adv, x_sem, attr)``:

- ``x`` float ``[B, C, H, W]`` in [0, 1], ``y`` int64 ``[B]`` true labels, ``a`` float ``[B]`` the
  samples' own normalised attribute values in [0, 1] (the data phase's ``attributes``; only the
  semantic attacks use it, as the source value of the attribute edit).
- ``x_sem`` is the attack's own semantic starting point: ``x`` for pixel attacks, ``AM(x, a')`` for
  the semantic ones; ``x_adv = clip(x_sem + delta, 0, 1)`` with ``||delta||_inf <= eps``.
- ``attr`` the chosen normalised attribute ``a'`` ``[B]`` in [0, 1], or None for pixel attacks.

Randomness (random starts, restarts, diversity codes) is drawn per sample from a generator seeded
by ``derive_seed(seed, tag, key)`` where ``key`` is the sample's index in the evaluated set. The
result for a sample therefore depends on the seed and the sample only, never on the batch it
was attacked in (``batch_invariant``); the batched losses are sums of per-sample losses and
Adam is element-wise, so the optimisation is per sample too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from reproflow.attacks.labels import LINF_TOL  # noqa: F401  (re-exported)
from reproflow.seeding import derive_seed

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator

log = logging.getLogger(__name__)

# Images one batched pass of an attack's inner search holds at most (grid values x samples in a grid scan and in
# grid-PGD, restarts x samples in SPA's search; at least one value or restart per pass). Speed and memory only: every
# sample's search is independent of its batch, so results do not depend on it (tests/unit/test_attacks_batched.py).
# On one CPU thread passes beyond a few hundred images ran slower than one value at a time (cache misses: at 17 x 60
# images the quick grid scan took 2.2x the CPU time; benchmarks/bench_batched_attacks.py), so CPUs batch little; on
# GPUs every pass pays kernel launches and Python steps, so they batch up to a memory bound.
PASS_IMAGES = {"cpu": 256, "cuda": 8192}


@dataclass(frozen=True)
class AttackResult:
    """Output of :meth:`Attack.attack`; tensors on the caller's device.

    x_adv: ``[B, C, H, W]`` in [0, 1]; x_sem: ``[B, C, H, W]`` in [0, 1] (x for pixel attacks);
    attr: ``[B]`` chosen normalised attribute in [0, 1], or None for pixel attacks.
    """

    x_adv: torch.Tensor
    x_sem: torch.Tensor
    attr: torch.Tensor | None


class Attack:
    """Base class: owns the device, the target's eval mode, clamping and per-sample seeding.

    Subclasses implement :meth:`_run` on tensors already on ``self.device`` and set ``name``,
    ``semantic`` (uses a manipulator) and ``batch_invariant`` (the result for a sample does not
    depend on the rest of its batch). The frozen attribute ``manipulator`` and noise ``generator`` a
    semantic attack works through are held here (None where unused) and put in eval mode with the
    classifier; :meth:`_schedule` and :meth:`_recursion` set the settings the iterative and the
    generator-based attacks share. Subclasses pass ``seed`` and ``device`` on as ``**base``.
    """

    name: ClassVar[str] = "attack"
    semantic: ClassVar[bool] = False
    batch_invariant: ClassVar[bool] = True

    def __init__(
        self,
        classifier: nn.Module,
        eps: float,
        *,
        manipulator: AttributeManipulator | None = None,
        generator: NoiseGenerator | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
    ):
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.classifier = classifier
        self.manipulator = manipulator
        self.generator = generator
        self.eps = float(eps)
        self.seed = int(seed)
        self.device = torch.device(device) if device is not None else _module_device(classifier)
        # speed and memory only, results do not depend on it: images one batched pass of an inner search holds
        # (1 = grid values and restarts one after another)
        self.pass_images = PASS_IMAGES.get(self.device.type, PASS_IMAGES["cpu"])

    def _schedule(self, steps: int, restarts: int, *, early_stop: bool = False, min_steps: int = 1) -> None:
        """Validate and set the search schedule of an iterative attack: ``steps`` per restart, ``restarts``
        and ``early_stop`` (a sample leaves the search at its first misclassification)."""
        if steps < min_steps or restarts < 1:
            raise ValueError(f"need steps >= {min_steps} and restarts >= 1, got {steps}, {restarts}")
        self.steps = int(steps)
        self.restarts = int(restarts)
        self.early_stop = bool(early_stop)

    def _restarts(self, best: WorstCase) -> Iterator[tuple[int, torch.Tensor]]:
        """``(restart, indices of the samples it runs on)``: every sample, or with ``early_stop`` those not yet
        misclassified (none left: no further restart)."""
        all_idx = torch.arange(best.fooled.shape[0], device=best.fooled.device)
        for r in range(self.restarts):
            idx = best.active() if self.early_stop else all_idx
            if idx.numel() == 0:
                return
            yield r, idx

    def _recursion(self, gen_steps: int, gen_step_factor: float) -> None:
        """The noise generator's recursion: ``gen_steps`` K steps of ``gen_step_factor`` x eps."""
        self.gen_steps = int(gen_steps)
        self.gen_step_size = float(gen_step_factor) * self.eps

    # -- public API ---------------------------------------------------------------------------
    def attack(
        self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None = None, keys: torch.Tensor | None = None
    ) -> AttackResult:
        """Attack a batch. ``keys`` int64 ``[B]`` are the samples' indices in the evaluated set
        (default ``0..B-1``); they seed the per-sample randomness."""
        if x.ndim != 4 or y.shape != (x.shape[0],):
            raise ValueError(f"expected x [B,C,H,W] and y [B], got {tuple(x.shape)} and {tuple(y.shape)}")
        if float(x.min()) < 0.0 or float(x.max()) > 1.0:
            raise ValueError("x must lie in [0, 1]")
        b = x.shape[0]
        if a is None:
            if self.semantic:
                raise ValueError(f"{self.name} is a semantic attack and needs the attribute values a [B]")
        elif a.shape != (b,):
            raise ValueError(f"expected a [B]={b}, got {tuple(a.shape)}")
        keys = torch.arange(b) if keys is None else keys.detach().to("cpu", torch.int64)
        out_device = x.device
        x_d = x.detach().to(self.device)
        y_d = y.detach().to(self.device)
        a_d = None if a is None else a.detach().to(self.device, x.dtype).clamp(0.0, 1.0)
        modules = self._modules()
        modes = [m.training for m in modules]
        for m in modules:
            m.eval()
        try:
            res = self._run(x_d, y_d, a_d, keys)
        finally:
            for m, mode in zip(modules, modes):
                m.train(mode)
        x_sem = res.x_sem.detach().clamp(0.0, 1.0)
        # The final projection is the guarantee behind the invariants: sub-classes already stay
        # inside the ball, this only removes round-off.
        delta = (res.x_adv.detach() - x_sem).clamp(-self.eps, self.eps)
        x_adv = (x_sem + delta).clamp(0.0, 1.0)
        attr = None if res.attr is None else res.attr.detach().clamp(0.0, 1.0).to(out_device)
        return AttackResult(x_adv.to(out_device), x_sem.to(out_device), attr)

    # -- for sub-classes ----------------------------------------------------------------------
    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        raise NotImplementedError

    def _modules(self) -> list[nn.Module]:
        """Modules put in eval mode while attacking (restored afterwards): the classifier and the frozen
        manipulator and generator where the attack holds them."""
        return [m for m in (self.classifier, self.manipulator, self.generator) if m is not None]

    def _rand(self, keys: torch.Tensor, tag: str, shape: tuple[int, ...], kind: str, like: torch.Tensor) -> torch.Tensor:
        """Per-sample random tensor ``[B, *shape]``: ``uniform`` in [0, 1) or ``normal``.

        Row ``i`` depends only on ``(self.seed, tag, keys[i])``.
        """
        rows = []
        for k in keys.tolist():
            g = torch.Generator().manual_seed(derive_seed(self.seed, tag, int(k)))
            rows.append(torch.rand(shape, generator=g) if kind == "uniform" else torch.randn(shape, generator=g))
        out = torch.stack(rows) if rows else torch.empty((0, *shape))
        return out.to(like.device, like.dtype)

    def _loss(self, x_adv: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample cross-entropy ``[B]`` and logits of the target classifier."""
        logits = self.classifier(x_adv)
        return F.cross_entropy(logits, y, reduction="none"), logits

    @torch.no_grad()
    def _start_worst_case(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None) -> WorstCase:
        """A :class:`WorstCase` whose first candidate is the unattacked ``x`` (attribute ``a``).

        Every attack returns the worst of the candidates it tried, the clean input included, so a
        sample the classifier already gets wrong stays wrong: robust accuracy <= clean accuracy
        per sample (the zero perturbation and the unchanged attribute are inside the threat model).
        """
        best = WorstCase(x, with_attr=a is not None)
        loss, logits = self._loss(x, y)
        best.update(x, x, a, loss, logits, y)
        return best

    def _input_grad(self, x_adv: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradient of the summed CE w.r.t. ``x_adv`` (never touches parameter ``.grad``)."""
        x_adv = x_adv.detach().requires_grad_(True)
        loss, logits = self._loss(x_adv, y)
        (grad,) = torch.autograd.grad(loss.sum(), [x_adv])
        return grad, loss.detach(), logits.detach()


class WorstCase:
    """Per-sample worst case over iterates/restarts: a misclassified candidate beats a correct one;
    between two of the same kind, the higher loss wins (spec section 4).

    ``update(..., idx=idx)`` takes candidates for the samples ``idx`` only (the still-active ones);
    ``active()`` lists the samples not yet misclassified, which an attack with early stopping keeps
    optimising (a misclassified sample stays misclassified, so accuracy is unchanged; the kept
    example is then the first misclassification).
    """

    def __init__(self, x: torch.Tensor, with_attr: bool):
        b = x.shape[0]
        self.x_adv = x.detach().clone()
        self.x_sem = x.detach().clone()
        self.attr = torch.zeros(b, device=x.device, dtype=x.dtype) if with_attr else None
        self.fooled = torch.zeros(b, dtype=torch.bool, device=x.device)
        self.loss = torch.full((b,), -float("inf"), device=x.device, dtype=x.dtype)

    def update(
        self,
        x_adv: torch.Tensor,
        x_sem: torch.Tensor,
        attr: torch.Tensor | None,
        loss: torch.Tensor,
        logits: torch.Tensor,
        y: torch.Tensor,
        idx: torch.Tensor | None = None,
    ) -> None:
        """Offer candidates for samples ``idx`` (all when None); ``y`` holds their labels."""
        if idx is None:
            idx = torch.arange(self.fooled.shape[0], device=self.fooled.device)
        fooled = logits.detach().argmax(1) != y
        loss = loss.detach().to(self.loss.dtype)
        old_fooled, old_loss = self.fooled[idx], self.loss[idx]
        better = (fooled & ~old_fooled) | ((fooled == old_fooled) & (loss > old_loss))
        sel = idx[better]
        self.x_adv[sel] = x_adv.detach()[better].to(self.x_adv.dtype)
        self.x_sem[sel] = x_sem.detach()[better].to(self.x_sem.dtype)
        if self.attr is not None and attr is not None:
            self.attr[sel] = attr.detach()[better].to(self.attr.dtype)
        self.fooled[idx] = old_fooled | fooled
        self.loss[sel] = loss[better]

    def merge(self, other: WorstCase, rows: torch.Tensor, idx: torch.Tensor) -> None:
        """Offer ``other``'s kept candidates of its ``rows`` as those of samples ``idx`` (same length), under the
        rule of :meth:`update`: the worst case of a sequence of candidates does not depend on how the sequence is
        split into consecutive parts (the earlier candidate wins ties), so running the parts as separate rows of one
        batch and merging them in order gives the worst case of running them one after another."""
        fooled, loss = other.fooled[rows], other.loss[rows]
        old_fooled, old_loss = self.fooled[idx], self.loss[idx]
        better = (fooled & ~old_fooled) | ((fooled == old_fooled) & (loss > old_loss))
        sel, src = idx[better], rows[better]
        self.x_adv[sel] = other.x_adv[src]
        self.x_sem[sel] = other.x_sem[src]
        if self.attr is not None and other.attr is not None:
            self.attr[sel] = other.attr[src]
        self.fooled[idx] = old_fooled | fooled
        self.loss[sel] = loss[better]

    def active(self) -> torch.Tensor:
        """Indices of the samples not yet misclassified."""
        return (~self.fooled).nonzero().squeeze(1)

    def result(self) -> AttackResult:
        return AttackResult(self.x_adv, self.x_sem, self.attr)


def project(x_sem: torch.Tensor, x_adv: torch.Tensor, eps: float) -> torch.Tensor:
    """Project ``x_adv`` onto the l_inf ball of radius ``eps`` around ``x_sem`` and into [0, 1]."""
    return (x_sem + (x_adv - x_sem).clamp(-eps, eps)).clamp(0.0, 1.0)


def _module_device(m: nn.Module) -> torch.device:
    for p in m.parameters():
        return p.device
    for b in m.buffers():
        return b.device
    return torch.device("cpu")
