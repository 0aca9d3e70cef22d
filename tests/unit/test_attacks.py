"""Every attack through one parametrised test: the threat-model invariants, determinism,
batch == one by one, robust accuracy <= clean accuracy (small randomly initialised models)."""

from __future__ import annotations

import pytest
import torch

from reproflow.attacks.labels import LINF_TOL
from reproflow.attacks.registry import AttackName, build_attack
from reproflow.attacks.semantic import edge_fraction, ssim
from reproflow.models import NoiseGenerator, RotationOracle, build_classifier
from tests.unit.attack_settings import attack_kw

torch.set_num_threads(1)

EPS = 0.1
N = 6
# Short settings keep the suite fast; the code paths are those of the defaults.
SETTINGS = {
    AttackName.FGSM: {},
    AttackName.PGD: {"steps": 5, "restarts": 2},
    AttackName.AUTOATTACK: {"version": "custom", "sub_attacks": ("apgd-ce",), "apgd_iterations": 10},
    AttackName.ATTRIBUTE: {"grid_size": 5},
    AttackName.GENERATOR: {"gen_steps": 3},
    AttackName.SPA: {"steps": 4, "restarts": 2, "gen_steps": 3},
    AttackName.JOINT_PGD: {"steps": 5, "restarts": 2},
    AttackName.RECON_PGD: {"steps": 5, "restarts": 2},
    AttackName.JOINT_APGD: {"steps": 6, "restarts": 2},
    AttackName.GRID_PGD: {"grid_size": 3, "steps": 3, "step_factor": 2.5, "restarts": 1},
}


def _models(dtype: torch.dtype):
    torch.manual_seed(0)
    clf = build_classifier("smallcnn", 1, 10, 16).to(dtype).eval()
    gen = NoiseGenerator(1, z_dim=8, width=8).to(dtype).eval()
    am = RotationOracle((-40.0, 40.0))
    for m in (clf, gen):
        for p in m.parameters():
            p.requires_grad_(False)
    return clf, am, gen


def _data(clf: torch.nn.Module, dtype: torch.dtype, wrong: int = 0):
    """Images with some saturated pixels; labels = the model's own predictions (clean accuracy 1),
    except the first ``wrong`` samples, which get a wrong label."""
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(N, 1, 16, 16, generator=g) * 1.6 - 0.3).clamp(0, 1).to(dtype)
    with torch.no_grad():
        y = clf(x).argmax(1)
    y[:wrong] = (y[:wrong] + 1) % 10
    a = torch.rand(N, generator=g).to(dtype)
    return x, y, a


def _build(name: AttackName, clf, am, gen, seed: int = 0, **over):
    eps = over.pop("eps", EPS)
    return build_attack(name, clf, eps, manipulator=am, generator=gen, seed=seed, **attack_kw(name, **{**SETTINGS[name], **over}))


def _dtype(name: AttackName) -> torch.dtype:
    # float64 makes batch == one-by-one exact up to round-off (no sign flips of tiny gradients);
    # the AutoAttack library casts inputs to float32.
    return torch.float32 if name is AttackName.AUTOATTACK else torch.float64


def _spy_raw(atk) -> list:
    """Record what the attack's ``_run`` returns (the output before ``Attack.attack``'s clamp), call by call."""
    seen: list = []
    run = atk._run

    def spy(*args):
        out = run(*args)
        seen.append(out)
        return out

    atk._run = spy
    return seen


VARIANTS = [(n, {}) for n in AttackName] + [
    (n, {"early_stop": False}) for n in (AttackName.PGD, AttackName.SPA, AttackName.JOINT_PGD)
] + [(n, {"grid_size": 5}) for n in (AttackName.SPA, AttackName.JOINT_PGD, AttackName.JOINT_APGD)]


