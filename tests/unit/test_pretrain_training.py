"""Pretraining loops: kill-and-resume equals an uninterrupted run, SSIM against scikit-image, metric ranges, CLIs."""

import json

import pytest
import torch

from reproflow.attacks.suite import generator_optimizer
from reproflow.data.rotate import rotate
from reproflow.data.store import load_split, save_split
from reproflow.errors import UserError
from reproflow.models import RotationOracle, load_classifier, load_generator, load_manipulator
from reproflow.models._ckpt import freeze
from reproflow.settings.sections import PretrainGenerator, PretrainSgd
from reproflow.training.classifier import ClassifierSettings, train_classifier
from reproflow.training.generator import train_generator
from reproflow.training.loop import ssim
from reproflow.training.manipulator import ManipulatorSettings, train_manipulator

torch.set_num_threads(1)

SGD = PretrainSgd(momentum=0.9, nesterov=True)
CLF = ClassifierSettings("smallcnn", 3, 16, "adam", 0.002, 0.0, "crop_flip")
MAN = ManipulatorSettings(8, 4, 3, 16, 0.002, 0.01, 1.0, 1.0)
GEN = PretrainGenerator(manipulator="oracle", steps=2, step_fraction=0.5, z_dim=8, width=4, epochs=3, batch_size=16,
                        lr=0.01, adam_beta1=0.5, adam_beta2=0.999, grad_clip=1.0, adv_weight=1.0, div_weight=1.0)
GEN_EPS = 0.2
EVAL = 512  # held-out evaluation batch


