"""Kill-and-resume, chunked stacks and the training-speed target."""

import math

import pytest
import torch

from reproflow.checkpoint import Checkpointer
from reproflow.depthsweep.batched import StackedMLP
from reproflow.depthsweep.speed import learning_rate, measure_speed
from reproflow.depthsweep.train import Data, batch_indices, cell_specs, train_chunked, train_stack

torch.set_num_threads(1)


def _data(n=200, d=40, classes=10):
    g = torch.Generator().manual_seed(1)
    protos = torch.rand(classes, d, generator=g)  # well-separated class means: learnable in a few steps
    y = torch.randint(0, classes, (n,), generator=g)
    x = (protos[y] + 0.2 * torch.rand(n, d, generator=g)).clamp(0, 1)
    return Data(x, y, x[:80], y[:80], classes)


def _model(data, specs, rho=0.9, opt="rmsprop"):
    return StackedMLP(specs, data.in_dim, 20, 4, 10, 0.05, rho, "orthogonal", opt)


class Killed(Exception):
    pass


def test_kill_and_resume_gives_the_same_result(tmp_path):
    data = _data()
    specs = cell_specs([1.0, 2.0, 3.0], seeds=[0, 1], depth=4, lr=0.01)
    full = train_stack(_model(data, specs), data, steps=12, batch=25, curve_every=3)

    ck = Checkpointer(tmp_path / "cell.pt", every=4)

    def kill(step):
        if step == 10:
            raise Killed

    with pytest.raises(Killed):
        train_stack(_model(data, specs), data, steps=12, batch=25, curve_every=3, checkpointer=ck, on_step=kill)
    assert ck.load()["step"] == 8
    resumed_model = _model(data, specs)
    resumed = train_stack(resumed_model, data, steps=12, batch=25, curve_every=3, checkpointer=ck)
    assert resumed.final_loss == pytest.approx(full.final_loss, rel=1e-6)
    assert resumed.train_accuracy == full.train_accuracy
    assert resumed.test_accuracy == full.test_accuracy
    assert len(resumed.curves) == len(full.curves)
    for a, b in zip(resumed.curves, full.curves):
        assert a[:2] == b[:2] and a[2] == pytest.approx(b[2], rel=1e-6)
    # a finished checkpoint short-circuits a re-run
    again = train_stack(_model(data, specs), data, steps=12, batch=25, curve_every=3, checkpointer=ck)
    assert again.final_loss == resumed.final_loss


def test_chunked_equals_one_stack(tmp_path):
    data = _data()
    specs = cell_specs([1.0, 1.5, 2.0, 3.0, 4.0], seeds=[0], depth=3, lr=0.05)
    kw = dict(width=20, depth=3, sb2=0.05, rho=1.0, init="gaussian", optimizer="sgd", steps=6, batch=30,
              curve_every=2, device=torch.device("cpu"), checkpoint_every=2)
    one = train_chunked(specs, data, max_stack=0, checkpoint=None, **kw)
    parts = train_chunked(specs, data, max_stack=2, checkpoint=tmp_path / "c.pt", **kw)
    assert parts.final_loss == pytest.approx(one.final_loss, rel=1e-5)
    assert len(parts.curves) == len(one.curves)
    for a, b in zip(sorted(parts.curves), sorted(one.curves)):
        assert a[:2] == b[:2] and a[2:] == pytest.approx(b[2:], rel=1e-5)
    assert not list(tmp_path.iterdir())  # checkpoints removed after success


def test_batches_are_deterministic_and_distinct():
    a, b = batch_indices(3, 10, 100, 30), batch_indices(3, 10, 100, 30)
    assert torch.equal(a, b) and a.unique().numel() == 30 and int(a.max()) < 100
    assert not torch.equal(a, batch_indices(3, 11, 100, 30))
    assert batch_indices(3, 0, 20, 50).numel() == 20


def test_speed_target_steps():
    data = _data(n=300)
    df = measure_speed(data, depth=3, width=32, sw2=2.0, sb2=0.05, rho=1.0, init="orthogonal",
                       lr_exponents=[0, 10, 30], seeds=[0], batch=50, max_steps=40, eval_every=4,
                       fine_eval_steps=6, target_accuracy=0.25, device=torch.device("cpu"))
    assert list(df["lr"]) == pytest.approx([learning_rate(i) for i in (0, 10, 30)])
    reached = df[df["reached"]]
    # checked at every step up to fine_eval_steps, then at multiples of eval_every
    steps = reached["steps_to_target"]
    assert ((steps <= 6) | (steps % 4 == 0)).all() and (steps <= 40).all()
    # a 100x smaller learning rate is not faster
    fast, slow = df.iloc[0], df.iloc[2]
    assert fast["reached"]
    assert (not slow["reached"]) or slow["steps_to_target"] >= fast["steps_to_target"]
    assert df["steps_to_target"].isna().eq(~df["reached"]).all()
    assert not math.isnan(float(fast["steps_to_target"]))
