"""Device selection and thread settings."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto") -> "torch.device":  # noqa: F821
    """Map ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` to a ``torch.device``.

    ``auto`` picks CUDA when available, else CPU. Asking for CUDA on a machine without it
    raises a clear error instead of failing later inside a kernel.
    """
    import torch

    from reproflow.errors import UserError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device '{name}' requested but CUDA is not available; set device: auto or cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N") from None


def configure_threads(threads: int) -> None:
    """Use ``threads`` intra-op torch threads (the rule's ``threads``), and one inter-op thread.

    On a busy 2-core machine more threads than the scheduler granted are slower, so every job
    pins this to what its rule declared. torch is not imported here (seconds of start-up for jobs
    that never use it): OMP_NUM_THREADS fixes the thread count when torch is imported later.
    """
    import sys

    threads = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set once in this process
            pass


def describe_device(device: "torch.device") -> str:  # noqa: F821
    """Human-readable device string for the run sidecar."""
    import torch

    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"
