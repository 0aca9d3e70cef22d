"""Noise generator: the eps-ball and [0, 1] invariants, gradient flow to z, batch = one by one."""

import pytest
import torch

from reproflow.models import NoiseGenerator, build_classifier, generate_noise, load_generator, save_generator
from reproflow.models.generator import generate_noise_copies

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    clf = build_classifier("smallcnn", 1, 10, 28).eval()
    gen = NoiseGenerator(1, z_dim=8, width=8).eval()
    # a third of the pixels saturated at 0 or 1 exercises the [0, 1] clipping
    x = (torch.rand(5, 1, 28, 28) * 1.6 - 0.3).clamp(0, 1)
    y = torch.arange(5)
    z = torch.randn(5, 8)
    return clf, gen, x, y, z


@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_eps_ball_and_range(setup, eps):
    clf, gen, x, y, z = setup
    delta = generate_noise(gen, clf, x, y, z, eps, steps=4, step_size=0.25 * eps)
    assert delta.abs().max() <= eps + 1e-6
    assert (x + delta).min() >= -1e-6 and (x + delta).max() <= 1 + 1e-6
    assert delta.abs().max() > 0


def test_direction_range(setup):
    clf, gen, x, y, z = setup
    out = gen(x, torch.randn_like(x), torch.zeros_like(x), z)
    assert out.shape == x.shape and out.abs().max() < 1


def test_differentiable_wrt_z_only_through_generator(setup):
    clf, gen, x, y, z = setup
    zz = z.clone().requires_grad_(True)
    delta = generate_noise(gen, clf, x, y, zz, 0.3, steps=3, step_size=0.075)
    delta.sum().backward()
    assert zz.grad is not None and zz.grad.abs().sum() > 0
    assert all(p.grad is None for p in clf.parameters())


def test_batch_equals_one_by_one(setup):
    clf, gen, x, y, z = setup
    batch = generate_noise(gen, clf, x, y, z, 0.1, steps=3, step_size=0.025)
    single = torch.cat([generate_noise(gen, clf, x[i : i + 1], y[i : i + 1], z[i : i + 1], 0.1, 3, 0.025) for i in range(5)])
    torch.testing.assert_close(batch, single, atol=1e-5, rtol=0)


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_copies_equal_repeated_batch(setup, eps):
    """Two codes per image (the refit) with the first step's gradient taken once per image: the recursion on the
    repeated batch, with the same gradient flow to z (to round-off: the classifier's kernels may depend on the batch)."""
    clf, gen, x, y, _ = setup
    z = torch.randn(2 * x.shape[0], 8, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    want = generate_noise(gen, clf, x.repeat(2, 1, 1, 1), y.repeat(2), z, eps, steps=3, step_size=0.5 * eps)
    got = generate_noise_copies(gen, clf, x, y, z, eps, steps=3, step_size=0.5 * eps)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    if eps > 0:
        (g_want,) = torch.autograd.grad(want.sum(), z)
        (g_got,) = torch.autograd.grad(got.sum(), z)
        torch.testing.assert_close(g_got, g_want, rtol=1e-5, atol=1e-6)
        assert g_got.abs().max() > 0


def test_save_load_round_trip(tmp_path, setup):
    clf, gen, x, y, z = setup
    save_generator(tmp_path / "g.pt", gen, {"eps": 0.1, "steps": 3, "step_size": 0.025})
    g2 = load_generator(tmp_path / "g.pt")
    assert g2.meta["eps"] == 0.1 and g2.z_dim == 8
    torch.testing.assert_close(generate_noise(g2, clf, x, y, z, 0.1, 3, 0.025), generate_noise(gen, clf, x, y, z, 0.1, 3, 0.025))
