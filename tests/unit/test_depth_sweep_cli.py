"""The depth-sweep CLIs chained on a small synthetic dataset: train cells -> collect -> fit -> plot."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from reproflow.cli import (
    collect_depth_sweep,
    fit_depth_formula,
    measure_training_speed,
    plot_depth_sweep,
    plot_training_speed,
    train_depth_cell,
)
from reproflow.data.store import save_split

# one of the authors' released Fig. 7 heatmaps, vendored with the workflow (rho 1, sw2 1.0..4.0 step 0.1)
REFERENCE = Path(__file__).resolve().parents[2] / "workflow/resources/huang2020_fig7/panel_c_heatmap.csv"

torch.set_num_threads(1)


def _split(path, n, seed):
    g = torch.Generator().manual_seed(seed)
    protos = torch.rand(10, 1, 6, 6, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    x = (protos[y] * 200 + torch.rand(n, 1, 6, 6, generator=g) * 55).to(torch.uint8)
    meta = {"name": "synthetic", "source": "test", "split": path.stem, "num_classes": 10, "channels": 1, "size": 6,
            "attribute_name": None, "attribute_range": None, "seed": seed}
    save_split(path, {"images": x, "labels": y, "attributes": torch.zeros(n), "angles": torch.zeros(n), "meta": meta})


def _phase_diagram(path, sw2):
    rows = [{"activation": "tanh", "sw2": s, "sb2": 0.05, "rho": 1.0, "q_star": 1, "c_star": 1, "chi_1": 1,
             "chi_c": 1, "chi_q": 1, "xi_1": 1.0 + 2 * s, "xi_c": 2.0 + s, "xi_q": 1} for s in sw2]
    pd.DataFrame(rows).to_csv(path, index=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    _split(d / "train.pt", 200, 0)
    _split(d / "test.pt", 60, 1)
    return d


def _train_args(data, out, depth, panel="p1", lr=0.05):
    # the panel item and the sweep's cell keys as the rule hands them over (one JSON value each)
    item = {"name": panel, "dataset": "synthetic", "rho": 1.0, "init": "orthogonal", "optimizer": "sgd", "lr": lr,
            "batch": 32, "steps": 15, "sw2_grid": [1.0, 2.0, 3.0]}
    cell = {"width": 16, "sb2": 0.05, "seeds": [0, 1], "train_size": 0, "test_size": 0, "curve_every": 5,
            "checkpoint_every": 5, "max_stack": 4}
    return ["--train", str(data / "train.pt"), "--test", str(data / "test.pt"),
            "--output", str(out / f"d{depth}" / "accuracy.csv"), "--curves", str(out / f"d{depth}" / "curves.csv"),
            "--checkpoint", str(out / "ckpt" / f"d{depth}.pt"), "--panel", json.dumps(item), "--depth", str(depth),
            "--cell", json.dumps(cell), "--device", "cpu"]


def _fit(n_boot, level=0.95):
    return json.dumps({"boundary_metric": "train_accuracy", "boundary_fraction": 0.5, "contour_fraction": 0.9,
                       "n_boot": n_boot, "level": level, "fit_seed": 0})


def test_pipeline(tmp_path, data, figure_style):
    out = tmp_path
    for depth in (2, 4):
        assert train_depth_cell.main(_train_args(data, out, depth)) == 0
    cell = pd.read_csv(out / "d2" / "accuracy.csv")
    assert set(cell["metric"]) == {"train_accuracy", "test_accuracy", "final_loss", "diverged", "diverged_step"}
    assert len(cell) == 3 * 2 * 5 and (out / "d2" / "accuracy.csv.run.json").exists()
    acc = cell[cell["metric"].str.endswith("accuracy")]["value"]
    assert ((acc >= 0) & (acc <= 1)).all()
    assert not list((out / "ckpt").glob("*"))  # checkpoints removed after success

    panel = out / "panel" / "accuracy.csv"
    assert collect_depth_sweep.main(["--cells", str(out / "d2/accuracy.csv"), str(out / "d4/accuracy.csv"),
                                     "--cell-curves", str(out / "d2/curves.csv"), str(out / "d4/curves.csv"),
                                     "--output", str(panel), "--curves", str(out / "panel" / "curves.csv")]) == 0
    assert panel.with_suffix(".md").exists()
    pdg = out / "phase_diagram.csv"
    _phase_diagram(pdg, [round(1.0 + 0.1 * i, 10) for i in range(31)])
    args = ["--panels", str(panel), "--curves", str(out / "panel" / "curves.csv"), "--k-steps",
            str(out / "k_steps.csv"), "--k-steps-table", str(out / "kt.csv"), "--design-check", str(out / "design.csv"),
            "--reference-panels", str(REFERENCE),
            "--shape", str(out / "shape.csv"),
            "--phase-diagram", str(pdg), "--boundaries", str(out / "b.csv"),
            "--output", str(out / "fit.csv"), "--headline", str(out / "headline.json"),
            "--fit", _fit(50), "--platform-check", str(out / "platform.csv")]
    # platform check: an identical re-run of L=2 and, as a stand-in for another machine's rounding, L=4 with
    # another learning rate
    assert train_depth_cell.main(_train_args(data, out / "same", 2)) == 0
    other = _train_args(data, out / "other", 4, lr=0.2)
    assert train_depth_cell.main(other) == 0
    assert fit_depth_formula.main([*args, "--platform-cells", str(out / "same/d2/accuracy.csv"),
                                   str(out / "other/d4/accuracy.csv")]) == 0
    plat = pd.read_csv(out / "platform.csv").set_index("depth")
    # identical tables: no flip and no shift (nan when 3 columns give no finite shape difference)
    assert plat.loc[2, "identical"] and plat.loc[2, "status_flips"] == 0 and not abs(plat.loc[2, "platform_shift"]) > 0
    assert not plat.loc[4, "identical"] and plat.loc[4, "max_abs_diff"] > 0 and 0 <= plat.loc[4, "status_flips"] <= 6
    assert (plat["networks"] == 6).all() and (plat["columns"] == 3).all() and (plat["kernels"].str.len() > 0).all()
    shape = pd.read_csv(out / "shape.csv").set_index("panel")
    assert shape.loc["p1", "platform_networks"] == 12 and shape.loc["p1", "platform_depths"] == "2 4"
    assert shape.loc["p1", "platform_of_depths"] == 2
    assert math.isnan(shape.loc["authors_c", "platform_shift"])
    # without re-trained cells the table is empty and the shape rows say so (nan)
    assert fit_depth_formula.main([*args, "--platform-cells", "none"]) == 0
    head = json.loads((out / "headline.json").read_text())
    cands = head["panels"]["p1"]["candidates"]
    assert set(cands) == {"xi_c", "xi_1", "min_xi1_xi2"}
    assert cands["xi_c"]["paper_k"] == 6.0 and cands["xi_1"]["paper_k"] == 12.0
    fit = pd.read_csv(out / "fit.csv")
    # three candidates for the project panel and for the authors' reference panel
    assert len(fit) == 6 and (out / "fit.md").exists() and set(fit["panel"]) == {"p1", "authors_c"}
    bnd = pd.read_csv(out / "b.csv")
    assert set(bnd["censored"]) <= {"none", "below", "above"} and len(bnd[bnd.panel == "p1"]) == 3
    shape = pd.read_csv(out / "shape.csv").set_index("panel")
    assert set(shape["source"]) == {"project", "authors"} and shape.loc["p1", "n_seeds"] == 2
    assert shape.loc["authors_c", "n_points"] + shape.loc["authors_c", "n_censored"] == 31
    ks = pd.read_csv(out / "k_steps.csv")
    assert set(ks["panel"]) == {"p1"} and set(ks["candidate"]) == {"xi_c", "xi_1", "min_xi1_xi2"}
    assert sorted(ks["step"].unique()) == [5, 10, 15]
    # the authors' panel through the project panel's 3 columns and 2 depths: a shift and the project row's bias
    design = pd.read_csv(out / "design.csv")
    assert design[["panel", "reference"]].values.tolist() == [["p1", "authors_c"]]
    assert (design["design_columns"].iloc[0], design["design_depths"].iloc[0]) == (3, 2)
    assert "design_bias" in shape.columns
    kt = pd.read_csv(out / "kt.csv")
    assert kt["step"].tolist() == [5, 10, 15] and {"k_xi_c", "sigma_min_xi1_xi2", "shape_diff"} <= set(kt.columns)
    assert shape.loc["p1", "last_step"] == 15 and shape.loc["p1", "settle_step"] in (-1, 5, 10, 15)  # -1: no finite final shape on 3 columns
    # depth_sweep.level sets the intervals' level: the same resamples at 50 % give narrower k intervals
    assert head["interval"] == 0.95 and (shape["level"] == 0.95).all()
    k95 = fit.set_index(["panel", "candidate"])
    assert fit_depth_formula.main([*args[:-4], "--fit", _fit(50, level=0.5), *args[-2:], "--platform-cells", "none"]) == 0
    k50 = pd.read_csv(out / "fit.csv").set_index(["panel", "candidate"])
    assert (pd.read_csv(out / "shape.csv")["level"] == 0.5).all()
    assert json.loads((out / "headline.json").read_text())["interval"] == 0.5
    w95, w50 = (t.loc["authors_c", "k_high"] - t.loc["authors_c", "k_low"] for t in (k95, k50))
    assert (w95 > 0).all() and (w50 < w95).all()

    assert plot_depth_sweep.main(["--style", figure_style, "--panels", str(panel), "--heatmaps", str(out / "heat.png"), "--boundaries",
                                  str(out / "b.csv"), "--fit", str(out / "fit.csv"), "--phase-diagram", str(pdg),
                                  "--summary", str(out / "summary.png"), "--k-steps", str(out / "k_steps.csv"),
                                  "--k-steps-figure", str(out / "ksteps.png"), "--scale", "test"]) == 0
    for f in ("heat.png", "heat.pdf", "summary.png", "summary.pdf", "ksteps.png", "ksteps.pdf"):
        assert (out / f).stat().st_size > 1000


def test_missing_depth_scale_is_a_clean_error(tmp_path, data):
    assert train_depth_cell.main(_train_args(data, tmp_path, 2)) == 0
    panel = tmp_path / "panel.csv"
    assert collect_depth_sweep.main(["--cells", str(tmp_path / "d2/accuracy.csv"), "--cell-curves",
                                     str(tmp_path / "d2/curves.csv"), "--output", str(panel), "--curves",
                                     str(tmp_path / "c.csv")]) == 0
    pdg = tmp_path / "pd.csv"
    _phase_diagram(pdg, [1.0, 2.0])  # sw2 = 3.0 missing
    rc = fit_depth_formula.main(["--panels", str(panel), "--curves", str(tmp_path / "c.csv"), "--k-steps",
                                 str(tmp_path / "k.csv"), "--k-steps-table", str(tmp_path / "kt.csv"),
                                 "--design-check", str(tmp_path / "d.csv"), "--platform-cells", "none",
                                 "--platform-check", str(tmp_path / "p.csv"),
                                 "--reference-panels", str(REFERENCE), "--shape",
                                 str(tmp_path / "s.csv"), "--phase-diagram", str(pdg), "--boundaries",
                                 str(tmp_path / "b.csv"), "--output", str(tmp_path / "f.csv"), "--headline",
                                 str(tmp_path / "h.json"), "--fit", _fit(10)])
    assert rc == 2 and not (tmp_path / "f.csv").exists()


def test_speed_cli(tmp_path, data, figure_style):
    for depth, rho in ((2, 1.0), (3, 1.0), (2, 0.98)):
        assert measure_training_speed.main([
            "--train", str(data / "train.pt"), "--test", str(data / "test.pt"), "--output",
            str(tmp_path / f"s{depth}_{rho}.csv"), "--speed-rho", str(rho), "--depth", str(depth), "--speed", json.dumps(
                {"dataset": "synthetic", "width": 16, "sw2": 2.0, "sb2": 0.05, "init": "orthogonal", "batch": 32,
                 "lr_exponents": [0, 10], "seeds": [0], "max_steps": 20, "eval_every": 2, "fine_eval_steps": 5,
                 "target_accuracy": 0.25, "train_size": 0, "test_size": 0}),
            "--device", "cpu"]) == 0
    assert plot_training_speed.main(["--style", figure_style, "--tables", str(tmp_path / "s2_1.0.csv"), str(tmp_path / "s3_1.0.csv"),
                                     str(tmp_path / "s2_0.98.csv"), "--output",
                                     str(tmp_path / "steps.csv"), "--figure", str(tmp_path / "speed.png"),
                                     "--scale", "test"]) == 0
    df = pd.read_csv(tmp_path / "steps.csv")
    assert len(df) == 6 and np.allclose(df["lr_times_depth"], df["lr"] * df["depth"])
    assert sorted(df["rho"].unique()) == [0.98, 1.0]
    reached = df[df["reached"]]
    assert all(not math.isnan(v) for v in reached["steps_to_target"])
    assert (tmp_path / "speed.pdf").exists()


def test_rerun_of_one_cell_gives_identical_tables(tmp_path, data):
    # identical code and settings give identical tables on one machine: in this process and in a fresh one
    import subprocess
    import sys

    for run in ("a", "b"):
        assert train_depth_cell.main(_train_args(data, tmp_path / run, 2)) == 0
    args = _train_args(data, tmp_path / "c", 2)
    subprocess.run([sys.executable, "-m", "reproflow.cli.train_depth_cell", *args], check=True, capture_output=True)
    for name in ("accuracy.csv", "curves.csv"):
        first = (tmp_path / "a" / "d2" / name).read_bytes()
        assert first == (tmp_path / "b" / "d2" / name).read_bytes() == (tmp_path / "c" / "d2" / name).read_bytes()
    side = json.loads((tmp_path / "a" / "d2" / "accuracy.csv.run.json").read_text())
    assert {"cpu", "cpu_capability", "torch_build", "threads"} <= set(side["platform"])
