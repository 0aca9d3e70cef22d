"""SPA-enhanced adversarial training (Gao et al., IJCNN 2023; our reconstruction, spec spa.md section 6).

Every step crafts joint examples with a short SPA attack (:class:`reproflow.attacks.spa.SPA`, ``steps``
Adam steps over the attribute and the diversity code, ``restarts`` restarts) against the *current*
classifier, through the frozen attribute manipulator and a noise generator that is refreshed against the
current classifier every ``refresh_every`` adversarial epochs (:mod:`reproflow.defences.refresh`).
The loss mixes three terms (weights normalised to sum 1; the prototype's clean : attribute : joint =
1 : 2 : 2, spec section 6; 1 : 0 : 1 is "CE(x) + CE(x_spa)"):

    loss = w_c CE(f(x), y) + w_a CE(f(x_a), y) + w_j CE(f(x_spa), y),

where x_a = AM(x, a, a') is the semantic part of the crafted example (SPA's ``x_sem``) and
x_spa = clip(x_a + NG(x_a, z), 0, 1) the joint example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.attacks.base import AttackResult
from reproflow.attacks.registry import build_attack
from reproflow.data.store import Split
from reproflow.defences.base import Defence, StepOutput, acc
from reproflow.defences.refresh import GeneratorRefresher, RefreshSettings
from reproflow.models.generator import NoiseGenerator

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator


class SPAAT(Defence):
    """Training on SPA examples crafted against the current classifier, with periodic generator refresh."""

    name = "spa_at"
    needs_manipulator = True
    needs_generator = True

    def __init__(
        self,
        eps: float,
        manipulator: AttributeManipulator,
        generator: NoiseGenerator,
        train: Split,
        *,
        steps: int,
        restarts: int,
        lr: float,
        attr_lr: float,
        grid_size: int,
        gen_steps: int,
        gen_step_factor: float,
        loss_weights: tuple[float, float, float],
        refresh_every: int,
        refresh: RefreshSettings,
        seed: int = 0,
    ) -> None:
        super().__init__(eps, seed=seed)
        w = [float(v) for v in loss_weights]
        if len(w) != 3 or min(w) < 0 or sum(w) <= 0:
            raise ValueError(f"loss_weights must be three non-negative numbers with a positive sum, got {loss_weights}")
        if refresh_every < 0:
            raise ValueError(f"refresh_every must be >= 0 (0 = never), got {refresh_every}")
        self.weights = tuple(v / sum(w) for v in w)
        self.manipulator = manipulator
        self.generator = generator
        self.train_split = train
        self.spa_kw = {"steps": int(steps), "restarts": int(restarts), "lr": float(lr), "attr_lr": float(attr_lr),
                       "grid_size": int(grid_size), "gen_steps": int(gen_steps), "gen_step_factor": float(gen_step_factor)}
        self.refresh_every = int(refresh_every)
        self.refresher = GeneratorRefresher(generator, refresh)

    def begin_epoch(self, model: nn.Module, adv_epoch: int, rng: torch.Generator) -> dict[str, float]:
        """Refresh the generator against the current classifier before adversarial epochs k, 2k, ... (k =
        ``refresh_every``; the first adversarial epoch uses the pretrained generator, fitted to the clean
        classifier of the same seed)."""
        if self.refresh_every == 0 or adv_epoch == 0 or adv_epoch % self.refresh_every != 0:
            return {}
        return self.refresher.refresh(model, self.manipulator, self.train_split, rng)

    def craft(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> AttackResult:
        """SPA examples against the current ``model``: ``x_adv`` (joint), ``x_sem`` (attribute only), ``attr``.

        Like PGD-AT's inner PGD, every sample runs every step and keeps its highest-loss iterate
        (``early_stop=False``): stopping at the first misclassification would train on weaker examples
        than PGD-AT's and make the two inner maximisations of claim T2 asymmetric."""
        attack = build_attack("spa", model, self.eps, manipulator=self.manipulator, generator=self.generator,
                              early_stop=False, seed=self.seed, device=x.device, **self.spa_kw)
        return attack.attack(x, y, a, keys=keys)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        res = self.craft(model, x, y, a, keys)
        w_c, w_a, w_j = self.weights
        parts = [(w, xx) for w, xx in ((w_c, x), (w_a, res.x_sem), (w_j, res.x_adv)) if w > 0]
        logits = model(torch.cat([xx for _, xx in parts]))
        chunks = logits.split(x.shape[0])
        loss = sum(w * F.cross_entropy(c, y) for (w, _), c in zip(parts, chunks))
        stats: dict[str, float] = {}
        names = [n for n, w in zip(("clean_accuracy", "attr_accuracy", "adv_accuracy"), self.weights) if w > 0]
        for n, c in zip(names, chunks):
            stats[n] = acc(c, y)
        return StepOutput(loss, stats)  # type: ignore[arg-type]

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "generator_opt": self.refresher.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.refresher.opt.load_state_dict(state["generator_opt"])
