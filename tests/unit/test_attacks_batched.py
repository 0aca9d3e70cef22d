"""Batched inner searches give what the one-at-a-time searches give (issue 24): SPA's restarts as rows of one batch,
the attribute grid scanned as one batch. float64 so that the two orders of summation agree to round-off."""

from __future__ import annotations

import pytest
import torch

from reproflow.attacks.attribute import AttributeGrid, scan_grid, shared_scans
from reproflow.attacks.base import WorstCase
from reproflow.attacks.registry import AttackName, build_attack
from reproflow.models import NoiseGenerator, RotationOracle, build_classifier
from tests.unit.attack_settings import attack_kw

torch.set_num_threads(1)
N = 16


def _setup():
    torch.manual_seed(3)
    clf = build_classifier("smallcnn", 1, 10, 16).double().eval()
    gen = NoiseGenerator(1, z_dim=8, width=8).double().eval()
    for m in (clf, gen):
        for p in m.parameters():
            p.requires_grad_(False)
    g = torch.Generator().manual_seed(4)
    x = torch.rand(N, 1, 16, 16, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = clf(x).argmax(1)
    y[:2] = (y[:2] + 1) % 10  # two samples wrong from the start
    return clf, gen, RotationOracle((-40.0, 40.0)), x, y, torch.rand(N, generator=g, dtype=torch.float64)


def _same(r1, r2) -> None:
    assert torch.allclose(r1.x_adv, r2.x_adv, atol=1e-9)
    assert torch.allclose(r1.x_sem, r2.x_sem, atol=1e-9)
    assert torch.allclose(r1.attr, r2.attr, atol=1e-9)


@pytest.mark.parametrize("early_stop", [True, False])
@pytest.mark.parametrize("grid_size", [0, 5])
def test_spa_restarts_batched_equal_one_after_another(early_stop: bool, grid_size: int) -> None:
    clf, gen, am, x, y, a = _setup()
    kw = {"steps": 4, "restarts": 3, "gen_steps": 2, "early_stop": early_stop, "grid_size": grid_size, "seed": 5}
    fooled = []
    results = []
    for per in (1, 2 * N, 10 * N):  # one restart at a time, two, all three
        atk = build_attack(AttackName.SPA, clf, 0.05, manipulator=am, generator=gen, **attack_kw("spa", **kw))
        atk.pass_images = per
        res = atk.attack(x, y, a)
        results.append(res)
        with torch.no_grad():
            fooled.append(clf(res.x_adv).argmax(1) != y)
    for r in results[1:]:
        _same(results[0], r)
    # the comparison is informative: some samples are fooled, some are not
    assert 0 < int(fooled[0].sum()) < N


def test_grid_scan_batched_equals_value_by_value() -> None:
    clf, _, am, x, y, a = _setup()
    atk = AttributeGrid(clf, 0.0, am, grid_size=9)
    cases = []
    for per in (1, 4 * N, 10 * N):  # one grid value at a time, four, all nine
        atk.pass_images = per
        c = WorstCase(x, with_attr=True)
        scan_grid(atk, x, y, a, 9, c)
        cases.append(c)
    for c in cases[1:]:
        _same(cases[0].result(), c.result())
        assert torch.equal(cases[0].fooled, c.fooled)


def test_grid_pgd_batched_equals_value_by_value() -> None:
    clf, _, am, x, y, a = _setup()
    results = []
    for per in (1, 3 * N, 10 * N):  # one grid value at a time, three, all five
        atk = build_attack(AttackName.GRID_PGD, clf, 0.05, manipulator=am, grid_size=5, steps=3, step_factor=2.5,
                           restarts=1, seed=2)
        atk.pass_images = per
        results.append(atk.attack(x, y, a))
    for r in results[1:]:
        _same(results[0], r)


def test_shared_scans_reuse_the_first_scan_and_change_nothing() -> None:
    """Within shared_scans() the attacks of one classifier scan the grid once (counted editor calls) and return what
    they return without it, bit for bit; a scan of other images is computed afresh."""
    clf, gen, am, x, y, a = _setup()
    calls = []
    edit = am.edit
    am.edit = lambda *args: calls.append(1) or edit(*args)  # type: ignore[method-assign]
    names = (AttackName.ATTRIBUTE, AttackName.SPA, AttackName.JOINT_PGD, AttackName.JOINT_APGD)
    kws = {AttackName.ATTRIBUTE: {"grid_size": 9}, AttackName.SPA: {"grid_size": 9, "steps": 2, "restarts": 1, "gen_steps": 2},
           AttackName.JOINT_PGD: {"grid_size": 9, "steps": 2}, AttackName.JOINT_APGD: {"grid_size": 9, "steps": 3}}

    def run_all():
        calls.clear()
        out = [build_attack(n, clf, 0.05, manipulator=am, generator=gen if n is AttackName.SPA else None, seed=1,
                            **attack_kw(n, **kws[n])).attack(x, y, a) for n in names]
        return out, len(calls)

    alone, n_alone = run_all()
    with shared_scans():
        shared, n_shared = run_all()
        other = build_attack(AttackName.ATTRIBUTE, clf, 0.0, manipulator=am, grid_size=9).attack(x[:5], y[:5], a[:5])
    for r1, r2 in zip(alone, shared):
        assert torch.equal(r1.x_adv, r2.x_adv) and torch.equal(r1.x_sem, r2.x_sem) and torch.equal(r1.attr, r2.attr)
    assert n_alone - n_shared == 3  # three of the four scans (one editor pass each: 9 x 16 images fit one pass)
    assert torch.equal(other.x_adv, alone[0].x_adv[:5])
