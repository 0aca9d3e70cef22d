"""Defences of the SPA reproduction (spec spa.md section 6): standard training, PGD-AT (Madry), TRADES,
attribute augmentation and SPA-AT, one module each on the small :class:`~reproflow.defences.base.Defence`
base; :func:`reproflow.defences.registry.build_defence` constructs any of the closed set
:class:`~reproflow.defences.base.DefenceName`, :func:`reproflow.defences.train.train_defence` runs the shared
resumable training loop, :mod:`reproflow.defences.matrix` builds the defence x attack matrix and the T2 claim
table.

This package exports nothing: callers import the submodule they use, so every module a job runs is visible to
the import reader (:mod:`reproflow.deps`), and the table CLIs (``.matrix``: pandas only) do not pay torch's
start-up time.
"""
