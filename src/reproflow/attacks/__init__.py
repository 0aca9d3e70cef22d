"""Adversarial attacks of the SPA reproduction (docs/spa_interfaces.md, spec spa.md sections 4-5).

One module per attack on the small :class:`~reproflow.attacks.base.Attack` base;
:func:`reproflow.attacks.registry.build_attack` constructs any of the closed set
:class:`~reproflow.attacks.registry.AttackName`; :func:`reproflow.attacks.evaluate.evaluate` runs one attack
over a split and returns its metrics.

This package exports nothing: callers import the submodule they use (``from reproflow.attacks.registry import
build_attack``). That keeps every module a job runs visible to the import reader (:mod:`reproflow.deps`, the
rules' code digests and dvc.yaml's deps), and keeps the table and plot code (``.tables``, ``.claims``) free of
torch's start-up.
"""
