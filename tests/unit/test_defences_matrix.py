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


@pytest.mark.parametrize(("passed", "gate"), [(True, "pass"), (False, "fail"), (None, "n/a")])
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
    assert exact["counts"].all() and set(exact.gate) == {"n/a"}


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
    args = ["--evaluations", str(tmp_path / "evaluations.csv"), "--outcomes", str(tmp_path / "outcomes.csv.gz"),
            "--output", str(tmp_path / "T2.csv"),
            "--headline", str(tmp_path / "headline.json"), "--headline-eps", '{"digits_rot": 0.1}',
            "--baselines", "pgd_at", "trades", "--joint-attacks", "spa", "--cost-baselines", "standard",
            "--coverage", "0.95", "--scale", "tiny", "--editors", '{"digits_rot": "learned"}']
    assert tabulate_claim_t2.main(args) == 2
    assert tabulate_claim_t2.main([*args, "--gate", str(tmp_path / "gate.csv")]) == 0
    t2 = pd.read_csv(tmp_path / "T2.csv")
    assert set(t2.gate) == {"fail"} and not t2[t2.kind == "claim"]["counts"].any()
    h = json.loads((tmp_path / "headline.json").read_text())
    assert h["verdict"] == "inconclusive" and h["not_counted"] == ["digits_rot/spa"]
    assert "not counted: digits_rot/spa" in (tmp_path / "T2.md").read_text()
    # the defences' training at this scale is stated on every row
    training = '{"digits_rot": {"epochs": 2, "warmup_epochs": 0, "batch_size": 64, "optimizer": "adam", "lr": 0.001}}'
    inner = ('{"pgd_at": {"steps": 3, "step_factor": 2.5}, "spa_at": {"steps": 2, "restarts": 1, "grid_size": 17, '
             '"gen_steps": 3}, "worst_of_k": {"k": 10, "steps": 3, "step_factor": 2.5}}')
    assert tabulate_claim_t2.main([*args, "--gate", str(tmp_path / "gate.csv"), "--training", training,
                                   "--inner", inner]) == 0
    t2 = pd.read_csv(tmp_path / "T2.csv")
    assert set(t2.defence_schedule) == {"2 epochs (0 clean warm-up), PGD-AT 3 steps, SPA-AT T=2 R=1 grid 17 K=3, "
                                        "worst-of-10 + PGD 3 steps"}


def _curves(values: dict[str, list[list[float]]]) -> pd.DataFrame:
    """Tidy training curves: defence -> per seed, the plateau probe's value after each epoch."""
    from reproflow.defences.matrix import PLATEAU_METRIC

    rows = []
    for defence, seeds in values.items():
        for seed, vals in enumerate(seeds):
            for epoch, v in enumerate(vals, start=1):
                rows.append({"phase": "advtrain", "dataset": "digits_rot", "model": defence, "epoch": epoch, "seed": seed,
                             "metric": PLATEAU_METRIC, "value": v})
    return pd.DataFrame(rows)


def test_training_plateau_rule_and_rows_that_count():
    """Issue 21: a defence is at its plateau when its seed-mean probe accuracy moved by less than the tolerance over
    its last `epochs` epochs; a claim row counts only when both of its defences are; cost rows are unaffected."""
    from reproflow.defences.matrix import apply_plateau, training_plateau

    curves = _curves({"spa_at": [[0.2, 0.3, 0.35, 0.352, 0.355], [0.2, 0.3, 0.34, 0.345, 0.347]],
                      "pgd_at": [[0.2, 0.25, 0.30, 0.33, 0.36], [0.2, 0.25, 0.30, 0.33, 0.36]],
                      "trades": [[0.3, 0.31]]})
    p = training_plateau(curves, epochs=2, tolerance=0.01).set_index("defence")
    assert bool(p.loc["spa_at", "plateau"]) and p.loc["spa_at", "moved"] == pytest.approx(0.351 - 0.345)
    assert not bool(p.loc["pgd_at", "plateau"]) and p.loc["pgd_at", "moved"] == pytest.approx(0.06)
    assert not bool(p.loc["trades", "plateau"])  # two epochs cannot show two epochs without movement
    t2 = pd.DataFrame({"dataset": ["digits_rot"] * 3, "kind": ["claim", "claim", "cost"], "defence": ["spa_at"] * 3,
                       "baseline": ["pgd_at", "attribute_augmentation", "pgd_at"], "counts": [True, True, True]})
    out = apply_plateau(t2, training_plateau(curves, 2, 0.01))
    assert out["plateau"].tolist() == ["no: pgd_at", "yes", "no: pgd_at"]
    assert out["counts"].tolist() == [False, True, True]
    # a tolerance above every movement: all at plateau, every row counts
    assert apply_plateau(t2, training_plateau(curves[curves.model != "trades"], 2, 0.1))["counts"].all()


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
