"""The summarise_claims CLI on hand-made phase tables: summary, metrics and dvc plot data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from reproflow.cli.summarise_claims import main
from reproflow.config import load_yaml
from reproflow.report.plotdata import TRAINABILITY_COLUMNS
from reproflow.report.summary import CLAIMS
from reproflow.settings import to_json

REPO = Path(__file__).resolve().parents[2]


def _write_inputs(tmp):
    t1 = pd.DataFrame({"dataset": "digits_rot", "model": "standard", "eps": [0.05, 0.1], "difference": [-0.3, -0.2],
                       "difference_low": [-0.34, -0.26], "difference_high": [-0.26, -0.14], "coverage": 0.95,
                       "n_seeds": 3, "verdict": "holds"})
    t1.to_csv(tmp / "T1.csv", index=False)
    pdg = pd.DataFrame({"activation": "tanh", "sw2": [1.0, 2.0, 1.0, 2.0], "sb2": 0.05, "rho": [1.0, 1.0, 0.9, 0.9],
                        "c_star": [1.0, 0.6, 0.95, 0.5]})
    pdg.to_csv(tmp / "phase_diagram.csv", index=False)
    sw2 = np.array([1.0, 1.5, 2.0, 2.5])
    b = pd.DataFrame({"panel": "a", "sw2": sw2, "depth_boundary": [8.0, 16.0, 32.0, 64.0],
                      "censored": ["none", "none", "none", "above"], "xi_1": [1.0, 1.5, 3.0, np.inf],
                      "xi_c": [1.2, 1.8, 3.5, 9.0], "xi_min": [1.0, 1.5, 3.0, 9.0]})
    b.to_csv(tmp / "boundaries.csv", index=False)
    pd.DataFrame({"panel": ["a", "authors_a"], "source": ["project", "authors"], "shape_diff": [-0.1, 0.1],
                  "shape_diff_low": [-0.2, 0.05], "shape_diff_high": [-0.05, 0.2], "k_xi_c": [4.0, 9.0],
                  "k_min_xi1_xi2": [6.0, 13.0], "n_seeds": [3, 1], "rho": [0.98, 0.98]}).to_csv(tmp / "formula_shape.csv", index=False)
    rows = [{"phase": "attack", "dataset": "digits_rot", "model": "standard", "attack": a, "eps": e, "seed": s,
             "metric": m, "value": v}
            for a in ("pgd", "spa", "spa_oracle") for e in (0.05, 0.1) for s in (0, 1)
            for m, v in (("accuracy", 0.5 - e + 0.01 * s), ("success_rate", 0.3))]
    pd.DataFrame(rows).to_csv(tmp / "accuracy.csv", index=False)


def _argv(tmp, **over):
    args = {"t1": tmp / "T1.csv", "t2": tmp / "absent_T2.csv", "phase_diagram": tmp / "phase_diagram.csv",
            "gradient_rates": "none", "universality": "none", "depth_boundaries": tmp / "boundaries.csv",
            "depth_shape": tmp / "formula_shape.csv", "captions": "none", "attack_table": tmp / "accuracy.csv", "summary": tmp / "out" / "summary.csv",
            "metrics": tmp / "out" / "metrics.json", "plots": tmp / "out" / "plots", "scale": "tiny",
            "report": to_json(load_yaml(REPO / "params.yaml")["report"]), **over}
    argv = []
    for k, v in args.items():
        argv += ["--" + k.replace("_", "-"), str(v)]
    return argv


def test_cli_writes_summary_metrics_and_plot_data(tmp_path):
    _write_inputs(tmp_path)
    assert main(_argv(tmp_path)) == 0
    out = tmp_path / "out"
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert summary["claim"].tolist() == [c.id for c in CLAIMS]
    by = summary.set_index("claim")["verdict"]
    assert by["T1"] == "holds" and by["MF-no-transition"] == "holds"
    assert by["T2"] == "not run" and by["MF-fig1"] == "not run"
    assert by["MF-trainable-depth"] == "holds"
    evidence = summary.set_index("claim")["evidence"]
    assert "absent_T2.csv" in evidence["T2"]
    assert "captions table (not produced at this scale)" in evidence["MF-fig1"]
    assert (out / "summary.md").read_text().startswith("# Reproduction summary (tiny scale)")
    assert (out / "summary.csv.run.json").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["claims"]["T1"]["verdict"] == 1 and metrics["scale"] == "tiny"
    acc = pd.read_csv(out / "plots" / "accuracy_vs_eps" / "dataset~digits_rot.csv")
    assert list(acc.columns)[:1] == ["eps"] and "spa_oracle" not in acc.columns
    assert acc["spa"].tolist() == [0.455, 0.405] and acc["fgsm"].isna().all()
    tr = pd.read_csv(out / "plots" / "trainability" / "panel~a.csv")
    assert tuple(tr.columns) == TRAINABILITY_COLUMNS
    assert np.isnan(tr["measured_depth"].iloc[-1]) and np.isnan(tr["twelve_xi_1"].iloc[-1])


def test_cli_bad_table_exits_2_naming_the_file(tmp_path):
    _write_inputs(tmp_path)
    pd.DataFrame({"dataset": ["a"], "eps": [0.1]}).to_csv(tmp_path / "T1.csv", index=False)
    assert main(_argv(tmp_path)) == 2
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_plot_columns_match_the_attack_registry_and_dvc_yaml():
    """dvc.yaml's y lists, the plot-data columns and the attack phase's closed set agree."""
    from pathlib import Path

    import yaml

    from reproflow.attacks.registry import AttackName
    from reproflow.report.plotdata import PLOT_ATTACKS

    assert set(PLOT_ATTACKS) == {a.value for a in AttackName}
    dvc = yaml.safe_load((Path(__file__).resolve().parents[2] / "dvc.yaml").read_text())
    plots = {k: v for d in dvc["plots"] for k, v in d.items()}
    eps_plots = [v for k, v in plots.items() if k.endswith("/report/plots/accuracy_vs_eps")]
    assert len(eps_plots) == 4  # paper, cpu, quick, tiny
    assert all(v["y"] == list(PLOT_ATTACKS) for v in eps_plots)
    assert plots["results/report/plots/trainability"]["x"] == TRAINABILITY_COLUMNS[0]
    assert plots["results/report/plots/trainability"]["y"] == list(TRAINABILITY_COLUMNS[1:])
    assert "results/report/metrics.json" in dvc["metrics"]
    for scale, root in (("paper", "results"), ("quick", "results/quick"), ("tiny", "results/tiny")):
        assert f"{root}/report" in dvc["stages"][f"report_{scale}"]["outs"]
        assert f"{root}/report/metrics.json" in dvc["metrics"]
