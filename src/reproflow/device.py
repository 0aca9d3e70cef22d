"""Device selection, GPU numerics settings, data placement and thread settings: the one place.

GPU settings (applied by :func:`resolve_device` when it returns a CUDA device, so every CLI gets
them by resolving its device):
- ``cudnn.benchmark``: on. Every job here has fixed shapes (fixed batch, width, depth), so the
  autotuner's one-off search pays back from the second step.
- TF32: off unless the caller passes ``tf32=True``. TF32 keeps 10 mantissa bits in matmul and
  convolution inputs (relative error ~1e-3 per product). Training and attack jobs, whose tables
  are accuracies compared at +-1 % over seeds, may opt in; the mean-field Monte Carlo jobs compare
  with theory at tight tolerances through up to hundreds of layers and must not.
- AMP: not used. No test on a CPU machine can show that fp16/bf16 autocast leaves a table within
  its tolerance, and the workflow spec allows AMP only where it does not change results.
None of this changes anything on CPU (tests/unit/test_device.py checks results bit for bit).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing torch here would slow every table CLI
    import torch

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto", *, tf32: bool = False) -> torch.device:
    """Map ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` to a ``torch.device``; configure CUDA once.

    ``auto`` picks CUDA when available, else CPU. Asking for CUDA on a machine without it
    raises a clear error instead of failing later inside a kernel. For a CUDA device the
    backend settings of :func:`configure_cuda` are applied (``tf32`` as given).
    """
    import torch

    from reproflow.errors import UserError

    if name == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"device '{name}' requested but CUDA is not available; set device: auto or cpu")
        try:
            device = torch.device(name)
        except RuntimeError:
            raise UserError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        configure_cuda(tf32=tf32)
    return device


def configure_cuda(*, tf32: bool) -> None:
    """Set the CUDA numerics of this process (module docstring): cudnn autotuning on, TF32 in
    matmuls and cudnn convolutions as asked, IEEE fp32 otherwise. Global torch flags; CPU kernels
    do not read them."""
    import torch

    precision = "tf32" if tf32 else "ieee"
    torch.backends.cuda.matmul.fp32_precision = precision
    # set at run time by torch >= 2.9 (the fp32_precision API); torch's stubs do not declare them yet
    torch.backends.cudnn.conv.fp32_precision = precision  # type: ignore[attr-defined]
    torch.backends.cudnn.rnn.fp32_precision = precision  # type: ignore[attr-defined]
    torch.backends.cudnn.benchmark = True
    log.info("CUDA settings: fp32 matmul/conv precision %s, cudnn.benchmark on, no AMP", precision)


def to_device_once(*tensors: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Move whole data sets to ``device`` at the start of a job, so that each step indexes batches
    there instead of slicing on the CPU and copying every step.

    Tensors already on ``device`` are returned as they are (the same objects: no copy on CPU).
    On CUDA the copy goes through pinned memory, without blocking the host.
    """
    out = []
    for t in tensors:
        if t.device == device:
            out.append(t)
        elif device.type == "cuda":
            out.append(t.pin_memory().to(device, non_blocking=True))
        else:
            out.append(t.to(device))
    return tuple(out)


def take_batch(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` of ``x`` (shape (n, ...) -> (len(idx), ...)), indexed where ``x`` lives; the
    index (a few hundred integers) is what moves, not the batch."""
    return x.index_select(0, idx.to(x.device, non_blocking=True))


def device_generator(seed: int, device: torch.device) -> torch.Generator:
    """A torch generator on ``device`` seeded with ``seed``, for drawing Monte Carlo weights,
    biases and dropout masks where they are used (``torch.randn(..., generator=g, device=device)``)
    instead of on one CPU thread followed by a copy.

    On CPU it is the ordinary CPU generator (same stream as ``torch.Generator().manual_seed``). On
    CUDA the stream is CUDA's Philox: runs are reproducible per device type, and CPU and GPU runs
    differ by Monte Carlo noise, not in distribution.
    """
    import torch

    return torch.Generator(device=device).manual_seed(int(seed))


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


def describe_device(device: torch.device) -> str:
    """Human-readable device string for the run sidecar."""
    import torch

    if device.type == "cuda":
        return (
            f"cuda:{torch.cuda.get_device_name(device)} (fp32 matmul {torch.backends.cuda.matmul.fp32_precision}, "
            f"cudnn.benchmark {torch.backends.cudnn.benchmark})"
        )
    return "cpu"