@pytest.mark.parametrize(("name", "over"), VARIANTS, ids=lambda v: v.value if isinstance(v, AttackName) else str(v))
def test_attack_invariants(name: AttackName, over: dict) -> None:
    dt = _dtype(name)
    clf, am, gen = _models(dt)
    x, y, a = _data(clf, dt, wrong=2)
    atk = _build(name, clf, am, gen, **over)
    raw = _spy_raw(atk)
    res = atk.attack(x, y, a)

    # the attack's own output, before the base class's final projection (which would make the threat-model
    # checks below hold whatever _run returned): inside the ball and valid images up to round-off, and the final
    # result is that output, round-off removed
    (own,) = raw
    assert (own.x_adv - own.x_sem).abs().max() <= EPS + LINF_TOL
    assert own.x_adv.min() >= -LINF_TOL and own.x_adv.max() <= 1 + LINF_TOL
    assert own.x_sem.min() >= -LINF_TOL and own.x_sem.max() <= 1 + LINF_TOL
    torch.testing.assert_close(res.x_adv, own.x_adv.detach(), atol=LINF_TOL, rtol=0)
    torch.testing.assert_close(res.x_sem, own.x_sem.detach(), atol=LINF_TOL, rtol=0)
    if atk.semantic:
        assert own.attr is not None and own.attr.min() >= -LINF_TOL and own.attr.max() <= 1 + LINF_TOL

    # threat model: l_inf ball around the attack's own semantic starting point, valid images
    assert res.x_adv.shape == x.shape and res.x_sem.shape == x.shape
    assert (res.x_adv - res.x_sem).abs().max() <= EPS + LINF_TOL
    assert res.x_adv.min() >= 0 and res.x_adv.max() <= 1
    assert res.x_sem.min() >= 0 and res.x_sem.max() <= 1
    if atk.semantic:
        assert res.attr is not None and res.attr.shape == (N,)
        assert res.attr.min() >= 0 and res.attr.max() <= 1
    else:
        assert res.attr is None
        torch.testing.assert_close(res.x_sem, x)

    # robust accuracy <= clean accuracy, sample by sample (a wrong sample stays wrong)
    with torch.no_grad():
        clean_ok = clf(x).argmax(1) == y
        adv_ok = clf(res.x_adv).argmax(1) == y
    assert not (adv_ok & ~clean_ok).any()
    assert adv_ok.float().mean() <= clean_ok.float().mean()

    # determinism: the same seed gives the same result
    res2 = _build(name, clf, am, gen, **over).attack(x, y, a)
    torch.testing.assert_close(res2.x_adv, res.x_adv, atol=0, rtol=0)

    # a batch gives the same result as its samples one by one
    if atk.batch_invariant:
        singles = [atk.attack(x[i : i + 1], y[i : i + 1], a[i : i + 1], keys=torch.tensor([i])) for i in range(N)]
        torch.testing.assert_close(torch.cat([s.x_adv for s in singles]), res.x_adv, atol=1e-9, rtol=0)
        torch.testing.assert_close(torch.cat([s.x_sem for s in singles]), res.x_sem, atol=1e-9, rtol=0)
    else:
        assert name is AttackName.AUTOATTACK  # the only library attack with one batch-wide random start


@pytest.mark.parametrize("name", list(AttackName), ids=lambda n: n.value)
def test_attack_hurts_and_zero_eps(name: AttackName) -> None:
    """With eps = 0 a pixel attack is the identity; otherwise every attack lowers the mean margin
    of a random model on its own predictions (it attacks, it does not just pass x through)."""
    dt = _dtype(name)
    clf, am, gen = _models(dt)
    x, y, a = _data(clf, dt)
    with torch.no_grad():
        clean_loss = torch.nn.functional.cross_entropy(clf(x), y)
    res = _build(name, clf, am, gen, eps=0.2).attack(x, y, a)
    with torch.no_grad():
        adv_loss = torch.nn.functional.cross_entropy(clf(res.x_adv), y)
    assert adv_loss > clean_loss
    res0 = _build(name, clf, am, gen, eps=0.0).attack(x, y, a)
    torch.testing.assert_close(res0.x_adv, res0.x_sem, atol=0, rtol=0)
    if res0.attr is None:
        torch.testing.assert_close(res0.x_adv, x, atol=0, rtol=0)


def test_attack_restores_training_mode_and_leaves_parameter_grads() -> None:
    clf, am, gen = _models(torch.float64)
    for p in clf.parameters():
        p.requires_grad_(True)
    clf.train()
    x, y, a = _data(clf.eval(), torch.float64)
    clf.train()
    for name in (AttackName.PGD, AttackName.SPA, AttackName.JOINT_PGD):
        _build(name, clf, am, gen).attack(x, y, a)
        assert clf.training
        assert all(p.grad is None for p in clf.parameters())


def test_pgd_seed_changes_random_start() -> None:
    clf, am, gen = _models(torch.float64)
    x, y, a = _data(clf, torch.float64)
    r0 = _build(AttackName.PGD, clf, am, gen, seed=0, steps=1).attack(x, y, a)
    r1 = _build(AttackName.PGD, clf, am, gen, seed=1, steps=1).attack(x, y, a)
    assert not torch.equal(r0.x_adv, r1.x_adv)


