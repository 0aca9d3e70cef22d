"""The common on-disk form of a model: ``{"kind", "kwargs", "state_dict", "meta"}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from reproflow.errors import UserError
from reproflow.io import load_torch, save_torch

M = TypeVar("M", bound=nn.Module)


def channels_last(model: M) -> M:
    """Store the 4-D (convolution) weights of ``model`` channels-last (NHWC), in place; returns ``model``.

    Only the memory layout changes: values, shapes, ``state_dict`` keys and checkpoints stay as they are
    (a loaded state is copied into these tensors), and inputs may stay NCHW. With channels-last weights
    oneDNN runs convolutions and max-pooling in NHWC, which on one CPU thread trains and attacks the
    classifiers 1.3-1.6 times faster (``benchmarks/bench_layout.py`` measures it side by side); cuDNN
    supports the layout on GPUs. The modules call it at construction, so every job gets it.
    """
    return model.to(memory_format=torch.channels_last)


def save_model(path: str | Path, kind: str, kwargs: dict[str, Any], model: nn.Module, meta: dict[str, Any]) -> None:
    """Atomically save a model with what is needed to rebuild it (state on CPU)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_torch(path, {"kind": kind, "kwargs": dict(kwargs), "state_dict": state, "meta": dict(meta or {})})


def load_model_dict(path: str | Path, kinds: tuple[str, ...]) -> dict[str, Any]:
    """Read a saved model dict and check its kind; clear UserError otherwise."""
    raw = load_torch(path)
    if not isinstance(raw, dict) or not {"kind", "kwargs", "state_dict"} <= set(raw):
        raise UserError(f"{path}: not a model checkpoint written by the pretrain phase; re-run it")
    if raw["kind"] not in kinds:
        raise UserError(f"{path}: holds a '{raw['kind']}' model, expected one of {', '.join(kinds)}")
    return raw


def freeze(model: M, device: torch.device | str) -> M:
    """Move to ``device``, eval mode, no parameter gradients."""
    model = model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
