"""Constructor settings of an attack for the unit tests. The attack classes have no defaults for values that
params.yaml holds (issue 23), so a test takes them from params.yaml's own sections, as a run does
(``reproflow.attacks.suite.attack_kwargs``), and overrides what it shortens or varies by name."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from reproflow.attacks.registry import AttackName, parse_attack_name
from reproflow.settings import dump, group, load
from reproflow.settings.sections import Attack, AttackSuite
from reproflow.vocab import ATTACKS

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
# a test generator's recursion (a run reads it from the generator checkpoint's meta: generator_recursion)
GENERATOR_RECURSION = {"gen_steps": 10, "gen_step_factor": 0.25}
# the joint attacks start from a grid scan only where a test asks for one (a run passes attack.attribute.grid_size)
NO_GRID = {"grid_size": 0}


@functools.cache
def suite() -> AttackSuite:
    """params.yaml's attack section, as the evaluation jobs receive it."""
    return group(AttackSuite, load(Attack, yaml.safe_load(PARAMS.read_text())["attack"], "attack"))


def attack_kw(name: str | AttackName, **over: Any) -> dict[str, Any]:
    """Keyword arguments of attack ``name``: its params.yaml subsection (and the generator's recursion for the
    attacks that run it), then ``over``."""
    key = parse_attack_name(name)
    spec = next(a for a in ATTACKS if a.name == key.value)
    s = suite()
    kw: dict[str, Any] = dict(dump(getattr(s, spec.settings))) if spec.settings else {}
    if key is AttackName.AUTOATTACK:
        kw["sub_attacks"] = tuple(kw["sub_attacks"])
        kw["batch_size"] = s.batch_size
    if key in (AttackName.SPA, AttackName.JOINT_PGD, AttackName.JOINT_APGD):
        kw.update(NO_GRID)
    if spec.generator:
        kw.update(GENERATOR_RECURSION)
    return {**kw, **over}


MODELS = ("manipulator", "generator", "seed", "device")  # build_attack's own arguments, not the attack's settings


def build_with_params(name: str | AttackName, classifier: Any, eps: float, **kw: Any) -> Any:
    """``build_attack`` with params.yaml's settings of ``name`` under the test's own keyword arguments."""
    from reproflow.attacks.registry import build_attack

    models = {k: kw.pop(k) for k in MODELS if k in kw}
    return build_attack(name, classifier, eps, **models, **attack_kw(name, **kw))
