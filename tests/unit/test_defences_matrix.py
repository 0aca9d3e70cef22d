"""The defence x attack matrix and the T2 verdicts on hand-made tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from reproflow.defences.matrix import (
    check_coverage,
    claim_t2,
    matrix_markdown,
    overall_t2,
    summarise,
    verdict,
)
from reproflow.errors import UserError

DEFENCES = ["standard", "pgd_at", "trades", "attribute_augmentation", "spa_at"]
ATTACKS = ["fgsm", "pgd", "attribute", "spa", "joint_pgd"]
EPS = [0.1, 0.2]
SEEDS = [0, 1, 2]


def _table(acc) -> pd.DataFrame:
    """Tidy rows for every cell; ``acc(defence, attack, eps, seed)`` gives the robust accuracy."""
    rows = []
    for d, a, e, s in itertools.product(DEFENCES, ATTACKS, EPS, SEEDS):
        clean = 0.95 - (0.05 if d != "standard" else 0.0) + 0.001 * ((s * 5 + len(d)) % 3)
        r = acc(d, a, e, s)
        for metric, value in (("accuracy", r), ("success_rate", 1 - r / clean), ("clean_accuracy", clean)):
            rows.append({"phase": "advtrain", "dataset": "digits_rot", "model": d, "attack": a, "eps": e, "seed": s,
                         "metric": metric, "value": value})
    return pd.DataFrame(rows)


def _t2_args(tmp_path, editor: str, baseline: str, curves: str, tolerance: float = 0.04) -> list[str]:
    """tabulate_claim_t2's flags on the small files of a test: params.yaml's advtrain section with the claim, the
    defences' training and the plateau rule (``tolerance``) of the test, the headline eps 0.1 and the primary
    ``editor``."""
    import json
    from pathlib import Path

    from reproflow.config import load_yaml

    params = load_yaml(Path(__file__).resolve().parents[2] / "params.yaml")
    advtrain = {
        **params["advtrain"],
        "t2": {"baselines": ["pgd_at", "trades"], "joint_attacks": ["spa"], "cost_baselines": ["standard"],
               "primary": {"attack": "spa", "baseline": baseline}},
        "training": {"digits_rot": {"epochs": 2, "warmup_epochs": 0, "batch_size": 64, "optimizer": "adam",
                                    "lr": 0.001, "weight_decay": 0.0}},
        "pgd_at": {"steps": 3, "step_factor": 2.5}, "trades": {"beta": 6.0, "steps": 4, "step_factor": 2.5},
        "spa_at": {**params["advtrain"]["spa_at"], "steps": 2, "restarts": 1, "grid_size": 17, "gen_steps": 3},
        "worst_of_k": {"k": 10, "steps": 3, "step_factor": 2.5},
        "plateau": {"val_samples": 500, "grid_size": 5, "steps": 5, "step_factor": 2.5, "restarts": 1, "epochs": 2, "tolerance": tolerance, "coverage": 0.9},
    }
    selection = {f: params["attack"][f] for f in ("attacks", "learned_attacks", "oracle_attacks", "max_samples")}
    return ["--evaluations", str(tmp_path / "evaluations.csv"), "--outcomes", str(tmp_path / "outcomes.csv.gz"),
            "--output", str(tmp_path / "T2.csv"), "--headline", str(tmp_path / "headline.json"),
            "--curves", str(tmp_path / curves), "--plateau-table", str(tmp_path / "plateau.csv"),
            "--advtrain", json.dumps(advtrain), "--eps", json.dumps({"eps_grid": {"digits_rot": [0.05, 0.1, 0.2]}}),
            "--selection", json.dumps({**selection, "editor": editor}),
            "--report", json.dumps({**params["report"], "coverage": 0.95}), "--scale", "tiny"]


def _outcomes(table: pd.DataFrame, n: int = 50) -> pd.DataFrame:
    """Per-image outcomes consistent with a tidy table: of ``n`` images the first round(acc * n) are correct (clean:
    attack none at eps 0, from the pixel attack's clean_accuracy rows)."""
    from reproflow.attacks.outcomes import COLUMNS

    rows = []
    acc = table[table.metric == "accuracy"]
    clean = table[(table.metric == "clean_accuracy") & (table.attack == "pgd")].drop_duplicates(["model", "seed"])
    for r, attack, eps in [(r, r.attack, r.eps) for r in acc.itertuples()] + [(r, "none", 0.0) for r in clean.itertuples()]:
        k = int(round(r.value * n))
        rows += [{"phase": r.phase, "dataset": r.dataset, "model": r.model, "attack": attack, "eps": eps,
                  "seed": r.seed, "sample": i, "correct": int(i < k)} for i in range(n)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _acc_spa_wins(d, a, e, s):
    base = {"standard": 0.1, "pgd_at": 0.4, "trades": 0.42, "attribute_augmentation": 0.3, "spa_at": 0.6}[d]
    if a == "pgd" and d == "spa_at":
        base = 0.3  # SPA-AT pays in pixel robustness
    return base + 0.01 * ((s * 7 + 3 * len(d) + ord(d[0])) % 4)  # small seed noise, different per defence


def test_verdict_rule() -> None:
    assert verdict([0.10, 0.12, 0.11]) == "holds"
    assert verdict([-0.10, -0.12, -0.11]) == "fails"
    assert verdict([0.10, -0.08, 0.02]) == "inconclusive"
    assert verdict([0.5]) == "inconclusive"  # one seed: no spread, no verdict
    assert verdict([0.1, 0.1, 0.1]) == "inconclusive"  # zero spread never decides on its own
    assert verdict([0.0, 0.0]) == "inconclusive"
    assert verdict([-0.1, -0.12], labels=("gain", "cost", "inconclusive")) == "inconclusive"  # t_1: 12.7 SE
    assert verdict([-0.1, -0.12, -0.11], labels=("gain", "cost", "inconclusive")) == "cost"
    # m = 0.1, se = 0.1 with 1 df: the 50 % interval is +- 1.0 SE (touches 0: not beyond), 40 % is +- 0.73 SE
    d = [0.0, 0.2]
    assert verdict(d, coverage=0.5) == "inconclusive" and verdict(d, coverage=0.4) == "holds"


def test_coverage_exactly_once() -> None:
    df = _table(_acc_spa_wins)
    check_coverage(df, DEFENCES, ATTACKS, EPS, SEEDS)
    with pytest.raises(UserError, match="miss"):
        check_coverage(df.iloc[1:], DEFENCES, ATTACKS, EPS, SEEDS)
    with pytest.raises(UserError, match="duplicate"):
        check_coverage(pd.concat([df, df.iloc[:1]]), DEFENCES, ATTACKS, EPS, SEEDS)
    with pytest.raises(UserError, match="unexpected"):
        check_coverage(df, DEFENCES, ATTACKS, EPS, SEEDS[:2])
    with pytest.raises(UserError, match="miss"):
        check_coverage(df, DEFENCES + ["mixup"], ATTACKS, EPS, SEEDS)


def test_summary_statistics() -> None:
    df = _table(_acc_spa_wins)
    s = summarise(df)
    assert len(s) == len(DEFENCES) * len(ATTACKS) * len(EPS) * 2
    assert (s["n_seeds"] == 3).all()
    cell = s[(s.model == "spa_at") & (s.attack == "spa") & (s.eps == 0.1) & (s.metric == "accuracy")].iloc[0]
    vals = [_acc_spa_wins("spa_at", "spa", 0.1, k) for k in SEEDS]
    assert cell["mean"] == pytest.approx(np.mean(vals))
    assert cell["std"] == pytest.approx(np.std(vals, ddof=1))
    assert cell["sem"] == pytest.approx(np.std(vals, ddof=1) / np.sqrt(3))
    md = matrix_markdown(s, "accuracy", eps=0.1, models=DEFENCES, attacks=ATTACKS)
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert lines[0].split("|")[1:-1] == [" model ", " eps ", *[f" {a} " for a in ATTACKS]]
    assert [ln.split("|")[1].strip() for ln in lines[1:]] == DEFENCES


def test_t2_holds_fails_inconclusive() -> None:
    t2 = claim_t2(_table(_acc_spa_wins), {"digits_rot": 0.1})
    claims = t2[t2.kind == "claim"]
    assert set(claims["baseline"]) == {"pgd_at", "trades", "attribute_augmentation"}
    assert set(claims["attack"]) == {"spa", "joint_pgd"}
    assert (claims["verdict"] == "holds").all()
    row = claims[(claims.attack == "spa") & (claims.baseline == "pgd_at")].iloc[0]
    assert row["diff_mean"] == pytest.approx(row["defence_mean"] - row["baseline_mean"])
    assert row["n_seeds"] == 3
    cost = t2[t2.kind == "cost"].set_index(["metric", "baseline"])["verdict"]
    assert cost[("accuracy", "pgd_at")] == "cost"  # 0.3 vs 0.4 under pixel PGD
    assert cost[("clean_accuracy", "standard")] == "cost"  # 0.90 vs 0.95 clean
    assert overall_t2(t2) == {"digits_rot/spa": "holds", "digits_rot/joint_pgd": "holds"}

    def loses(d, a, e, s):
        return _acc_spa_wins(d, a, e, s) - (0.5 if d == "spa_at" else 0.0)

    t2 = claim_t2(_table(loses), {"digits_rot": 0.1})
    assert (t2[t2.kind == "claim"]["verdict"] == "fails").all()
    assert overall_t2(t2)["digits_rot/spa"] == "fails"

    def noisy(d, a, e, s):  # SPA-AT equal to PGD-AT on average, with seed noise of either sign
        if d == "spa_at":
            return 0.4 + [0.05, -0.05, 0.0][s]
        return _acc_spa_wins(d, a, e, s) - (0.2 if d in ("trades", "attribute_augmentation") else 0.0)

    t2 = claim_t2(_table(noisy), {"digits_rot": 0.1})
    v = t2[(t2.kind == "claim")].set_index(["attack", "baseline"])["verdict"]
    assert v[("spa", "pgd_at")] == "inconclusive"
    assert v[("spa", "trades")] == "holds"
    assert overall_t2(t2)["digits_rot/spa"] == "inconclusive"


def test_t2_needs_the_defences() -> None:
    df = _table(_acc_spa_wins)
    with pytest.raises(UserError, match="trades"):
        claim_t2(df[df.model != "trades"], {"digits_rot": 0.1})
    with pytest.raises(UserError, match="headline eps"):
        claim_t2(df, {"mnist_rot": 0.1})


@pytest.mark.parametrize(("passed", "gate"), [(True, "pass"), (False, "fail"), (None, "not computed")])
def test_t2_through_a_learned_primary_editor_counts_only_with_its_gate(passed, gate) -> None:
    """Where a dataset's primary editor is the learned one (CelebA), T2's claim rows count only when the editor
    passed the attack phase's semantic gate, as T1's learned rows; each row says its editor and the gate."""
    from reproflow.defences.matrix import headline

    df = _table(_acc_spa_wins)
    gates = {} if passed is None else {"digits_rot": passed}
    t2 = claim_t2(df, {"digits_rot": 0.1}, editors={"digits_rot": "learned"}, gates=gates)
    claims, cost = t2[t2.kind == "claim"], t2[t2.kind == "cost"]
    assert set(t2.editor) == {"learned"} and set(t2.gate) == {gate}
    assert (claims["verdict"] == "holds").all()  # the numbers are the same; whether they count is the gate's
    assert set(claims["counts"]) == {bool(passed)} and cost["counts"].all()
    h = headline(t2, summarise(df), {"digits_rot": 0.1}, 0.95, "quick")
    if passed:
        assert overall_t2(t2) == {"digits_rot/spa": "holds", "digits_rot/joint_pgd": "holds"}
        assert h["verdict"] == "holds" and h["not_counted"] == []
    else:
        assert overall_t2(t2) == {} and h["verdict"] == "inconclusive"
        assert h["not_counted"] == ["digits_rot/joint_pgd", "digits_rot/spa"] and h["counts"]["holds"] == 0
    assert h["gates"] == {"digits_rot": gate}
    # the exact editor needs no gate: its rows count whatever the learned editor's gate says
    exact = claim_t2(df, {"digits_rot": 0.1}, editors={"digits_rot": "exact"}, gates={"digits_rot": False})
    assert exact["counts"].all() and set(exact.gate) == {"not gated"}
    # the gate column round-trips through the CSV (issue 21: "n/a" read back as NaN)
    import io
    buf = io.StringIO()
    exact.to_csv(buf, index=False)
    assert set(pd.read_csv(io.StringIO(buf.getvalue()))["gate"]) == {"not gated"}


def test_t2_cli_reads_the_gate(tmp_path) -> None:
    """tabulate_claim_t2 on small files: a learned primary editor without --gate is a user error; with a failed
    gate the rows are written, marked, and left out of the verdict."""
    import json

    from reproflow.attacks.outcomes import write_outcomes
    from reproflow.cli import tabulate_claim_t2

    _table(_acc_spa_wins).to_csv(tmp_path / "evaluations.csv", index=False)
    write_outcomes(tmp_path / "outcomes.csv.gz", _outcomes(_table(_acc_spa_wins)))
    pd.DataFrame([{"dataset": "digits_rot", "model": "standard", "passed": False}]).to_csv(tmp_path / "gate.csv",
                                                                                         index=False)
    flat = [-0.1, 0.0, 0.0, 0.0, 0.0]
    rng = np.random.default_rng(7)
    _curves({d: _probe(3, 500, flat, rng) for d in ("spa_at", "pgd_at", "trades")}).to_csv(tmp_path / "flat.csv",
                                                                                          index=False)
    # a tolerance no probe misses: this test is about the gate, not the training-adequacy rule
    args = _t2_args(tmp_path, "learned", "pgd_at", "flat.csv", tolerance=0.5)
    assert tabulate_claim_t2.main(args) == 2
    assert tabulate_claim_t2.main([*args, "--gate", str(tmp_path / "gate.csv")]) == 0
    t2 = pd.read_csv(tmp_path / "T2.csv")
    assert set(t2.gate) == {"fail"} and not t2[t2.kind == "claim"]["counts"].any()
    h = json.loads((tmp_path / "headline.json").read_text())
    assert h["verdict"] == "inconclusive" and h["not_counted"] == ["digits_rot/spa"]
    assert "not counted: digits_rot/spa" in (tmp_path / "T2.md").read_text()
    # the defences' training at this scale is stated on every row (advtrain.training and each defence's section)
    assert set(t2.defence_schedule) == {"2 epochs (0 clean warm-up), PGD-AT 3 steps, TRADES 4 steps, SPA-AT T=2 R=1 "
                                        "grid 17 K=3, worst-of-10 + PGD 3 steps"}


def _probe(n_seeds: int, n_images: int, rise: list[float], rng: np.random.Generator, rho: float = 0.95) -> np.ndarray:
    """Synthetic per-image probe correctness ``[S, E, N]`` with a known curve: image i has difficulty
    p_i ~ Beta(0.9, 1.1) (mean 0.45, the cpu probe's level; most images nearly always or nearly never robust),
    epoch e adds ``rise[e]`` to every image's chance, and each (seed, image) draws its outcome from a Gaussian latent
    that is AR(1) over epochs with correlation ``rho``, so outcomes flip between epochs as a trained model's do
    (rho 0.95: about 10 % of outcomes differ two epochs apart, as in the cpu pilot's early epochs; its last epochs
    flip 2-5 %, which makes the test easier) while the expected accuracy follows mean(p) + rise exactly."""
    from scipy import stats

    p = rng.beta(0.9, 1.1, size=n_images)
    z = rng.standard_normal((n_seeds, n_images))
    out = []
    for r in rise:
        out.append(stats.norm.cdf(z) < np.clip(p + r, 0, 1))
        z = rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(z.shape)
    return np.stack(out, axis=1).astype(float)


def _curves(cubes: dict[str, np.ndarray], dataset: str = "digits_rot") -> pd.DataFrame:
    """Tidy training curves from defence -> per-image probe correctness [S, E, N]: the seed-level accuracy row and
    the per-image rows of every epoch, as train_defence writes them."""
    from reproflow.defences.matrix import PLATEAU_METRIC, probe_rows

    rows = []
    for defence, cube in cubes.items():
        for seed in range(cube.shape[0]):
            for epoch in range(cube.shape[1]):
                c = cube[seed, epoch]
                for metric, v in {PLATEAU_METRIC: float(c.mean()), **probe_rows(c.astype(bool).tolist())}.items():
                    rows.append({"phase": "advtrain", "dataset": dataset, "model": defence, "epoch": epoch + 1,
                                 "seed": seed, "metric": metric, "value": v})
    return pd.DataFrame(rows)


def _reads_plateau(rise: list[float], n_seeds: int, n_images: int, epochs: int, tolerance: float, coverage: float,
                   reps: int, seed: int) -> float:
    """Fraction of synthetic runs whose change over the last ``epochs`` epochs reads as a plateau (the rule's
    statistic on arrays; :func:`training_plateau` is the same on the tidy table, checked below)."""
    from reproflow.defences.matrix import window_change
    from reproflow.report.verdicts import two_way_interval

    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        iv = two_way_interval(window_change(_probe(n_seeds, n_images, rise, rng), epochs), coverage).interval
        hits += bool(-tolerance < iv.low and iv.high < tolerance)
    return hits / reps


def test_window_change_is_the_linear_trend_over_the_last_epochs() -> None:
    """For two epochs it is last minus two-before per (seed, image); for a linear curve any window gives its change."""
    from reproflow.defences.matrix import window_change

    cube = np.random.default_rng(0).integers(0, 2, size=(3, 6, 40)).astype(float)
    assert np.allclose(window_change(cube, 2), cube[:, -1] - cube[:, -3])
    line = np.broadcast_to(0.1 + 0.02 * np.arange(6)[None, :, None], (2, 6, 5))
    for k in (1, 2, 3, 5):
        assert np.allclose(window_change(line, k), 0.02 * k)


def test_plateau_rule_on_synthetic_curves_with_a_known_answer() -> None:
    """Issue 21: the equivalence test can come out either way on its merits at the cpu sizes (3 seeds x 500 probe
    images, last 2 epochs, tolerance 0.04 at 90 % coverage, i.e. TOST at 5 %): a curve flat after epoch 4 reads
    plateau in most runs (0.92 in 100 runs when written), one still rising by 0.08 over its last 2 epochs (the
    pilot's worst-of-k) never, one rising by exactly the tolerance at most (1 - coverage) / 2 of the time plus Monte
    Carlo slack. On 200 probe images the flat curve reads plateau only about half the time, and under the old
    tolerance 0.01 never: there the rule read the probe's noise, not the curve."""
    flat = [-0.15, -0.08, -0.03, 0.0, 0.0, 0.0, 0.0, 0.0]
    rising = [-0.3, -0.25, -0.2, -0.16, -0.12, -0.08, -0.04, 0.0]
    edge = [-0.3, -0.25, -0.2, -0.15, -0.1, -0.08, -0.06, -0.04]
    kw = {"n_seeds": 3, "n_images": 500, "epochs": 2, "tolerance": 0.04, "coverage": 0.90, "reps": 200}
    assert _reads_plateau(flat, seed=1, **kw) >= 0.8
    assert _reads_plateau(rising, seed=2, **kw) <= 0.02
    assert _reads_plateau(edge, seed=3, **kw) <= 0.05 + 0.05
    assert _reads_plateau(flat, seed=4, **{**kw, "n_images": 200}) <= 0.7
    assert _reads_plateau(flat, seed=5, **{**kw, "n_images": 200, "tolerance": 0.01}) <= 0.02


def test_training_plateau_rule_and_rows_that_count() -> None:
    """Issue 21: the table rule pairs the per-image probe by seed and image; a defence is at its plateau when the
    interval of its change over the last `epochs` epochs lies inside +-tolerance; a claim row counts only when both
    of its defences are; cost rows are unaffected; too few epochs, one seed or no per-image rows never read plateau."""
    from reproflow.defences.matrix import PLATEAU_METRIC, apply_plateau, training_plateau

    rng = np.random.default_rng(5)
    flat, rising = [-0.1, 0.0, 0.0, 0.0, 0.0], [-0.2, -0.15, -0.1, -0.05, 0.0]
    curves = _curves({"spa_at": _probe(3, 500, flat, rng), "pgd_at": _probe(3, 500, rising, rng),
                      "trades": _probe(3, 500, flat[:2], rng), "worst_of_k": _probe(1, 500, flat, rng)})
    # the seed-level rows without their per-image rows (curves written before the per-image probe)
    old = _curves({"attribute_augmentation": _probe(3, 500, flat, rng)})
    curves = pd.concat([curves, old[old["metric"] == PLATEAU_METRIC]])
    p = training_plateau(curves, epochs=2, tolerance=0.04, coverage=0.9).set_index("defence")
    assert bool(p.loc["spa_at", "plateau"]) and -0.04 < p.loc["spa_at", "change_low"] < p.loc["spa_at", "change_high"] < 0.04
    assert not bool(p.loc["pgd_at", "plateau"]) and p.loc["pgd_at", "change"] == pytest.approx(0.1, abs=0.03)
    assert p.loc["spa_at", "n_images"] == 500 and p.loc["spa_at", "n_seeds"] == 3
    assert not bool(p.loc["trades", "plateau"]) and "3 needed" in p.loc["trades", "method"]  # 2 epochs recorded
    assert not bool(p.loc["worst_of_k", "plateau"])  # one seed: no seed term, no interval
    assert not bool(p.loc["attribute_augmentation", "plateau"])
    assert p.loc["attribute_augmentation", "method"] == "no per-image probe recorded"
    t2 = pd.DataFrame({"dataset": ["digits_rot"] * 3, "kind": ["claim", "claim", "cost"], "defence": ["spa_at"] * 3,
                       "baseline": ["pgd_at", "spa_at", "pgd_at"], "counts": [True, True, True]})
    out = apply_plateau(t2, p.reset_index())
    assert out["plateau"].tolist() == ["no: pgd_at", "yes", "no: pgd_at"]
    assert out["counts"].tolist() == [False, True, True]
    # a tolerance above every movement: the rising curve too reads plateau, every row counts
    wide = training_plateau(curves[curves.model.isin(["spa_at", "pgd_at"])], 2, 0.5, 0.9)
    assert apply_plateau(t2, wide)["counts"].all()


def test_t2_primary_row_decides_and_the_others_are_holm_corrected() -> None:
    from reproflow.attacks.outcomes import Outcomes

    def mixed(d, a, e, s):
        # SPA-AT beats PGD-AT under SPA (the primary row) but loses to TRADES under joint-PGD (a secondary row)
        v = _acc_spa_wins(d, a, e, s)
        return v - 0.3 if (d == "spa_at" and a == "joint_pgd") else v

    table = _table(mixed)
    t2 = claim_t2(table, {"digits_rot": 0.1}, outcomes=Outcomes(_outcomes(table, 200)), primary=("spa", "pgd_at"))
    claims = t2[t2.kind == "claim"]
    prim = claims[claims.role == "primary"]
    assert len(prim) == 1 and prim.iloc[0].attack == "spa" and prim.iloc[0].baseline == "pgd_at"
    assert prim.iloc[0].verdict == "holds" and prim.iloc[0].n_images == 200
    sec = claims[claims.role == "secondary"]
    assert len(sec) == 5 and (sec.p_adjusted >= sec.p_value - 1e-15).all()
    assert "fails" in set(sec[sec.attack == "joint_pgd"].adjusted_verdict)
    # the primary row decides: a secondary "fails" no longer turns the claim into "fails"
    assert overall_t2(t2) == {"digits_rot/spa": "holds"}
    assert set(t2[t2.kind == "cost"].role) == {"cost"}
    with pytest.raises(UserError, match="advtrain.t2.primary"):
        claim_t2(table, {"digits_rot": 0.1}, primary=("spa", "standard"))


def test_t2_cli_reads_the_plateau_and_never_says_fails_without_it(tmp_path) -> None:
    """tabulate_claim_t2 with the curves and advtrain.plateau: a baseline whose probe is still rising leaves T2 "not
    decidable at this scale" (not "fails", though the rows' own verdicts may read so), the plateau table is written
    and reads back; with every compared defence flat the claim rows count again."""
    import json

    from reproflow.attacks.outcomes import write_outcomes
    from reproflow.cli import tabulate_claim_t2

    _table(_acc_spa_wins).to_csv(tmp_path / "evaluations.csv", index=False)
    write_outcomes(tmp_path / "outcomes.csv.gz", _outcomes(_table(_acc_spa_wins)))
    rng = np.random.default_rng(7)
    flat, rising = [-0.1, 0.0, 0.0, 0.0, 0.0], [-0.2, -0.15, -0.1, -0.05, 0.0]
    for name, pgd in (("moving", rising), ("flat", flat)):
        _curves({"spa_at": _probe(3, 500, flat, rng), "pgd_at": _probe(3, 500, pgd, rng),
                 "trades": _probe(3, 500, flat, rng)}).to_csv(tmp_path / f"{name}.csv", index=False)
    # the primary row SPA-AT against PGD-AT under SPA
    assert tabulate_claim_t2.main(_t2_args(tmp_path, "oracle", "pgd_at", "moving.csv")) == 0
    h = json.loads((tmp_path / "headline.json").read_text())
    assert h["verdict"] == "not decidable at this scale" and "pgd_at" in h["not_decidable_because"]
    p = pd.read_csv(tmp_path / "plateau.csv").set_index("defence")
    assert p["plateau"].to_dict() == {"pgd_at": False, "spa_at": True, "trades": True}
    assert (p["method"].str.contains("seeds x images")).all()
    md = (tmp_path / "T2.md").read_text()
    assert md.startswith("# Claim T2 (tiny scale): not decidable at this scale") and "equivalence test" in md
    assert tabulate_claim_t2.main(_t2_args(tmp_path, "oracle", "pgd_at", "flat.csv")) == 0
    h = json.loads((tmp_path / "headline.json").read_text())
    assert h["verdict"] == "holds" and "not_decidable_because" not in h and h["not_at_plateau"] == []
    # with a declared primary (spa / trades) the still-rising pgd_at only leaves its own rows uncounted
    assert tabulate_claim_t2.main(_t2_args(tmp_path, "oracle", "trades", "moving.csv")) == 0
    h = json.loads((tmp_path / "headline.json").read_text())
    assert h["verdict"] == "holds" and h["not_at_plateau"] == ["digits_rot/pgd_at"]
    t2 = pd.read_csv(tmp_path / "T2.csv").set_index("baseline")
    assert not t2.loc["pgd_at", "counts"] and t2.loc["trades", "counts"] and t2.loc["trades", "role"] == "primary"
