"""Attribute manipulators: range, identity of the oracle at a zero angle, composition, the MSP edit rule."""

import pytest
import torch

from reproflow.data.rotate import rotate
from reproflow.models import MSPManipulator, RotationOracle, load_manipulator, save_manipulator

torch.set_num_threads(1)


def _digits_like(n=4, size=28):
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, size, size)
    x[:, :, 6:22, 12:16] = torch.rand(n, 1, 16, 4, generator=g) * 0.5 + 0.5  # a bar: rotation is visible
    return x


def test_oracle_zero_angle_is_identity():
    x = _digits_like()
    a = torch.tensor([0.1, 0.5, 0.7, 1.0])
    torch.testing.assert_close(RotationOracle((-40, 40)).edit(x, a, a), x, atol=1e-5, rtol=0)


def test_oracle_matches_data_rotation_and_range():
    x = _digits_like()
    oracle = RotationOracle((-40.0, 40.0))
    a_src, a_tgt = torch.full((4,), 0.5), torch.tensor([0.0, 0.25, 0.75, 1.0])
    out = oracle.edit(x, a_src, a_tgt)
    torch.testing.assert_close(out, rotate(x, torch.tensor([-40.0, -20.0, 20.0, 40.0])))
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out[0], x[0], atol=1e-2)


def test_oracle_differentiable_in_target():
    x = _digits_like(2)
    a_tgt = torch.tensor([0.3, 0.8], requires_grad=True)
    RotationOracle((-40, 40)).edit(x, torch.full((2,), 0.5), a_tgt).sum().backward()
    assert a_tgt.grad is not None and a_tgt.grad.abs().sum() > 0


def test_msp_shapes_range_and_exact_edit():
    torch.manual_seed(0)
    m = MSPManipulator(1, 28, latent_dim=16, width=8).eval()
    x = _digits_like()
    h = m.encode(x)
    assert h.shape == (4, 16)
    tgt = torch.tensor([0.0, 0.3, 0.6, 1.0])
    torch.testing.assert_close(m.attributes_of(m.edit_latent(h, tgt))[:, 0], tgt, atol=1e-5, rtol=0)
    out = m.edit(x, None, tgt)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    # editing to the attribute the latent already reads is exactly a reconstruction
    torch.testing.assert_close(m.edit(x, None, m.read_attribute(x)), m.reconstruct(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("channels,size", [(3, 32), (3, 64)])
def test_msp_rgb_sizes(channels, size):
    m = MSPManipulator(channels, size, latent_dim=8, width=8).eval()
    assert m.reconstruct(torch.rand(2, channels, size, size)).shape == (2, channels, size, size)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    m = MSPManipulator(1, 28, latent_dim=16, width=8).eval()
    save_manipulator(tmp_path / "m.pt", m, {"dataset": "x"})
    save_manipulator(tmp_path / "o.pt", RotationOracle((-20, 20)))
    m2, o2 = load_manipulator(tmp_path / "m.pt"), load_manipulator(tmp_path / "o.pt")
    x, a = _digits_like(), torch.tensor([0.1, 0.2, 0.9, 0.5])
    torch.testing.assert_close(m2.edit(x, a, a), m.edit(x, a, a))
    assert isinstance(o2, RotationOracle) and o2.angle_range == (-20.0, 20.0)
    assert m2.meta == {"dataset": "x"} and not m2.training
