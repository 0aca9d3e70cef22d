"""The attack phase's CLIs end to end on randomly initialised models and a synthetic split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from reproflow.config import load_yaml
from reproflow.data.store import save_split
from reproflow.models import MSPManipulator, NoiseGenerator, RotationOracle, build_classifier
from reproflow.models.classifiers import save_classifier
from reproflow.models.generator import save_generator
from reproflow.models.manipulator import save_manipulator

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
N, SIZE = 10, 16


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    d = tmp_path_factory.mktemp("attack")
    g = torch.Generator().manual_seed(0)
    imgs = (torch.rand(N, 1, SIZE, SIZE, generator=g) * 255).to(torch.uint8)
    meta = {"name": "digits_rot", "source": "test", "split": "test", "num_classes": 10, "channels": 1, "size": SIZE,
            "attribute_name": "rotation_deg", "attribute_range": [-40.0, 40.0], "seed": 0}
    save_split(d / "test.pt", {"images": imgs, "labels": torch.arange(N) % 10, "attributes": torch.rand(N, generator=g),
                               "angles": torch.zeros(N), "originals": imgs.clone(), "meta": meta})
    torch.manual_seed(0)
    for k in (0, 1):  # the judge reads its seed from the metadata train_classifier writes
        save_classifier(d / f"clf{k}.pt", build_classifier("smallcnn", 1, 10, SIZE), "smallcnn", 1, 10, SIZE,
                        {"dataset": "digits_rot", "seed": k})
    save_manipulator(d / "msp.pt", MSPManipulator(1, SIZE, latent_dim=8, width=4))
    save_manipulator(d / "oracle.pt", RotationOracle((-40.0, 40.0)))
    save_generator(d / "gen.pt", NoiseGenerator(1, z_dim=8, width=4), {"eps": 0.2, "steps": 2, "step_size": 0.1,
                                                                      "adam_beta1": 0.5, "adam_beta2": 0.999, "grad_clip": 1.0})
    return d


# the attack section's groups as the rules hand them over (reproflow.settings.sections)
EPS = {"eps_grid": {"digits_rot": [0.05, 0.1]}}
SUITE = {
    "pgd": {"steps": 3, "step_factor": 2.5, "restarts": 1}, "autoattack": {"version": "custom", "sub_attacks": ["apgd-ce"], "apgd_iterations": 100},
    "attribute": {"grid_size": 3}, "spa": {"steps": 2, "restarts": 1, "lr": 0.1, "attr_lr": 0.025},
    "joint_pgd": {"steps": 3, "restarts": 1, "step_factor": 2.5, "attr_step_factor": 2.5},
    "joint_apgd": {"steps": 4, "restarts": 1, "attr_step": 0.25}, "batch_size": 5, "edge_tol": 0.02,
    "reference": ["spa", "grid_pgd", "joint_apgd"],
}
ATTACKS = ["fgsm", "pgd", "autoattack", "attribute", "generator", "spa", "joint_pgd", "grid_pgd"]


def _evaluate_args(d, seed: int, crosscheck: bool = True) -> list[str]:
    out = d / f"seed~{seed}"
    selection = {"attacks": ATTACKS, "editor": "learned", "learned_attacks": [], "oracle_attacks": ["spa"], "max_samples": 8}
    evaluation = {"model": "standard", "crosscheck": crosscheck, "examples": {"rows": 2, "sweep": 3, "codes": 2}}
    return [
        "--data", str(d / "test.pt"), "--classifier", str(d / "clf0.pt"), "--judge", str(d / "clf1.pt"),
        "--manipulator", str(d / "msp.pt"), "--generator", str(d / "gen.pt"), "--generator-learned", "none",
        "--oracle", str(d / "oracle.pt"), "--metrics", str(out / "metrics.csv"), "--outcomes", str(out / "outcomes.csv.gz"),
        "--attributes", str(out / "attributes.csv"), "--examples", str(out / "examples.npz"), "--dataset", "digits_rot",
        "--seed", str(seed), "--device", "cpu", "--eps", json.dumps(EPS), "--selection", json.dumps(selection),
        "--evaluation", json.dumps(evaluation), "--suite", json.dumps(SUITE),
    ]


def test_attack_phase_clis(job, figure_style):
    from reproflow.cli import (
        collect_attack,
        evaluate_attacks,
        plot_attack_accuracy,
        plot_attack_attributes,
        plot_attack_examples,
        tabulate_claim_t1,
    )

    d = job
    for seed in (0, 1):
        assert evaluate_attacks.main(_evaluate_args(d, seed)) == 0
    m = pd.read_csv(d / "seed~0" / "metrics.csv")
    assert list(m.columns) == ["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"]
    assert {"fgsm", "pgd", "autoattack", "apgd_ce", "attribute", "generator", "spa", "joint_pgd", "spa_oracle"} <= set(m.attack)
    acc = m[m.metric == "accuracy"].set_index(["attack", "eps"])["value"]
    clean = m[m.metric == "clean_accuracy"].set_index(["attack", "eps"])["value"]
    assert (acc <= clean + 1e-12).all()
    assert (m[m.metric == "n_samples"]["value"] == 8).all()
    assert (m[m.metric == "judge_seed"]["value"] == 1).all()  # from the judge's metadata
    # per-image outcomes (issue 21): one bit per (attack, eps, image), their mean is the tidy table's accuracy
    from reproflow.attacks.outcomes import read_outcomes

    o = read_outcomes([d / "seed~0" / "outcomes.csv.gz"])
    per = o.groupby(["attack", "eps"])["correct"].agg(["mean", "size"])
    assert (per["size"] == 8).all() and set(o["correct"]) <= {0, 1}
    target = per[~per.index.get_level_values("attack").str.contains(":")]
    robust = target.drop(index=("none", 0.0))
    assert np.allclose(robust["mean"], acc.loc[robust.index].to_numpy())
    # the judge's outcomes: on every semantic attack's x_sem, and on the learned editor's gate views
    judged = m[m.metric == "judge_sem_accuracy"].set_index(["attack", "eps"])["value"]
    for (attack, eps), v in judged.items():
        assert per.loc[(attack + ":judge", eps), "mean"] == pytest.approx(v)
    gate = m[m.attack == "learned_editor"].set_index("metric")["value"]
    for view in ("clean", "recon", "edit", "reference_edit"):
        assert per.loc[(f"learned_editor:{view}", 0.0), "mean"] == pytest.approx(gate[f"gate_{view}_accuracy"])
    assert per.loc[("none", 0.0), "mean"] == pytest.approx(float(clean.iloc[0]))
    first = (d / "seed~0" / "outcomes.csv.gz").read_bytes()
    attrs = pd.read_csv(d / "seed~0" / "attributes.csv")
    assert attrs["attr"].between(0, 1).all() and len(attrs) == 8 * 2 * 6  # 6 semantic labels x 2 eps
    # the reference (issue 21): the per-sample worst case of the members that ran (spa, grid_pgd), below each
    for eps in (0.05, 0.1):
        assert acc[("reference", eps)] <= min(acc[("spa", eps)], acc[("grid_pgd", eps)]) + 1e-12
    with np.load(d / "seed~0" / "examples.npz") as ex:
        assert ex["sweep"].shape == (2, 3, 1, SIZE, SIZE) and ex["noisy"].shape == (2, 2, 1, SIZE, SIZE)

    assert evaluate_attacks.main(_evaluate_args(d, 0)) == 0
    assert (d / "seed~0" / "outcomes.csv.gz").read_bytes() == first  # a rerun writes the same bytes
    s = [str(d / f"seed~{k}" / "metrics.csv") for k in (0, 1)]
    a = [str(d / f"seed~{k}" / "attributes.csv") for k in (0, 1)]
    assert collect_attack.main(["--metrics-in", *s, "--attributes-in", *a, "--metrics", str(d / "all.csv"),
                                "--attributes", str(d / "attrs.csv"), "--summary", str(d / "summary.csv"),
                                "--checks", str(d / "checks.csv"),
                                "--collect", json.dumps({"crosscheck_tolerance": 0.01})]) == 0
    checks = pd.read_csv(d / "checks.csv")
    assert {"judge_sem_accuracy", "ssim_adv_sem", "attr_edge_fraction", "linf", "pgd_minus_apgd_ce"} <= set(checks.check)
    assert tabulate_claim_t1.main(["--metrics", str(d / "all.csv"), "--output", str(d / "claims" / "T1.csv"),
                                   "--headline", str(d / "headline.json"),
                                   "--t1", json.dumps({"baselines": ["pgd", "attribute"], "composed_baselines": [
                                       "grid_pgd", "joint_pgd"], "primary_eps": "headline"}),
                                   "--report", json.dumps({**load_yaml(REPO / "params.yaml")["report"], "coverage": 0.95}),
                                   "--eps", json.dumps(EPS),
                                   "--outcomes", *[str(d / f"seed~{k}" / "outcomes.csv.gz") for k in (0, 1)],
                                   "--gate", str(d / "claims" / "gate.csv"),
                                   "--editor-gate", json.dumps({"relative_margin": 0.25})]) == 0
    gate = pd.read_csv(d / "claims" / "gate.csv")
    assert len(gate) == 1 and gate.iloc[0].verdict in ("pass", "fail", "undecided") and gate.iloc[0].n_seeds == 2
    assert gate.iloc[0].delta == pytest.approx(0.25 * gate.iloc[0].judge_error)
    t1 = pd.read_csv(d / "claims" / "T1.csv")
    assert len(t1) == 4 and set(t1.verdict) <= {"holds", "fails", "inconclusive"}
    assert set(t1.n_images) == {8} and set(t1.n_seeds) == {2} and t1.method.str.contains("seeds x images").all()
    assert sorted(t1.role) == ["primary", "primary", "secondary", "secondary"]
    assert set(t1[t1.role == "primary"].eps) == {0.05}  # the headline: the grid's (lower) median
    assert sorted(t1.reading) == ["composed", "composed", "single", "single"]
    # the gate column reads back as written (issue 21 item 5: "n/a" came back as NaN)
    assert t1["gate"].notna().all() and set(t1["gate"]) <= {"not gated", "not computed", "pass", "fail", "undecided"}
    assert (d / "claims" / "T1.md").exists()
    head = json.loads((d / "headline.json").read_text())
    assert head["claim"] == "T1" and "digits_rot" in head["headline"]

    assert plot_attack_accuracy.main(["--style", figure_style, "--metrics", str(d / "all.csv"), "--output", str(d / "acc.png"), "--scale", "tiny"]) == 0
    assert plot_attack_attributes.main(["--style", figure_style, "--attributes", str(d / "attrs.csv"), "--output", str(d / "hist.png"),
                                        "--eps", json.dumps(EPS)]) == 0
    assert plot_attack_examples.main(["--style", figure_style, "--examples", str(d / "seed~0" / "examples.npz"), "--output", str(d / "ex.png"),
                                      "--dataset", "digits_rot"]) == 0
    for f in ("acc", "hist", "ex"):
        assert (d / f"{f}.png").stat().st_size > 0 and (d / f"{f}.pdf").exists()


def test_missing_model_is_a_user_error(job, tmp_path):
    from reproflow.cli import evaluate_attacks

    args = _evaluate_args(job, 0)
    args[args.index("--generator") + 1] = str(tmp_path / "nope.pt")
    args[args.index("--metrics") + 1] = str(tmp_path / "m.csv")
    assert evaluate_attacks.main(args) == 2
    assert not (tmp_path / "m.csv").exists()


def _defence_args(d, out, refit_batches: int) -> list[str]:
    """evaluate_defence's flags for the same classifier, models and attacks as :func:`_evaluate_args`."""
    refit = {"batches": refit_batches, "batch_size": 4, "lr": 0.01, "div_weight": 1.0}
    # two "defences" of one seed in one job: the judge's classifier first (its refit must not carry over), then
    # the attack phase's
    selection = {"attacks": ATTACKS, "editor": "learned", "learned_attacks": [], "oracle_attacks": ["spa"], "max_samples": 8}
    # null: the attack phase's attacks, editors' subsets and samples; the whole grid
    evaluation = {"max_samples": None, "eps": "grid", "attacks": None, "learned_attacks": None, "oracle_attacks": None}
    return ["--data", str(d / "test.pt"), "--manipulator", str(d / "msp.pt"), "--generator", str(d / "gen.pt"),
            "--generator-learned", "none", "--oracle", str(d / "oracle.pt"), "--dataset", "digits_rot", "--seed", "0",
            "--device", "cpu", "--eps", json.dumps(EPS), "--selection", json.dumps(selection),
            "--evaluation", json.dumps(evaluation), "--suite", json.dumps(SUITE),
            "--classifiers", str(d / "clf1.pt"), str(d / "clf0.pt"), "--roster", json.dumps({"defences": ["pgd_at", "standard"]}),
            "--metrics", str(out / "other.csv"), str(out / "standard.csv"),
            "--outcomes", str(out / "other.csv.gz"), str(out / "standard.csv.gz"), "--train", str(d / "test.pt"),
            "--refit", json.dumps(refit)]


