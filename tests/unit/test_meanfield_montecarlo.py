"""Finite-width Monte Carlo against the mean-field theory, and gradient statistics by backprop."""

import math

import pytest
import torch

from reproflow.meanfield import gradients as G
from reproflow.meanfield import montecarlo as MC
from reproflow.meanfield import theory as T

torch.set_num_threads(1)


@pytest.mark.parametrize(
    "act,sw2,sb2,rho",
    [("tanh", 6.25, 0.25, 0.7), ("relu", 0.81, 0.25, 0.7), ("erf", 2.0, 0.05, 0.9), ("hardtanh", 1.5, 0.05, 1.0)],
)
def test_forward_monte_carlo_within_4_se_of_theory(act, sw2, sb2, rho):
    gen = torch.Generator().manual_seed(3)
    x, pairs = MC.make_inputs(1000, (0.5, 3.0), (0.4,), gen)
    depth = 8
    s = MC.simulate_forward(act, sw2, sb2, rho, x, pairs, depth, draws=24, generator=gen)
    q0 = (x.double() ** 2).mean(1)
    q1 = sw2 * q0 + sb2
    qa = q1[pairs[:, 0]]
    q12 = sw2 * (x[pairs[:, 0]].double() * x[pairs[:, 1]].double()).mean(1) + sb2
    q_th, _ = T.iterate_maps(act, q1, q1, sw2, sb2, rho, depth)
    _, c_th = T.iterate_maps(act, qa, q12, sw2, sb2, rho, depth)
    for meas, th in ((s.q, q_th), (s.c, c_th)):
        mean, se = MC.mean_se(meas)
        z = ((mean - th) / se).abs()
        assert z.max() < 4.0, (act, z.max(), mean, th)


def test_linear_no_gia_closed_forms_match_backprop():
    sw2, sb2, rho, depth = 0.9, 0.05, 0.95, 12
    gen = torch.Generator().manual_seed(1)
    s = G.measure_gradients("linear", sw2, sb2, rho, width=600, depth=depth, draws=48, inputs="fixed_point",
                            generator=gen, draws_per_batch=8, dtype=torch.float64)
    var, cov = G.input_moments("linear", sw2, sb2, rho, "fixed_point")
    g_aa, g_ab = G.linear_no_gia(sw2, sb2, rho, depth, var, cov)
    for meas, th in ((s.g_aa, g_aa), (s.g_ab, g_ab)):
        mean, se = MC.mean_se(meas)
        # 4 standard errors plus a 3% allowance for O(1/N) finite-width bias
        assert ((mean - th).abs() <= 4 * se + 0.03 * th.abs()).all(), (mean, th, se)
    # the GIA prediction 4 q*^2/rho chi_1^k differs from the exact single-input form at depth
    qs = sb2 / (1 - sw2 / rho)
    k = torch.arange(depth - 1, -1, -1, dtype=torch.float64)
    gia = 4 * qs**2 / rho * (sw2 / rho) ** k
    assert (g_aa[1:-1] > 1.2 * gia[1:-1]).all()


def test_gradient_factorisation_equals_explicit_outer_products():
    gen = torch.Generator().manual_seed(0)
    s = G.measure_gradients("tanh", 1.5, 0.05, 0.9, width=16, depth=3, draws=1, inputs="standard",
                            generator=gen, dtype=torch.float64)
    # rebuild the same network and compare with explicit dL/dW matrices
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(1, 2, 16, generator=gen, dtype=torch.float64)
    x = z[0].clone()
    ws = []
    y = x.unsqueeze(0)
    for layer in range(3):
        w = (torch.randn(1, 16, 16, generator=gen, dtype=torch.float64) * math.sqrt(1.5 / 16)).requires_grad_()
        b = torch.randn(1, 1, 16, generator=gen, dtype=torch.float64) * math.sqrt(0.05)
        ws.append(w)
        h = torch.bmm(y, w.transpose(1, 2)) + b
        if layer < 2:
            m = (torch.rand(h.shape, generator=gen, dtype=torch.float64) < 0.9).double()
            y = torch.tanh(h) * m / 0.9
    grads_a = torch.autograd.grad((torch.tanh(h[:, 0]) ** 2).sum(), ws, retain_graph=True)
    grads_b = torch.autograd.grad((torch.tanh(h[:, 1]) ** 2).sum(), ws)
    for layer in range(3):
        ga, gb = grads_a[layer][0], grads_b[layer][0]
        assert math.isclose(float((ga * ga).mean()), float(s.g_aa[0, layer]), rel_tol=1e-10)
        assert math.isclose(float((ga * gb).mean()), float(s.g_ab[0, layer]), rel_tol=1e-10)
        assert math.isclose(float((ga * gb).abs().mean()), float(s.tg_ab[0, layer]), rel_tol=1e-10)


def test_one_step_maps_follow_the_length_and_correlation_maps():
    # the paper's Fig. 1 form: one layer of the q-map and the c-map at width 500, 100 inputs per point
    act, sw2, sb2, rho = "tanh", 6.25, 0.25, 0.7
    gen = torch.Generator().manual_seed(2)
    qg = torch.tensor([0.5, 4.0, 12.0], dtype=torch.float64)
    cg = torch.tensor([0.0, 0.5, 0.9], dtype=torch.float64)
    qs = float(T.fixed_points(act, sw2, sb2, torch.tensor([rho], dtype=torch.float64)).q_star[0])
    q_out, c_out = MC.one_step_maps(act, sw2, sb2, rho, qg, cg, qs, 500, 100, gen)
    q_th = T.length_map(act, qg, sw2, sb2, rho)
    c_th = T.correlation_map(act, cg, torch.tensor(qs, dtype=torch.float64), sw2, sb2, rho)
    # one weight draw per point: 3 % of the value (q) / 0.03 absolute (c) for that draw's O(1/sqrt(N)) spread
    assert torch.allclose(q_out.mean(1), q_th, rtol=0.03), (q_out.mean(1), q_th)
    assert torch.allclose(c_out.mean(1), c_th, atol=0.03), (c_out.mean(1), c_th)
