"""Mean-field theory: closed forms, the paper's Fig. 1 caption values, fixed points, criticality."""

import math

import pytest
import torch

from reproflow.meanfield import theory as T

torch.set_num_threads(1)
D = torch.float64


def t(*v):
    return torch.tensor(v, dtype=D)


@pytest.mark.parametrize("c", [-0.5, 0.0, 0.3, 0.6, 0.9, 0.99, 0.9999, 1.0])
def test_quadrature_matches_relu_and_erf_closed_forms(c):
    q = t(0.05, 0.3, 1.0, 2.0, 5.0, 12.0)
    cc = torch.full_like(q, c)
    assert torch.allclose(T.e_phiphi("relu", q, cc), T.relu_phiphi_closed(q, cc), rtol=0, atol=1e-8)
    assert torch.allclose(T.e_dphidphi("relu", q, cc), T.relu_dphidphi_closed(cc), rtol=0, atol=1e-8)
    assert torch.allclose(T.e_phiphi("erf", q, cc), T.erf_phiphi_closed(q, cc), rtol=0, atol=1e-8)
    assert torch.allclose(T.e_dphidphi("erf", q, cc), T.erf_dphidphi_closed(q, cc), rtol=0, atol=1e-8)


def test_one_dimensional_expectations_closed_forms():
    q = t(0.1, 1.0, 7.0)
    assert torch.allclose(T.e_phi2("relu", q), q / 2, atol=1e-12)
    assert torch.allclose(T.e_dphi2("relu", q), torch.full_like(q, 0.5), atol=1e-12)
    assert torch.allclose(T.e_phi2("linear", q), q, atol=1e-12)
    # d/dq E[phi^2] for erf: (2/pi) d/dq arcsin(k q / (1 + k q)), k = pi/2
    k = math.pi / 2
    expect = (2 / math.pi) * k / ((1 + k * q) ** 2 * torch.sqrt(1 - (k * q / (1 + k * q)) ** 2))
    assert torch.allclose(T.e_dlength("erf", q), expect, atol=1e-8)
    # hard-tanh: d/dq E[clip(u)^2] = P(|u| < 1) / 1 ... = E[phi'^2] + E[phi phi''] = P(|u|<1) - 2 p_q(1)
    p1 = torch.exp(-0.5 / q) / torch.sqrt(2 * math.pi * q)
    expect_ht = (torch.special.ndtr(1 / q.sqrt()) - torch.special.ndtr(-1 / q.sqrt())) - 2 * p1
    assert torch.allclose(T.e_dlength("hardtanh", q), expect_ht, atol=1e-8)


def test_tanh_mehler_matches_panel_quadrature_at_c_one():
    q = t(0.2, 2.0, 6.0)
    assert torch.allclose(T.e_phiphi("tanh", q, torch.ones_like(q)), T.e_phi2("tanh", q), atol=1e-9)


def test_linear_q_star_closed_form():
    sw2, sb2, rho = t(0.2, 0.5, 0.9), 0.3, t(1.0, 0.7, 0.95)
    fp = T.fixed_points("linear", sw2, sb2, rho)
    assert torch.allclose(fp.q_star, sb2 / (1 - sw2 / rho), rtol=1e-12)
    assert torch.isinf(T.q_star("linear", 1.5, 0.1, 0.9)).all()


# Fig. 1 caption values (sigma's are standard deviations there; the code takes variances)
@pytest.mark.parametrize(
    "act,sw,sb,rho,key,expected,tol",
    [
        ("linear", 0.5, 1.5, (1.0, 0.7, 0.4), "q_star", (3.0, 3.5, 6.0), 1e-9),
        ("tanh", 2.5, 0.5, (1.0, 0.7, 0.4), "q_star", (4.286, 6.550, 12.450), 2e-3),
        ("relu", 0.9, 0.5, (1.0, 0.7), "c_star", (1.0, 0.736), 1e-3),
        ("erf", 0.9, 0.5, (1.0, 0.7, 0.4), "c_star", (1.0, 0.671, 0.306), 1e-3),
    ],
)
def test_fig1_caption_values(act, sw, sb, rho, key, expected, tol):
    fp = T.fixed_points(act, sw**2, sb**2, t(*rho))
    got = getattr(fp, key)
    assert torch.allclose(got, t(*expected), rtol=0, atol=tol), got


