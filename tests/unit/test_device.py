"""GPU switches of reproflow.device, checked on CPU: where they must be no-ops, results are identical
bit for bit; where they set flags, the flags are set (and restored)."""

from __future__ import annotations

import pytest
import torch

from reproflow import device as D
from reproflow.depthsweep.batched import StackedMLP
from reproflow.depthsweep.train import Data, cell_specs, train_stack

CPU = torch.device("cpu")


@pytest.fixture
def restore_flags():
    saved = (
        torch.backends.cuda.matmul.fp32_precision,
        torch.backends.cudnn.conv.fp32_precision,
        torch.backends.cudnn.rnn.fp32_precision,
        torch.backends.cudnn.benchmark,
    )
    yield
    (
        torch.backends.cuda.matmul.fp32_precision,
        torch.backends.cudnn.conv.fp32_precision,
        torch.backends.cudnn.rnn.fp32_precision,
        torch.backends.cudnn.benchmark,
    ) = saved


def _data():
    g = torch.Generator().manual_seed(1)
    protos = torch.rand(10, 40, generator=g)
    y = torch.randint(0, 10, (200,), generator=g)
    x = (protos[y] + 0.2 * torch.rand(200, 40, generator=g)).clamp(0, 1)
    return Data(x, y, x[:80], y[:80], 10)


def _train(data):
    specs = cell_specs([1.0, 2.0], seeds=[0], depth=4, lr=0.01)
    model = StackedMLP(specs, data.in_dim, 20, 4, 10, 0.05, 0.9, "orthogonal", "rmsprop")
    return train_stack(model, data, steps=8, batch=25, curve_every=2)


def test_cpu_resolution_leaves_cuda_flags_alone(restore_flags):
    before = torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.benchmark
    assert D.resolve_device("cpu", tf32=True) == CPU
    assert (torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.benchmark) == before


@pytest.mark.parametrize("tf32, want", [(True, "tf32"), (False, "ieee")])
def test_configure_cuda_sets_the_flags(restore_flags, tf32, want):
    D.configure_cuda(tf32=tf32)
    assert torch.backends.cuda.matmul.fp32_precision == want
    assert torch.backends.cudnn.conv.fp32_precision == want
    assert torch.backends.cudnn.benchmark is True


def test_cuda_settings_change_no_cpu_result(restore_flags):
    """TF32 and cudnn.benchmark are CUDA-only: a CPU training run is bit-identical with them on."""
    data = _data()
    D.configure_cuda(tf32=False)
    torch.backends.cudnn.benchmark = False
    ref = _train(data)
    D.configure_cuda(tf32=True)
    got = _train(data)
    assert got.curves == ref.curves
    assert got.test_accuracy == ref.test_accuracy and got.final_loss == ref.final_loss


def test_to_device_once_is_free_on_the_same_device():
    x, y = torch.rand(5, 3), torch.arange(5)
    x2, y2 = D.to_device_once(x, y, device=CPU)
    assert x2 is x and y2 is y  # no copy
    assert x2.data_ptr() == x.data_ptr()


def test_take_batch_equals_cpu_indexing():
    x = torch.rand(50, 7)
    idx = torch.tensor([3, 0, 49, 3])
    assert torch.equal(D.take_batch(x, idx), x[idx])


def test_device_generator_on_cpu_is_the_ordinary_stream():
    g = D.device_generator(123, CPU)
    assert g.device == CPU
    ref = torch.Generator().manual_seed(123)
    assert torch.equal(torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=ref))
    # drawing "on the device" with device= is the same on CPU as drawing then moving
    g1, g2 = D.device_generator(7, CPU), D.device_generator(7, CPU)
    assert torch.equal(torch.rand(3, 3, generator=g1, device=CPU), torch.rand(3, 3, generator=g2).to(CPU))


def test_cpu_description_is_unchanged():
    assert D.describe_device(CPU) == "cpu"
