"""Depth sweep (Huang et al., ECAI 2020, Fig. 6-7): trainability of deep tanh dropout networks.

Modules:
- :mod:`~reproflow.depthsweep.batched`: a stack of S independent fully connected networks trained
  as one model (weights ``(S, fan_in, fan_out)``, batched matmuls, per-network init, dropout masks,
  learning rates and optimiser state).
- :mod:`~reproflow.depthsweep.train`: the training loop with checkpoints, divergence tracking and
  kill-and-resume.
- :mod:`~reproflow.depthsweep.boundary`: the measured trainable depth per sw2.
- :mod:`~reproflow.depthsweep.fit`: the multiplier k in ``L_b = k * xi`` per candidate depth scale.
- :mod:`~reproflow.depthsweep.speed`: steps to a target test accuracy against the learning rate (Fig. 6).
"""
