"""Stacked training equals one-by-one training; init and dropout have the stated statistics."""

import math

import pytest
import torch

from reproflow.depthsweep.batched import NetSpec, StackedMLP, dropout_masks, init_layer
from reproflow.depthsweep.train import Data, train_stack

torch.set_num_threads(1)


def _data(n=160, d=48, classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g)
    # a learnable rule so accuracies move away from chance
    y = (x[:, :classes].argmax(1)).long()
    return Data(x, y, x[:60], y[:60], classes)


def _specs():
    return [
        NetSpec(sw2=1.2, seed=11, data_seed=5, lr=0.05),
        NetSpec(sw2=2.0, seed=12, data_seed=5, lr=0.02),
        NetSpec(sw2=3.5, seed=13, data_seed=6, lr=0.05),  # its own batch order
    ]


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
@pytest.mark.parametrize("init,rho", [("gaussian", 1.0), ("orthogonal", 0.9), ("gaussian", 0.8)])
def test_stack_equals_single_networks(optimizer, init, rho):
    data = _data()
    specs = _specs()
    stack = StackedMLP(specs, data.in_dim, 24, 5, 10, 0.05, rho, init, optimizer)
    rec = train_stack(stack, data, steps=8, batch=32, curve_every=2)
    for j, spec in enumerate(specs):
        single = StackedMLP([spec], data.in_dim, 24, 5, 10, 0.05, rho, init, optimizer)
        r1 = train_stack(single, data, steps=8, batch=32, curve_every=2)
        for ws, w1 in zip(stack.params(), single.params()):
            torch.testing.assert_close(ws[j], w1[0], rtol=1e-5, atol=1e-6)
        assert rec.final_loss[j] == pytest.approx(r1.final_loss[0], rel=1e-5)
        assert rec.test_accuracy[j] == pytest.approx(r1.test_accuracy[0], abs=1e-6)
    # training did something: the parameters moved and the loss is finite
    assert all(math.isfinite(v) for v in rec.final_loss)


def test_stack_matches_plain_torch_network():
    """The stacked forward is the textbook MLP: Linear -> tanh -> inverted dropout, no dropout on logits."""
    data = _data()
    spec = NetSpec(sw2=2.0, seed=3, data_seed=1, lr=0.1)
    m = StackedMLP([spec], data.in_dim, 16, 4, 10, 0.05, 0.8, "gaussian", "sgd")
    x = data.x[:20]
    out = m.forward(x, step=4)[0]
    h = x
    for l in range(4):
        h = h @ m.weights[l][0] + m.biases[l][0]
        if l < 3:
            h = torch.tanh(h) * dropout_masks(m.seeds, 4, l, 20, 16, 0.8, h.dtype)[0]
    torch.testing.assert_close(out, h)
    assert [tuple(w.shape) for w in m.weights] == [(1, 48, 16), (1, 16, 16), (1, 16, 16), (1, 16, 10)]


@pytest.mark.parametrize("fan_in,fan_out", [(64, 64), (100, 40), (30, 70)])
def test_orthogonal_init_is_scaled_orthogonal(fan_in, fan_out):
    sw2 = 2.5
    w = init_layer(fan_in, fan_out, sw2, "orthogonal", torch.Generator().manual_seed(0)).double()
    gram = w.T @ w if fan_in >= fan_out else w @ w.T
    torch.testing.assert_close(gram, sw2 * torch.eye(gram.shape[0], dtype=torch.float64), atol=1e-5, rtol=0)


def test_gaussian_init_variance():
    w = init_layer(400, 400, 1.7, "gaussian", torch.Generator().manual_seed(1))
    # var = sw2 / fan_in; 160000 samples: relative s.e. of a variance ~ sqrt(2/n) = 0.35 %
    assert w.var().item() * 400 == pytest.approx(1.7, rel=0.02)
    assert abs(w.mean().item()) < 4 * math.sqrt(1.7 / 400 / w.numel())


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.98])
def test_inverted_dropout_keeps_the_mean(rho):
    m = dropout_masks(torch.tensor([1, 2, 3]), step=7, layer=2, batch=500, width=200, rho=rho, dtype=torch.float64)
    n = m[0].numel()
    keep = (m > 0).double().mean(dim=(1, 2))
    se = math.sqrt(rho * (1 - rho) / n)
    assert torch.all((keep - rho).abs() < 5 * se)
    assert torch.all(((m.mean(dim=(1, 2))) - 1.0).abs() < 5 * se / rho)
    assert set(torch.unique(m).tolist()) <= {0.0, 1.0 / rho}
    # independent across networks, steps and layers (fraction of disagreeing units ~ 2 rho (1 - rho))
    other_step = dropout_masks(torch.tensor([1]), step=8, layer=2, batch=500, width=200, rho=rho, dtype=torch.float64)
    other_layer = dropout_masks(torch.tensor([1]), step=7, layer=3, batch=500, width=200, rho=rho, dtype=torch.float64)
    for a, b in [(m[0], m[1]), (m[0], other_step[0]), (m[0], other_layer[0])]:
        assert (a != b).double().mean().item() == pytest.approx(2 * rho * (1 - rho), abs=6 * se + 1e-3)


def test_nan_network_is_recorded_and_dropped():
    data = _data()
    specs = _specs()
    bad = NetSpec(sw2=2.0, seed=99, data_seed=5, lr=0.05)
    stack = StackedMLP([specs[0], bad, specs[2]], data.in_dim, 24, 4, 10, 0.05, 1.0, "gaussian", "sgd")
    with torch.no_grad():
        stack.weights[1][1, 0, 0] = math.inf  # network 1 blows up after its first update
    sizes = []
    rec = train_stack(stack, data, steps=6, batch=32, curve_every=1, on_step=lambda s: sizes.append(len(stack)))
    assert rec.diverged_step[1] > 0 and rec.diverged_step[0] == rec.diverged_step[2] == -1
    assert math.isnan(rec.test_accuracy[1]) and math.isnan(rec.train_accuracy[1])
    assert sizes[-1] == 2 and stack.ids.tolist() == [0, 2]
    # the other networks are untouched by their neighbour's NaN
    ref = StackedMLP([specs[0], specs[2]], data.in_dim, 24, 4, 10, 0.05, 1.0, "gaussian", "sgd")
    r2 = train_stack(ref, data, steps=6, batch=32, curve_every=1)
    for ws, wr in zip(stack.params(), ref.params()):
        torch.testing.assert_close(ws, wr)
    assert [rec.final_loss[0], rec.final_loss[2]] == pytest.approx(r2.final_loss, rel=1e-6)


def test_int32_hash_equals_int64_reference():
    from reproflow.depthsweep.batched import _mix32_int32, mix32

    x = torch.randint(0, 2**32, (10000,), dtype=torch.int64)
    x[:4] = torch.tensor([0, 1, 2**31, 2**32 - 1])
    ref = mix32(x.clone())
    got = _mix32_int32(torch.where(x >= 2**31, x - 2**32, x).to(torch.int32))
    assert torch.equal(got.to(torch.int64) & 0xFFFFFFFF, ref)