def test_spa_not_weaker_than_its_own_start() -> None:
    """SPA keeps the worst case over its iterates: its loss is at least the generator attack's
    loss at the same starting attribute would be on average, and at least the clean loss."""
    clf, am, gen = _models(torch.float64)
    x, y, a = _data(clf, torch.float64)
    res = _build(AttackName.SPA, clf, am, gen, eps=0.1, steps=6, restarts=1).attack(x, y, a)
    with torch.no_grad():
        loss_clean = torch.nn.functional.cross_entropy(clf(x), y, reduction="none")
        loss_spa = torch.nn.functional.cross_entropy(clf(res.x_adv), y, reduction="none")
    assert (loss_spa >= loss_clean - 1e-9).all()


def test_unknown_attack_and_missing_models() -> None:
    from reproflow.errors import UserError

    clf, am, gen = _models(torch.float32)
    with pytest.raises(UserError, match="unknown attack"):
        build_attack("cw", clf, 0.1)
    with pytest.raises(UserError, match="manipulator"):
        build_attack("spa", clf, 0.1, generator=gen)
    with pytest.raises(UserError, match="generator"):
        build_attack("spa", clf, 0.1, manipulator=am)
    with pytest.raises(ValueError, match="attribute"):
        build_attack("attribute", clf, 0.1, manipulator=am, **attack_kw("attribute")).attack(torch.zeros(2, 1, 16, 16), torch.zeros(2, dtype=torch.long))


def test_ssim_and_edge_fraction() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 2, 12, 12, generator=g)
    torch.testing.assert_close(ssim(x, x), torch.ones(3))
    noisy = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    s = ssim(x, noisy)
    assert (s < 0.99).all() and (s > -1).all()
    # agrees with scikit-image's Gaussian SSIM (same window and constants) to 1e-3
    from skimage.metrics import structural_similarity

    ref = structural_similarity(
        x[0, 0].numpy(), noisy[0, 0].numpy(), data_range=1.0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, win_size=11,
    )
    assert abs(float(ssim(x[:1, :1], noisy[:1, :1])) - ref) < 1e-3
    assert edge_fraction(torch.tensor([0.0, 0.01, 0.5, 0.99, 1.0]), 0.02) == pytest.approx(0.8)


def test_spa_adam_matches_torch_adam() -> None:
    from reproflow.attacks.spa import _Adam

    g = torch.Generator().manual_seed(0)
    p0 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    ref = p0.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=0.1, maximize=True)
    mine = _Adam([p0], lr=[0.1])
    for _ in range(5):
        grad = torch.randn(4, 3, generator=g, dtype=torch.float64)
        ref.grad = grad.clone()
        opt.step()
        mine.ascend((grad,))
    torch.testing.assert_close(mine.params[0], ref.detach())


def test_autoattack_runs_the_configured_apgd_iterations():
    """attack.autoattack.apgd_iterations reaches pyautoattack's APGD: one more iteration is one more forward pass
    (the library's step-size checkpoints come with it), and the protocol's 100 stay 100."""

    class Counting(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.calls = torch.nn.Linear(16, 4), 0

        def forward(self, x):
            self.calls += 1
            return self.net(x.flatten(1))

    torch.manual_seed(0)
    x = torch.rand(N, 1, 4, 4)
    calls = {}
    for iterations in (4, 8, 100):
        clf = Counting()
        torch.manual_seed(1)
        clf.net.reset_parameters()
        y = clf(x).argmax(1)
        clf.calls = 0
        atk = _build(AttackName.AUTOATTACK, clf, None, None, apgd_iterations=iterations)
        atk.attack(x, y)
        calls[iterations] = clf.calls
    assert calls[8] - calls[4] == 4 and calls[100] - calls[4] == 96, calls
    # the step-size checkpoints follow n_iter: a library APGD of 100 iterations set to 10 equals one built with 10
    from pyautoattack.autopgd_base import APGDAttack, APGDAttack_targeted

    from reproflow.attacks.autoattack import set_iterations

    for cls in (APGDAttack, APGDAttack_targeted):
        apgd, ten = cls(clf, n_iter=100, eps=EPS, device="cpu"), cls(clf, n_iter=10, eps=EPS, device="cpu")
        set_iterations(apgd, 10)
        fields = ("n_iter", "n_iter_orig", "n_iter_2", "n_iter_min", "size_decr")
        assert [getattr(apgd, f) for f in fields] == [getattr(ten, f) for f in fields] == [10, 10, 2, 1, 1]
