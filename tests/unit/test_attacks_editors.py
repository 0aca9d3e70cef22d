"""Issue #11: the learned-editor path through the semantic attacks, the reconstruction + PGD control,
the learned editor's semantic gate and how T1 uses it, and attack strength on a small *trained*
model (SPA vs its own start and the generator attack; the project's PGD vs the library's APGD-CE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from reproflow.attacks.claims import claim_t1, editor_gates, headline
from reproflow.attacks.gate import combine_gate, judge_editor_outcomes, noninferiority
from reproflow.attacks.labels import LINF_TOL
from reproflow.attacks.outcomes import Outcomes, gate_view_label, judge_label
from reproflow.attacks.registry import AttackName
from reproflow.models import MSPManipulator, NoiseGenerator, RotationOracle, build_classifier
from tests.unit.attack_settings import build_with_params

torch.set_num_threads(1)

SEMANTIC = {
    AttackName.ATTRIBUTE: {"grid_size": 5},
    AttackName.GENERATOR: {"gen_steps": 3},
    AttackName.SPA: {"steps": 4, "restarts": 1, "gen_steps": 3, "early_stop": False},
    AttackName.JOINT_PGD: {"steps": 4, "restarts": 1, "early_stop": False},
    AttackName.RECON_PGD: {"steps": 4, "restarts": 1},
    AttackName.JOINT_APGD: {"steps": 5, "restarts": 1},
}


def _msp_parts():
    torch.manual_seed(0)
    clf = build_classifier("smallcnn", 1, 10, 16).eval()
    msp = MSPManipulator(1, 16, latent_dim=16, width=8).eval()
    gen = NoiseGenerator(1, z_dim=8, width=8).eval()
    for m in (clf, msp, gen):
        for p in m.parameters():
            p.requires_grad_(False)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(6, 1, 16, 16, generator=g)
    with torch.no_grad():
        y = clf(x).argmax(1)
    return clf, msp, gen, x, y, torch.rand(6, generator=g)


@pytest.mark.parametrize("name", list(SEMANTIC), ids=lambda n: n.value)
def test_learned_editor_path(name: AttackName) -> None:
    """Through the MSP editor every semantic attack keeps the threat model (eps ball around its own
    x_sem = AM(x, a, a'), images and attribute in range) and raises the loss; SPA and joint-PGD move the
    attribute through the editor's gradient; the control's x_sem is the editor's plain reconstruction."""
    clf, msp, gen, x, y, a = _msp_parts()
    kw = {"generator": gen} if name in (AttackName.GENERATOR, AttackName.SPA) else {}
    res = build_with_params(name, clf, 0.1, manipulator=msp, seed=0, **kw, **SEMANTIC[name]).attack(x, y, a)
    assert (res.x_adv - res.x_sem).abs().max() <= 0.1 + LINF_TOL
    assert res.x_adv.min() >= 0 and res.x_adv.max() <= 1 and res.attr is not None
    assert res.attr.min() >= 0 and res.attr.max() <= 1
    with torch.no_grad():
        assert F.cross_entropy(clf(res.x_adv), y) > F.cross_entropy(clf(x), y)
        if name is AttackName.RECON_PGD:
            torch.testing.assert_close(res.x_sem, msp.edit(x, a, a).clamp(0, 1))
            torch.testing.assert_close(res.attr, a)
        else:
            # x_sem is the editor's output at the chosen attribute (clean x only where nothing beat it)
            moved = ~torch.isclose(res.x_sem, x).flatten(1).all(1)
            torch.testing.assert_close(res.x_sem[moved], msp.edit(x, a, res.attr).clamp(0, 1)[moved], atol=1e-5,
                                       rtol=0)
    if name in (AttackName.SPA, AttackName.JOINT_PGD, AttackName.JOINT_APGD):
        assert (res.attr - a).abs().max() > 1e-3


def test_learned_generator_attacks_run_with_the_generator_trained_through_the_learned_editor() -> None:
    """evaluate_suite runs the generator attack and SPA of the learned-editor rows with ``learned_generator`` (the
    generator trained through the learned editor, issue #11), never with the primary one; without it they refuse."""
    import dataclasses

    import yaml

    from reproflow.attacks.suite import evaluate_suite
    from reproflow.data.store import Split
    from reproflow.errors import UserError
    from reproflow.settings import load
    from reproflow.settings.sections import Attack, AttackSuite

    clf, msp, gen, x, y, a = _msp_parts()
    torch.manual_seed(3)
    gen_learned = NoiseGenerator(1, z_dim=8, width=8).eval()
    for g in (gen, gen_learned):
        g.meta = {"eps": 0.1, "steps": 2, "step_size": 0.05}
    section = load(Attack, yaml.safe_load(open("params.yaml"))["attack"], "attack")
    suite = AttackSuite(**{f.name: getattr(section, f.name) for f in dataclasses.fields(AttackSuite)})
    settings = dataclasses.replace(suite, spa=dataclasses.replace(section.spa, steps=2, restarts=1),
                                   attribute=dataclasses.replace(section.attribute, grid_size=3))
    split = Split(x, y, a, torch.zeros(len(y)), None, {"num_classes": 10})
    calls = {"primary": 0, "learned": 0}
    gen.register_forward_hook(lambda *_: calls.__setitem__("primary", calls["primary"] + 1))
    gen_learned.register_forward_hook(lambda *_: calls.__setitem__("learned", calls["learned"] + 1))
    kw = dict(attacks=("fgsm",), eps_grid=(0.1,), settings=settings, seed=0, device=torch.device("cpu"),
              manipulator=RotationOracle((-40.0, 40.0)), generator=gen, learned=msp,
              learned_attacks=("generator", "spa"))
    out = evaluate_suite(split, clf, **kw, learned_generator=gen_learned)
    assert {"generator_learned", "spa_learned"} <= {r["attack"] for r in out.rows}
    assert calls["learned"] > 0 and calls["primary"] == 0
    with pytest.raises(UserError, match="trained through that editor"):
        evaluate_suite(split, clf, **kw)


def test_recon_pgd_with_exact_rotation_is_pgd() -> None:
    """With the exact rotation AM(x, a, a) = x, so the control reduces to PGD (same seed, same draws)."""
    clf, _, _, x, y, a = _msp_parts()
    oracle = RotationOracle((-40.0, 40.0))
    r = build_with_params("recon_pgd", clf, 0.1, manipulator=oracle, seed=3, steps=5).attack(x, y, a)
    p = build_with_params("pgd", clf, 0.1, seed=3, steps=5).attack(x, y, a)
    torch.testing.assert_close(r.x_adv, p.x_adv, atol=1e-5, rtol=0)


def _bits(rate: float, n: int) -> np.ndarray:
    return (np.arange(n) < round(rate * n)).astype(float)


def test_noninferiority_rule() -> None:
    """pass: the drop's interval ends at or below delta; fail: it starts above delta; undecided: it straddles delta,
    or there is no interval (one seed)."""
    n, rng = 400, np.random.default_rng(0)

    def drops(rate_ref: float, rate: float, seeds: int = 3) -> np.ndarray:
        # the same images are hard in every seed, plus a little per-seed noise in which ones
        return np.stack([_bits(rate_ref, n) - np.where(rng.random(n) < 0.01, 1 - _bits(rate, n), _bits(rate, n))
                         for _ in range(seeds)])

    assert noninferiority(drops(0.90, 0.895), 0.05, 0.95)[1] == "pass"
    assert noninferiority(drops(0.95, 0.80), 0.05, 0.95)[1] == "fail"
    iv, v = noninferiority(drops(0.90, 0.85), 0.05, 0.95)
    assert v == "undecided" and iv.low <= 0.05 <= iv.high
    assert noninferiority(drops(0.90, 0.895, seeds=1), 0.05, 0.95)[1] == "undecided"
    with pytest.raises(ValueError):
        noninferiority(drops(0.9, 0.9), -0.1, 0.95)
    assert combine_gate(["pass", "pass"]) == "pass" and combine_gate(["pass", "undecided"]) == "undecided"
    assert combine_gate(["undecided", "fail"]) == "fail" and combine_gate([]) == "undecided"


def test_judge_editor_outcomes_exact_editor_keeps_reconstruction() -> None:
    """The exact rotation's 'reconstruction' is the image itself: no reconstruction drop, image by image."""
    clf, msp, _, x, y, a = _msp_parts()
    oracle = RotationOracle((-40.0, 40.0))
    per = judge_editor_outcomes(clf, oracle, x, y, a, seed=0, batch_size=4, device=torch.device("cpu"),
                                reference=oracle)
    assert per["gate_clean_accuracy"].all() and per["gate_recon_accuracy"].all()
    assert (per["gate_edit_accuracy"] == per["gate_reference_edit_accuracy"]).all()
    # batch-invariant, one bit per image; no reference view without an exact editor
    p4 = judge_editor_outcomes(clf, msp, x, y, a, seed=0, batch_size=4, device=torch.device("cpu"))
    p3 = judge_editor_outcomes(clf, msp, x, y, a, seed=0, batch_size=3, device=torch.device("cpu"))
    assert set(p4) == {"gate_clean_accuracy", "gate_recon_accuracy", "gate_edit_accuracy"}
    assert all((p4[k] == p3[k]).all() and p4[k].shape == (len(x),) for k in p4)


def _table(gate_recon: float) -> pd.DataFrame:
    """Three seeds; exact SPA clearly below every baseline; learned SPA below too."""
    rows = []
    acc = {"pgd": 0.50, "attribute": 0.70, "generator": 0.45, "spa": 0.30, "attribute_learned": 0.6,
           "generator_learned": 0.35, "spa_learned": 0.20, "recon_pgd_learned": 0.40}
    for seed, jitter in zip((0, 1, 2), (0.0, 0.01, -0.01)):
        for att, v in acc.items():
            # seed noise that differs between attacks (paired differences need a spread to be decided)
            rows.append(("attack", "digits_rot", "standard", att, 0.05, seed, "accuracy",
                         v + jitter * (2.0 if att.startswith("spa") else 1.0)))
            rows.append(("attack", "digits_rot", "standard", att, 0.05, seed, "clean_accuracy", 0.95))
        rows.append(("attack", "digits_rot", "standard", "none", 0.0, seed, "editor_is_exact", 1.0))
        for m, v in (("gate_clean_accuracy", 0.95), ("gate_recon_accuracy", gate_recon), ("gate_edit_accuracy", 0.88),
                     ("gate_reference_edit_accuracy", 0.90)):
            rows.append(("attack", "digits_rot", "standard", "learned_editor", 0.0, seed, m, v))
    return pd.DataFrame(rows, columns=["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"])


def _gate_outcomes(recon: float, n: int = 400) -> Outcomes:
    """Per-image judge outcomes of the gate's views and of SPA's chosen edits, three seeds, the same hard images."""
    rows = []
    views = {gate_view_label("clean"): (0.95, 0.0), gate_view_label("recon"): (recon, 0.0),
             gate_view_label("edit"): (0.88, 0.0), gate_view_label("reference_edit"): (0.90, 0.0),
             judge_label("spa"): (0.70, 0.05), judge_label("spa_learned"): (0.69, 0.05)}
    for seed in (0, 1, 2):
        for label, (rate, eps) in views.items():
            ok = _bits(rate, n)
            ok[(seed * 7 + np.arange(n)) % 97 == 0] = 1.0  # a few images differ by seed
            rows += [{"phase": "attack", "dataset": "digits_rot", "model": "standard", "attack": label, "eps": eps,
                      "seed": seed, "sample": i, "correct": int(ok[i])} for i in range(n)]
    return Outcomes(pd.DataFrame(rows))


@pytest.mark.parametrize(("recon", "counts"), [(0.945, True), (0.80, False)])
def test_t1_learned_rows_count_only_with_the_gate(recon: float, counts: bool) -> None:
    m = _table(recon)
    gates = editor_gates(_gate_outcomes(recon), 1.0, 0.95, {"digits_rot": 0.05})
    g = gates.iloc[0]
    assert g.delta == pytest.approx(1.0 * (1 - g.clean)) and g.n_images == 400 and g.n_seeds == 3
    assert g.edit_verdict == "pass" and g.attack_verdict == "pass"  # 2 and 1 points against a 4.6-point margin
    assert g.recon_verdict == ("pass" if counts else "fail") and g.verdict == ("pass" if counts else "fail")
    assert bool(g.passed) is counts
    # the same editor against a tighter margin (a quarter of the judge's error): no longer shown non-inferior
    assert editor_gates(_gate_outcomes(recon), 0.25, 0.95, {"digits_rot": 0.05}).iloc[0].verdict != "pass"
    t1 = claim_t1(m, ("pgd", "attribute", "generator", "recon_pgd"), 0.95, gates)
    exact = t1[t1.editor == "exact"].iloc[0]
    learned = t1[t1.editor == "learned"].iloc[0]
    assert exact.best_baseline == "generator" and exact.verdict == "holds" and bool(exact.counts)
    # the learned row compares with the learned editor's semantic baselines and the reconstruction control
    assert learned.best_baseline == "generator_learned" and learned.recon_pgd_accuracy == pytest.approx(0.40)
    assert bool(learned.counts) is counts and learned.gate == ("pass" if counts else "fail")
    h = headline(t1, {"digits_rot": 0.05}, ("pgd",), 0.95)
    assert h["counts"]["holds"] == (2 if counts else 1)


# ---- a small trained model (scikit-learn's 8x8 digits, padded to 16x16) ----

@pytest.fixture(scope="module")
def trained():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = F.pad(torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1), (4, 4, 4, 4))
    y = torch.from_numpy(d.target.astype(np.int64))
    torch.manual_seed(0)
    clf = build_classifier("smallcnn", 1, 10, 16)
    opt = torch.optim.Adam(clf.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(250):
        idx = torch.randint(0, 1500, (64,), generator=g)
        loss = F.cross_entropy(clf(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    clf.eval()
    for p in clf.parameters():
        p.requires_grad_(False)
    xt, yt = x[1500:1628], y[1500:1628]
    with torch.no_grad():
        assert float((clf(xt).argmax(1) == yt).float().mean()) > 0.85
    return clf, xt, yt, torch.rand(len(yt), generator=torch.Generator().manual_seed(2))


def _acc_loss(clf, x, y):
    with torch.no_grad():
        logits = clf(x)
        return float((logits.argmax(1) == y).float().mean()), F.cross_entropy(logits, y, reduction="none")


def test_spa_stronger_than_its_start_and_the_generator_attack(trained) -> None:
    """On a trained model SPA's search over (a', z) improves on its own start point (the sample's
    attribute and the first z of each restart, i.e. SPA with a zero learning rate) and is at least as
    strong as the generator attack's random (a', z) through the same editor and generator. Two restarts
    (the quick and paper settings): with one restart from the sample's own attribute, 10 Adam steps on the
    attribute logit stay local and lose to a random rotation (measured: 0.74 vs 0.52 accuracy here)."""
    clf, x, y, a = trained
    am, eps = RotationOracle((-40.0, 40.0)), 0.05
    torch.manual_seed(5)
    gen = NoiseGenerator(1, z_dim=8, width=8).eval()
    kw = {"gen_steps": 3, "gen_step_factor": 0.5, "seed": 0}
    spa = build_with_params("spa", clf, eps, manipulator=am, generator=gen, steps=10, restarts=2, lr=0.1,
                       early_stop=False, **kw).attack(x, y, a)
    start = build_with_params("spa", clf, eps, manipulator=am, generator=gen, steps=1, restarts=2, lr=1e-12,
                         attr_lr=1e-12, early_stop=False, **kw).attack(x, y, a)
    genatk = build_with_params("generator", clf, eps, manipulator=am, generator=gen, **kw).attack(x, y, a)
    acc_spa, loss_spa = _acc_loss(clf, spa.x_adv, y)
    acc_start, loss_start = _acc_loss(clf, start.x_adv, y)
    acc_gen, _ = _acc_loss(clf, genatk.x_adv, y)
    assert bool((loss_spa >= loss_start - 1e-5).all())
    assert float(loss_spa.mean()) > float(loss_start.mean()) + 0.05
    assert acc_spa <= acc_start - 0.02
    assert acc_spa <= acc_gen


def test_spa_grid_start_at_least_as_strong_as_the_attribute_attack(trained) -> None:
    """SPA's grid start (issue #11): with the attribute attack's grid, SPA fools every sample the attribute-only
    attack fools (its grid images are SPA candidates), so its accuracy is at most the attribute attack's; it is
    at most its own start (zero learning rate: the grid scan and each restart's first point) and keeps at
    least the start's loss per sample. Here (the generator untrained, so the attribute carries the attack) the
    grid start also beats SPA from the own and a uniform attribute (measured: 0.148 against 0.359)."""
    clf, x, y, a = trained
    am, eps = RotationOracle((-40.0, 40.0)), 0.01
    torch.manual_seed(5)
    gen = NoiseGenerator(1, z_dim=8, width=8).eval()
    kw = {"gen_steps": 3, "gen_step_factor": 0.5, "seed": 0, "restarts": 2}

    def spa(**over):
        return build_with_params("spa", clf, eps, manipulator=am, generator=gen, **{"steps": 10, "lr": 0.1, **kw, **over}
                            ).attack(x, y, a)

    attribute = build_with_params("attribute", clf, eps, manipulator=am, grid_size=17).attack(x, y, a)
    evaluated = spa(grid_size=17)  # the evaluation setting: early stopping
    with torch.no_grad():
        fooled_attr = clf(attribute.x_adv).argmax(1) != y
        fooled_spa = clf(evaluated.x_adv).argmax(1) != y
    assert bool((fooled_spa | ~fooled_attr).all())
    acc_attr = 1 - float(fooled_attr.float().mean())
    acc_spa = 1 - float(fooled_spa.float().mean())
    assert acc_spa <= acc_attr
    acc_full, loss_full = _acc_loss(clf, spa(grid_size=17, early_stop=False).x_adv, y)
    acc_start, loss_start = _acc_loss(clf, spa(grid_size=17, early_stop=False, steps=1, lr=1e-12, attr_lr=1e-12).x_adv, y)
    assert acc_spa <= acc_start and acc_full <= acc_start and bool((loss_full >= loss_start - 1e-5).all())
    acc_no_grid, _ = _acc_loss(clf, spa(grid_size=0).x_adv, y)
    assert acc_spa < acc_no_grid


def test_project_pgd_agrees_with_library_apgd_ce(trained) -> None:
    """The project's PGD-20 (2 restarts) against pyautoattack's APGD-CE (called directly) on a trained model:
    robust accuracies within 4 points on 128 digits, and both far below clean accuracy."""
    from pyautoattack import AutoAttack as LibraryAutoAttack

    clf, x, y, _ = trained
    eps = 0.1
    pgd = build_with_params("pgd", clf, eps, steps=20, restarts=2, seed=0).attack(x, y)
    aa = LibraryAutoAttack(clf, norm="Linf", eps=eps, version="custom", attacks=["apgd-ce"], seed=0, device="cpu")
    import logging

    logging.getLogger("auto-attack").setLevel(logging.ERROR)
    x_lib, _ = aa.run_standard_evaluation(x, y, batch_size=128)
    assert float((x_lib - x).abs().max()) <= eps + 1e-5
    clean, _ = _acc_loss(clf, x, y)
    acc_pgd, _ = _acc_loss(clf, pgd.x_adv, y)
    acc_lib, _ = _acc_loss(clf, x_lib, y)
    assert acc_pgd < clean - 0.2 and acc_lib < clean - 0.2
    assert abs(acc_pgd - acc_lib) <= 0.04


def test_identical_attack_rows_drawn_once_and_histogram_shows_what_moved() -> None:
    from reproflow.plots.attack import accuracy_vs_eps, attribute_histogram, merge_identical

    rows = []
    for seed in (0, 1):
        for eps in (0.01, 0.03):
            for att, v in (("pgd", 0.8 - eps), ("autoattack", 0.7 - eps), ("apgd_ce", 0.7 - eps), ("spa", 0.5 + seed / 10)):
                rows.append(("attack", "digits_rot", "standard", att, eps, seed, "accuracy", v))
    m = pd.DataFrame(rows, columns=["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"])
    assert set(merge_identical(m).attack) == {"pgd", "apgd_ce = autoattack", "spa"}
    fig = accuracy_vs_eps(m)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "apgd_ce = autoattack" in labels and "autoattack" not in labels
    # one run differing at a single (eps, seed) stays two lines
    m2 = m.copy()
    m2.loc[(m2.attack == "apgd_ce") & (m2.eps == 0.03) & (m2.seed == 1), "value"] = 0.1
    assert {"apgd_ce", "autoattack"} <= set(merge_identical(m2).attack)

    own = np.linspace(0.1, 0.9, 10)
    attrs = pd.DataFrame({"phase": "attack", "dataset": "digits_rot", "model": "standard", "eps": 0.03, "seed": 0,
                          "sample": np.tile(np.arange(10), 2), "attack": ["spa"] * 10 + ["attribute"] * 10,
                          "attr": np.r_[own[:5], own[5:] + 0.05, np.zeros(10)], "own": np.r_[own, own]})
    fig = attribute_histogram(attrs, {"digits_rot": 0.03})
    assert len(fig.axes) == 2
    moved = fig.axes[1].get_legend_handles_labels()[1]
    assert "spa: 50% moved > 0.02" in moved and "attribute: 100% moved > 0.02" in moved
    assert any("data's own attribute" in lab for lab in fig.axes[0].get_legend_handles_labels()[1])


def test_joint_apgd_checkpoints_and_strength(trained) -> None:
    """APGD's checkpoints (Croce & Hein 2020: p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 for 100
    iterations) and, on a trained model, joint APGD at least as strong as joint-PGD with the same budget
    of restarts (both through the exact rotation)."""
    from reproflow.attacks.joint_apgd import checkpoints

    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    clf, x, y, a = trained
    am = RotationOracle((-40.0, 40.0))
    jp = build_with_params("joint_pgd", clf, 0.03, manipulator=am, steps=20, restarts=1, seed=0).attack(x, y, a)
    ja = build_with_params("joint_apgd", clf, 0.03, manipulator=am, steps=40, restarts=1, seed=0).attack(x, y, a)
    acc_jp, _ = _acc_loss(clf, jp.x_adv, y)
    acc_ja, _ = _acc_loss(clf, ja.x_adv, y)
    assert (ja.x_adv - ja.x_sem).abs().max() <= 0.03 + LINF_TOL
    assert acc_ja <= acc_jp


def test_grid_pgd_at_least_as_strong_as_pgd_at_every_grid_value(trained) -> None:
    """Grid-PGD (issue 21) runs PGD at every value of the attribute grid with each sample's own key: a sample
    fooled by PGD (same seed and settings) on the edit to any grid value is fooled by grid-PGD, its chosen
    attribute is a grid value, and its accuracy is at most the attribute-only attack's and PGD's on x."""
    clf, x, y, a = trained
    am, eps, grid = RotationOracle((-40.0, 40.0)), 0.03, 5
    kw = {"steps": 5, "step_factor": 2.5, "restarts": 1, "seed": 3}
    res = build_with_params("grid_pgd", clf, eps, manipulator=am, grid_size=grid, **kw).attack(x, y, a)
    with torch.no_grad():
        fooled = clf(res.x_adv).argmax(1) != y
    for v in torch.linspace(0, 1, grid).tolist():
        with torch.no_grad():
            x_v = am.edit(x, a, torch.full_like(a, v)).clamp(0, 1)
        pgd = build_with_params("pgd", clf, eps, **kw).attack(x_v, y)
        with torch.no_grad():
            fooled_v = clf(pgd.x_adv).argmax(1) != y
        assert bool((fooled | ~fooled_v).all()), f"grid value {v}: PGD fools a sample grid-PGD does not"
    values = torch.linspace(0, 1, grid)
    moved = fooled & (clf(x).argmax(1) == y)
    assert bool(torch.isclose(res.attr[moved, None], values[None, :], atol=1e-6).any(1).all())
    attribute = build_with_params("attribute", clf, eps, manipulator=am, grid_size=grid).attack(x, y, a)
    acc_attr, _ = _acc_loss(clf, attribute.x_adv, y)
    acc_pgd, _ = _acc_loss(clf, build_with_params("pgd", clf, eps, **kw).attack(x, y).x_adv, y)
    assert 1 - float(fooled.float().mean()) <= min(acc_attr, acc_pgd)


@pytest.mark.parametrize("name", ["joint_pgd", "joint_apgd"])
def test_joint_attacks_grid_start_at_least_as_strong_as_the_attribute_attack(trained, name) -> None:
    """With the grid start (issue 21) a joint attack fools every sample the attribute-only attack with the same
    grid fools (its grid images are candidates, and the search starts at the worst of them)."""
    clf, x, y, a = trained
    am, eps = RotationOracle((-40.0, 40.0)), 0.01
    steps = {"joint_pgd": {"steps": 5}, "joint_apgd": {"steps": 6}}[name]
    res = build_with_params(name, clf, eps, manipulator=am, grid_size=17, seed=0, **steps).attack(x, y, a)
    attribute = build_with_params("attribute", clf, eps, manipulator=am, grid_size=17).attack(x, y, a)
    with torch.no_grad():
        fooled = clf(res.x_adv).argmax(1) != y
        fooled_attr = clf(attribute.x_adv).argmax(1) != y
    assert bool((fooled | ~fooled_attr).all())


def test_spa_attribute_moves_off_the_range_edge(trained) -> None:
    """The projected parametrisation (issue 21): from an attribute at the range's edge one Adam step moves a' by
    ``attr_lr`` inward where the loss rises that way; the clamped logit moved it by ~1e-4 (sigmoid' ~ 1e-3), so
    SPA's attribute search froze where most of the grid's worst angles lie."""
    clf, x, y, _ = trained
    am = RotationOracle((-40.0, 40.0))
    torch.manual_seed(5)
    gen = NoiseGenerator(1, z_dim=8, width=8).eval()
    edge = torch.ones(len(y))
    res = build_with_params("spa", clf, 0.01, manipulator=am, generator=gen, steps=1, restarts=1, lr=1e-12, attr_lr=0.1,
                       early_stop=False, gen_steps=2, gen_step_factor=0.5, seed=0).attack(x, y, edge)
    assert res.attr is not None and res.attr.min() >= 0 and res.attr.max() <= 1
    assert int((res.attr < 0.95).sum()) >= 5  # moved inward by attr_lr = 0.1 on samples where that raised the loss