def test_relu_q_diverges_at_rho_04():
    fp = T.fixed_points("relu", 0.81, 0.25, t(0.4))
    assert torch.isinf(fp.q_star).all() and (fp.c_star < 1).all()


@pytest.mark.parametrize("act", T.ACTIVATIONS)
def test_c_star_is_a_fixed_point_below_one_when_dropout(act):
    sw2 = torch.linspace(1.0, 4.0, 13, dtype=D)
    rho = t(0.99, 0.9, 0.6)
    S, R = torch.meshgrid(sw2, rho, indexing="ij")
    fp = T.fixed_points(act, S.flatten(), 0.05, R.flatten())
    F = T.correlation_map(act, fp.c_star, fp.q_star, S.flatten(), 0.05, R.flatten())
    assert torch.allclose(F, fp.c_star, atol=1e-9)
    assert (fp.c_star < 1).all() and (fp.c_star >= 0).all()


def test_rho_one_ordered_and_chaotic_phases():
    sw2 = t(1.2, 1.7, 2.0, 3.5)
    fp = T.fixed_points("tanh", sw2, 0.05, 1.0)
    assert torch.equal(fp.c_star[:2], t(1.0, 1.0))  # ordered: chi_1 < 1
    assert (fp.chi_1[:2] < 1).all() and (fp.chi_1[2:] > 1).all()
    assert (fp.c_star[2:] < 1).all()
    F = T.correlation_map("tanh", fp.c_star, fp.q_star, sw2, 0.05, 1.0)
    assert torch.allclose(F, fp.c_star, atol=1e-9)
    # chi_c is the slope of the c-map at c*
    eps = 1e-6
    c = fp.c_star[2:]
    slope = (T.correlation_map("tanh", c + eps, fp.q_star[2:], sw2[2:], 0.05, 1.0)
             - T.correlation_map("tanh", c - eps, fp.q_star[2:], sw2[2:], 0.05, 1.0)) / (2 * eps)
    assert torch.allclose(slope, fp.chi_c[2:], rtol=1e-5)


def test_chi_q_is_the_slope_of_the_length_map():
    for act in ("tanh", "hardtanh", "erf", "relu"):
        fp = T.fixed_points(act, t(1.5), 0.05, t(0.9))
        q, eps = fp.q_star, 1e-5
        slope = (T.length_map(act, q + eps, 1.5, 0.05, 0.9) - T.length_map(act, q - eps, 1.5, 0.05, 0.9)) / (2 * eps)
        assert torch.allclose(slope, fp.chi_q, rtol=1e-5), act


def test_tanh_order_to_chaos_point():
    sw2c = T.critical_sw2("tanh", 0.05, t(1.0), 0.5, 10.0)
    assert abs(float(sw2c[0]) - 1.761) < 1e-3


def test_depth_scale_conventions():
    xi = T.depth_scale(t(0.5, 1.0, 2.0))
    assert math.isclose(float(xi[0]), 1 / math.log(2)) and math.isinf(float(xi[1]))
    assert math.isclose(float(xi[2]), 1 / math.log(2))


def test_bracket_root_vectorised():
    target = t(0.1, 0.5, 2.0)
    r = T.bracket_root(lambda x, i: x**3 - target[i], t(0, 0, 0), t(3, 3, 3), -target, 27 - target)
    assert torch.allclose(r, target ** (1 / 3), atol=1e-12)


def test_sw2_grids_contain_the_depth_sweep_points():
    from reproflow.meanfield.tables import sw2_grid

    paper, quick = sw2_grid(1.0, 4.0, 0.01), sw2_grid(1.0, 4.0, 0.05)
    assert len(paper) == 301 and 1.76 in paper
    assert all(round(1.0 + 0.1 * i, 10) in paper for i in range(31))
    assert all(round(1.0 + 0.5 * i, 10) in quick for i in range(7))
