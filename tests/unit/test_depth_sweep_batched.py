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


def _reference_mask(
    seed: int, step: int, layer: int, batch: int, width: int, rho: float, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The documented mask formula, written out on int64 with the reference hash (no int32 tricks)."""
    from reproflow.depthsweep.batched import mix32

    m = 0xFFFFFFFF
    k = mix32(torch.tensor([seed & m]))
    k = mix32(k ^ (step & m))
    k = mix32(k ^ ((step >> 32) & m) ^ ((layer * 0x9E3779B9) & m))
    u = mix32(torch.arange(batch * width, dtype=torch.int64) ^ k) >> 8
    keep = u < int(round(rho * (1 << 24)))
    return keep.view(batch, width).to(dtype) * (1.0 / rho)


@pytest.mark.parametrize("rho", [0.5, 0.98, 1.0])
def test_dropout_masks_equal_the_documented_formula_bit_for_bit(rho):
    seeds = torch.tensor([0, 7, 2**33 + 5, 2**62 + 1])
    for dtype in (torch.float32, torch.float64):
        got = dropout_masks(seeds, step=2**32 + 3, layer=5, batch=9, width=37, rho=rho, dtype=dtype)
        for s, seed in enumerate(seeds.tolist()):
            ref = _reference_mask(seed, 2**32 + 3, 5, 9, 37, rho, dtype)
            assert torch.equal(got[s], ref)
            assert torch.equal(got[s].view(-1).view(torch.uint8), ref.view(-1).view(torch.uint8))  # also the sign of 0


def _reference_train(spec, data, width, depth, rho, init, optimizer, steps, batch):
    """One network, written the plain way: Linear/tanh/dropout, autograd and torch.optim."""
    from reproflow.depthsweep.train import batch_indices

    gen = torch.Generator().manual_seed(spec.seed)
    dims = [data.in_dim] + [width] * (depth - 1) + [data.classes]
    params = []
    for l in range(depth):
        w = init_layer(dims[l], dims[l + 1], spec.sw2, init, gen)
        b = torch.randn(dims[l + 1], generator=gen) * math.sqrt(0.05)
        params += [w.requires_grad_(True), b.requires_grad_(True)]
    opt = torch.optim.SGD(params, lr=spec.lr) if optimizer == "sgd" else torch.optim.RMSprop(params, lr=spec.lr)

    def forward(x, step):
        h = x
        for l in range(depth):
            h = h @ params[2 * l] + params[2 * l + 1]
            if l < depth - 1:
                h = torch.tanh(h)
                if step is not None and rho < 1.0:
                    h = h * _reference_mask(spec.seed, step, l, h.shape[0], width, rho)
        return h

    losses = []
    for step in range(steps):
        idx = batch_indices(spec.data_seed, step, data.x.shape[0], batch)
        logits = forward(data.x[idx], step)
        loss = torch.nn.functional.cross_entropy(logits, data.y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    with torch.no_grad():
        test_acc = float((forward(data.x_test, None).argmax(1) == data.y_test).float().mean())
    return [p.detach() for p in params], losses, test_acc


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
@pytest.mark.parametrize("rho", [1.0, 0.9])
def test_stack_equals_plain_one_network_reference(optimizer, rho):
    """The optimised stacked trainer against a straightforward one-network loop (torch.optim, plain
    matmuls, masks from the documented formula): equal up to float rounding (bmm vs mm summation
    order; torch.optim's RMSprop computes ``lr * (g / d)`` where the stack computes ``(lr * g) / d``).
    Tolerance: SGD weights rtol 1e-4 / atol 1e-5 and batch losses rel 1e-5; RMSProp's first steps are
    ``lr * g / (0.1 |g|)`` = 10 lr sign(g), which turns rounding in small gradients into visible weight
    differences, so rtol/atol 1e-3 and losses rel 1e-4; test accuracies equal in both."""
    data = _data()
    specs = _specs()
    if optimizer == "rmsprop":  # lr / 10: its first steps are 10 lr sign(g), at lr 0.05 a random walk of rounding
        specs = [NetSpec(s.sw2, s.seed, s.data_seed, s.lr / 10) for s in specs]
    width, depth, steps = 24, 5, 8
    stack = StackedMLP(specs, data.in_dim, width, depth, 10, 0.05, rho, "orthogonal", optimizer)
    rec = train_stack(stack, data, steps=steps, batch=32, curve_every=1)
    tol = {"rtol": 1e-4, "atol": 1e-5} if optimizer == "sgd" else {"rtol": 1e-3, "atol": 1e-3}
    loss_rel = 1e-5 if optimizer == "sgd" else 1e-4
    for j, spec in enumerate(specs):
        params, losses, test_acc = _reference_train(spec, data, width, depth, rho, "orthogonal", optimizer, steps, 32)
        stacked = [t for l in range(depth) for t in (stack.weights[l][j], stack.biases[l][j])]
        for a, b in zip(stacked, params):
            torch.testing.assert_close(a.detach(), b, **tol)
        curve = [loss for net, _, loss, _ in rec.curves if net == j]
        assert curve == pytest.approx(losses, rel=loss_rel)
        assert rec.test_accuracy[j] == pytest.approx(test_acc, abs=1e-9)
        assert losses[-1] < losses[0] or optimizer == "rmsprop"  # the reference itself trains