def _payload(n, seed, split):
    """Bars whose position encodes the class (4 classes), rotated in +-40 deg: a tiny *_rot split."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 4
    orig = torch.zeros(n, 1, 16, 16)
    for i, c in enumerate(labels.tolist()):
        orig[i, 0, 3:13, 2 + 3 * c : 4 + 3 * c] = 1.0
    angles = (torch.rand(n, generator=g) * 2 - 1) * 40
    imgs = rotate(orig, angles)
    u8 = lambda t: (t * 255).round().clamp(0, 255).to(torch.uint8)  # noqa: E731
    meta = {"name": "toy_rot", "source": "test", "split": split, "num_classes": 4, "channels": 1, "size": 16,
            "attribute_name": "rotation_deg", "attribute_range": [-40.0, 40.0], "seed": seed}
    return {"images": u8(imgs), "labels": labels, "attributes": (angles + 40) / 80, "angles": angles,
            "originals": u8(orig), "meta": meta}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    save_split(d / "train.pt", _payload(48, 0, "train"))
    save_split(d / "test.pt", _payload(24, 1, "test"))
    return d, load_split(d / "train.pt"), load_split(d / "test.pt")


@pytest.fixture(scope="module")
def clf(data):
    _, train, test = data
    torch.manual_seed(0)
    model, _, _ = train_classifier(train, test, CLF, SGD, 0, torch.device("cpu"), None, "toy_rot", EVAL)
    return freeze(model, "cpu")


class Killed(Exception):
    pass


def _kill_after(k):
    def hook(epoch):
        if epoch == k:
            raise Killed

    return hook


def _train(kind, data, clf, ckpt, hook=None, init_seed=123):
    _, train, test = data
    torch.manual_seed(init_seed)
    cpu = torch.device("cpu")
    if kind == "classifier":
        return train_classifier(train, test, CLF, SGD, 0, cpu, ckpt, "toy_rot", EVAL, on_epoch_end=hook)
    if kind == "manipulator":
        return train_manipulator(train, test, clf, MAN, 0, cpu, ckpt, "toy_rot", EVAL, on_epoch_end=hook)
    return train_generator(train, test, clf, RotationOracle((-40, 40)), GEN, GEN_EPS, 0, cpu, ckpt, "toy_rot", EVAL,
                           on_epoch_end=hook)


@pytest.mark.parametrize("kind", ["classifier", "manipulator", "generator"])
def test_kill_and_resume_gives_same_weights(tmp_path, data, clf, kind):
    ref, ref_rows, ref_metrics = _train(kind, data, clf, tmp_path / "a.ckpt")
    with pytest.raises(Killed):
        _train(kind, data, clf, tmp_path / "b.ckpt", hook=_kill_after(2))
    assert (tmp_path / "b.ckpt").exists()
    # another initialisation seed: equal weights below can only come from the restored checkpoint
    resumed, rows, metrics = _train(kind, data, clf, tmp_path / "b.ckpt", hook=lambda e: None, init_seed=999)
    for (k, v), v2 in zip(ref.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(v, v2), k
    assert rows == ref_rows
    assert metrics == ref_metrics
    assert [r["epoch"] for r in rows if r["metric"] == rows[0]["metric"]] == [1, 2, 3]


def test_checkpoint_from_other_config_is_user_error(tmp_path, data, clf):
    with pytest.raises(Killed):
        _train("classifier", data, clf, tmp_path / "c.ckpt", hook=_kill_after(1))
    _, train, test = data
    other = ClassifierSettings("smallcnn", 5, 16, "adam", 0.002, 0.0, "none")
    with pytest.raises(UserError, match="different configuration"):
        train_classifier(train, test, other, SGD, 0, torch.device("cpu"), tmp_path / "c.ckpt", "toy_rot", EVAL)


def test_ssim_matches_skimage():
    from skimage.metrics import structural_similarity

    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, 28, 28, generator=g)
    y = (x + 0.2 * torch.randn(3, 1, 28, 28, generator=g)).clamp(0, 1)
    ours = ssim(x, y)
    for i in range(3):
        ref = structural_similarity(x[i, 0].double().numpy(), y[i, 0].double().numpy(), data_range=1.0,
                                    gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        assert abs(float(ours[i]) - ref) < 1e-4
    torch.testing.assert_close(ssim(x, x), torch.ones(3))


def test_metrics_are_rates_and_generator_respects_eps(data, clf):
    _, train, test = data
    cpu = torch.device("cpu")
    _, _, mm = train_manipulator(train, test, clf, MAN, 0, cpu, None, "toy_rot", EVAL)
    for k in ("label_preservation", "oracle_label_preservation", "clean_accuracy", "recon_accuracy"):
        assert 0 <= mm[k] <= 1
    assert -1 <= mm["edit_ssim"] <= 1 and mm["attribute_mae_deg"] == pytest.approx(80 * mm["attribute_mae"])
    _, rows, gm = train_generator(train, test, clf, RotationOracle((-40, 40)), GEN, GEN_EPS, 0, cpu, None, "toy_rot", EVAL)
    for k in ("attack_success", "semantic_success", "noise_success"):
        assert 0 <= gm[k] <= 1
    assert 0 <= gm["delta_diversity"] <= 2 + 1e-6
    assert {r["model"] for r in rows} == {"generator"}


def test_clis_write_outputs_and_remove_checkpoints(tmp_path, data, figure_style):
    from reproflow.cli import build_oracle, collect_pretrain, plot_pretrain
    from reproflow.cli import train_classifier as c_cli
    from reproflow.cli import train_generator as g_cli
    from reproflow.cli import train_manipulator as m_cli

    d, _, _ = data
    out, ck = tmp_path / "seed~0", tmp_path / "ckpt"
    common = ["--train", str(d / "train.pt"), "--test", str(d / "test.pt"), "--dataset", "toy_rot", "--seed", "0",
              "--device", "cpu", "--evaluation", json.dumps({"eval_batch_size": 64})]
    assert c_cli.main(common + ["--output", str(out / "classifier.pt"), "--metrics", str(out / "classifier_metrics.json"),
                                "--curve", str(out / "classifier_curve.csv"), "--checkpoint", str(ck / "c.ckpt"),
                                "--classifier", json.dumps({"arch": "smallcnn", "epochs": 2, "batch_size": 16,
                                                            "optimizer": "sgd", "lr": 0.05, "weight_decay": 0.0005,
                                                            "augment": "flip"}),
                                "--sgd", json.dumps({"momentum": 0.9, "nesterov": True})]) == 0
    assert build_oracle.main(["--train", str(d / "train.pt"), "--output", str(out / "oracle.pt"), "--dataset", "toy_rot"]) == 0
    assert m_cli.main(common + ["--subset", json.dumps({"max_train": 0}), "--classifier", str(out / "classifier.pt"), "--output", str(out / "manipulator.pt"),
                                "--metrics", str(out / "manipulator_metrics.json"), "--curve", str(out / "manipulator_curve.csv"),
                                "--checkpoint", str(ck / "m.ckpt"),
                                "--manipulator", json.dumps({"latent_dim": 8, "width": 4, "epochs": 1, "batch_size": 16,
                                                             "lr": 0.002, "msp_weight": 0.01, "label_weight": 1,
                                                             "edit_weight": 1})]) == 0
    assert g_cli.main(common + ["--subset", json.dumps({"max_train": 24}), "--classifier", str(out / "classifier.pt"), "--manipulator", str(out / "oracle.pt"),
                                "--output", str(out / "generator.pt"), "--metrics", str(out / "generator_metrics.json"),
                                "--curve", str(out / "generator_curve.csv"), "--checkpoint", str(ck / "g.ckpt"),
                                "--eps", json.dumps({"eps_grid": {"toy_rot": [0.05, 0.1]}}), "--generator", json.dumps({
                                    "manipulator": "oracle", "steps": 2, "step_fraction": 0.5, "z_dim": 8, "width": 4,
                                    "epochs": 1, "batch_size": 16, "lr": 0.01, "adam_beta1": 0.5, "adam_beta2": 0.999,
                                    "grad_clip": 1.0, "adv_weight": 1, "div_weight": 1})]) == 0
    assert not any(ck.glob("*.ckpt"))
    assert load_classifier(out / "classifier.pt").meta["test_accuracy"] == json.loads((out / "classifier_metrics.json").read_text())["test_accuracy"]
    assert isinstance(load_manipulator(out / "oracle.pt"), RotationOracle)
    assert load_generator(out / "generator.pt").meta["eps"] == 0.1
    assert generator_optimizer(load_generator(out / "generator.pt")) == {"adam_beta1": 0.5, "adam_beta2": 0.999,
                                                                         "grad_clip": 1.0}  # what a refit continues with
    assert (out / "generator.pt.run.json").exists()
    models = ("classifier", "manipulator", "generator")
    assert collect_pretrain.main([
        "--test", str(d / "test.pt"), "--manipulator", str(out / "manipulator.pt"), "--oracle", str(out / "oracle.pt"),
        "--curves-in", *[str(out / f"{m}_curve.csv") for m in models],
        "--metrics-in", *[str(out / f"{m}_metrics.json") for m in models], "--dataset", "toy_rot",
        "--table", str(tmp_path / "metrics.csv"), "--curves", str(tmp_path / "curves.csv"),
        "--sweep", str(tmp_path / "sweep.npz"), "--grid", json.dumps({"grid_rows": 3, "grid_steps": 3})]) == 0
    import numpy as np
    import pandas as pd

    table = pd.read_csv(tmp_path / "metrics.csv")
    assert list(table.columns) == ["phase", "dataset", "model", "seed", "metric", "value"]
    assert set(table["model"]) == set(models)
    assert set(pd.read_csv(tmp_path / "curves.csv")["model"]) == set(models)
    with np.load(tmp_path / "sweep.npz") as z:
        assert z["learned"].shape[:2] == z["oracle"].shape[:2] == (3, 3)
        assert z["learned"].min() >= 0 and z["learned"].max() <= 1 and len(z["column_labels"]) == 3
    # the figures come from those tables alone: the models may be gone
    for m in ("manipulator", "oracle"):
        (out / f"{m}.pt").unlink()
    assert plot_pretrain.main([
        "--style", figure_style, "--curves", str(tmp_path / "curves.csv"), "--sweep", str(tmp_path / "sweep.npz"),
        "--dataset", "toy_rot", "--curves-figure", str(tmp_path / "curves.png"),
        "--grid-figure", str(tmp_path / "grid.png")]) == 0
    assert all((tmp_path / f).exists() for f in ("curves.png", "curves.pdf", "grid.png", "grid.pdf", "metrics.md"))


def test_missing_classifier_is_clean_error(tmp_path, data):
    from reproflow.cli import train_manipulator as m_cli

    d, _, _ = data
    rc = m_cli.main(["--train", str(d / "train.pt"), "--test", str(d / "test.pt"), "--classifier", str(tmp_path / "nope.pt"),
                     "--output", str(tmp_path / "m.pt"), "--metrics", str(tmp_path / "m.json"), "--curve", str(tmp_path / "m.csv"),
                     "--checkpoint", str(tmp_path / "m.ckpt"), "--dataset", "toy_rot", "--seed", "0", "--device", "cpu",
                     "--manipulator", json.dumps({"latent_dim": 8, "width": 4, "epochs": 1, "batch_size": 16, "lr": 0.002,
                                                  "msp_weight": 0.01, "label_weight": 1, "edit_weight": 1}),
                     "--evaluation", json.dumps({"eval_batch_size": 64}), "--subset", json.dumps({"max_train": 0})])
    assert rc == 2
