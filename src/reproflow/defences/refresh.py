"""Refitting a pretrained noise generator against another classifier (SPA-AT's periodic refresh and the
evaluation's per-model refit; spec spa.md sections 6 and 8).

The pretrain phase's ``train_generator`` builds and trains a *fresh* generator for whole epochs against a
frozen classifier; SPA-AT needs to *continue* training the current generator for a few batches against the
classifier being trained, so this is the small adapter: the same objective and optimiser as pretraining
(``reproflow.training.generator``: loss = -CE(f(x_a + delta), y) - div_weight * DS with two z draws per
sample, Adam and gradient-norm clipping with the generator's own pretraining settings) over ``batches`` random batches, with the
classifier frozen while the generator learns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.data.store import Split
from reproflow.models.generator import NoiseGenerator, generate_noise_copies
from reproflow.training.generator import diversity_ratio, sign_differ

if TYPE_CHECKING:  # annotations only
    from reproflow.models.manipulator import AttributeManipulator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshSettings:
    """How a generator is refitted: ``batches`` Adam steps of ``batch_size`` samples at learning rate
    ``lr``, ``gen_steps`` recursive steps of ``gen_step_factor * eps`` at radius ``eps``, diversity weight
    ``div_weight``; Adam betas ``adam_beta1``, ``adam_beta2`` and gradient-norm clip ``grad_clip`` continue the
    generator's pretraining (:func:`reproflow.attacks.suite.generator_optimizer`)."""

    batches: int
    batch_size: int
    lr: float
    eps: float
    gen_steps: int
    gen_step_factor: float
    div_weight: float
    adam_beta1: float
    adam_beta2: float
    grad_clip: float


class GeneratorRefresher:
    """Keeps the generator's Adam state across refreshes (part of the resumable state)."""

    def __init__(self, generator: NoiseGenerator, settings: RefreshSettings) -> None:
        self.generator = generator
        self.settings = settings
        self.opt = torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=(settings.adam_beta1, settings.adam_beta2))

    def refresh(self, classifier: nn.Module, manipulator: AttributeManipulator, train: Split, rng: torch.Generator) -> dict[str, float]:
        """Train the generator for ``settings.batches`` batches against ``classifier`` (frozen meanwhile;
        its train/eval mode and ``requires_grad`` flags are restored). Returns the mean loss terms:
        ``refresh_ce`` (classifier CE on the generated examples) and ``refresh_success`` (misclassified share)."""
        s = self.settings
        if s.batches == 0:
            return {}
        gen, device = self.generator, next(self.generator.parameters()).device
        clf_mode = classifier.training
        clf_flags = [p.requires_grad for p in classifier.parameters()]
        for p in classifier.parameters():
            p.requires_grad_(False)
        for p in gen.parameters():
            p.requires_grad_(True)
        classifier.eval()
        gen.train()
        tot_ce, tot_succ, tot_div, tot_sign = 0.0, 0.0, 0.0, 0.0
        try:
            for _ in range(s.batches):
                idx = torch.randint(len(train), (min(s.batch_size, len(train)),), generator=rng)
                b = len(idx)
                x, y = train.images[idx].to(device), train.labels[idx].to(device)
                a = train.attributes[idx].to(device)
                a_t = torch.rand(b, generator=rng).to(device)
                z = torch.randn(2 * b, gen.z_dim, generator=rng).to(device)
                with torch.no_grad():
                    x_a = manipulator.edit(x, a, a_t).clamp(0.0, 1.0)
                xx, yy = torch.cat([x_a, x_a]), torch.cat([y, y])
                delta = generate_noise_copies(gen, classifier, x_a, y, z, s.eps, s.gen_steps, s.gen_step_factor * s.eps)
                logits = classifier(xx + delta)
                ce = F.cross_entropy(logits, yy)
                d1, d2 = delta.chunk(2)
                loss = -ce - s.div_weight * diversity_ratio(d1, d2, z[:b], z[b:], s.eps).mean()
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(gen.parameters(), s.grad_clip)
                self.opt.step()
                tot_ce += float(ce.detach())
                tot_succ += float((logits.argmax(1) != yy).float().mean())
                tot_div += float(((d1 - d2).abs().flatten(1).mean(1) / s.eps).mean().detach())
                tot_sign += float(sign_differ(d1.detach(), d2.detach()).mean())
        finally:
            for p, flag in zip(classifier.parameters(), clf_flags):
                p.requires_grad_(flag)
            for p in gen.parameters():
                p.requires_grad_(False)
            classifier.train(clf_mode)
            gen.eval()  # frozen again: the attacks use it in eval mode
        # delta diversity (mean |delta(z1) - delta(z2)| / eps) and sign-differing pixel share over the refresh batches
        out = {"refresh_ce": tot_ce / s.batches, "refresh_success": tot_succ / s.batches,
               "refresh_delta_diversity": tot_div / s.batches, "refresh_delta_sign_differ": tot_sign / s.batches}
        log.info("generator refreshed over %d batches: %s", s.batches, {k: round(v, 4) for k, v in out.items()})
        return out