def test_defence_evaluation_is_the_attack_phase_path(job, tmp_path):
    """Standard and defended classifiers share one evaluation path: with no generator refit, evaluate_defence
    on the attack phase's classifier gives the attack phase's accuracies, attack for attack, also when the job
    evaluates another classifier before it; a refit adds its rows."""
    from reproflow.cli import evaluate_attacks, evaluate_defence

    assert evaluate_attacks.main(_evaluate_args(job, 0, crosscheck=False)) == 0
    ref = pd.read_csv(job / "seed~0" / "metrics.csv")
    assert evaluate_defence.main(_defence_args(job, tmp_path / "plain", 0)) == 0
    got = pd.read_csv(tmp_path / "plain" / "standard.csv")
    assert set(pd.read_csv(tmp_path / "plain" / "other.csv").model) == {"pgd_at"}
    assert set(got.phase) == {"advtrain"} and set(got.model) == {"standard"}
    key = ["attack", "eps", "metric"]
    both = ref.merge(got, on=key, suffixes=("_att", "_def"))
    assert set(both.metric) >= {"accuracy", "clean_accuracy"} and len(both) >= 30
    assert np.allclose(both.value_att, both.value_def)
    from reproflow.attacks.outcomes import read_outcomes

    o_att = read_outcomes([job / "seed~0" / "outcomes.csv.gz"]).drop(columns=["phase"])
    o_att = o_att[~o_att.attack.str.contains(":")].reset_index(drop=True)  # the judge's rows: attack phase only
    o_def = read_outcomes([tmp_path / "plain" / "standard.csv.gz"])
    assert set(o_def.phase) == {"advtrain"}
    assert o_def.drop(columns=["phase"]).equals(o_att)  # the same per-image outcomes, image for image
    assert evaluate_defence.main(_defence_args(job, tmp_path / "refit", 1)) == 0
    refit = pd.read_csv(tmp_path / "refit" / "standard.csv")
    assert {"refresh_ce", "refresh_success"} <= set(refit.metric)
