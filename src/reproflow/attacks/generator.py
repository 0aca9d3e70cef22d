"""Generator attack with random (a', z): one draw of the pretrained semantic + noise pipeline
(L2L-DA, Jang et al. ICCV 2019 / AdvGAN-like; spec section 5).

``a' ~ U[0, 1]``, ``z ~ N(0, I)`` per sample; ``x_a = AM(x, a, a')``;
``delta = NG(x_a, z)`` (K recursive generator steps inside the eps ball); ``x_adv = clip(x_a + delta)``.
Nothing is optimised: this is what the frozen generator achieves without SPA's search over (a', z).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from reproflow.attacks.base import Attack, AttackResult

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator


class GeneratorAttack(Attack):
    """Random attribute and diversity code through the frozen manipulator and noise generator."""

    name = "generator"
    semantic = True
    manipulator: AttributeManipulator  # the frozen editor it works through (required here)
    generator: NoiseGenerator

    def __init__(self, classifier: torch.nn.Module, eps: float, manipulator: AttributeManipulator,
                 generator: NoiseGenerator, *, gen_steps: int, gen_step_factor: float, **base: Any):
        super().__init__(classifier, eps, manipulator=manipulator, generator=generator, **base)
        self._recursion(gen_steps, gen_step_factor)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        from reproflow.models.generator import generate_noise

        assert a is not None
        a_tgt = self._rand(keys, "generator-attr", (), "uniform", a)
        z = self._rand(keys, "generator-z", (self.generator.z_dim,), "normal", x)
        with torch.no_grad():
            x_a = self.manipulator.edit(x, a, a_tgt).clamp(0.0, 1.0)
        best = self._start_worst_case(x, y, a)
        delta = generate_noise(self.generator, self.classifier, x_a, y, z, self.eps, self.gen_steps, self.gen_step_size)
        x_adv = (x_a + delta.detach()).clamp(0.0, 1.0)
        with torch.no_grad():
            loss, logits = self._loss(x_adv, y)
        best.update(x_adv, x_a, a_tgt, loss, logits, y)
        return best.result()
