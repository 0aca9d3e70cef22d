"""Deterministic seeding of every random generator a job touches."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only
    import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) from one integer.

    Returns a CPU ``torch.Generator`` seeded with ``seed`` for code that wants an explicit
    generator. Seeds come from the config, never from the clock.
    """
    import torch

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from a tuple of values (e.g. base seed, dataset name, sw2).

    Uses a hash that does not depend on PYTHONHASHSEED, so runs are reproducible.
    """
    import hashlib

    h = hashlib.sha256(repr(parts).encode()).hexdigest()
    return int(h[:8], 16) & 0x7FFFFFFF
