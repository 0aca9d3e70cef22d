"""Classifiers: shapes for every arch and size, input range handling, save/load round trip."""

import pytest
import torch

from reproflow.errors import UserError
from reproflow.models import ARCHS, build_classifier, load_classifier, save_classifier

torch.set_num_threads(1)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_logit_shape(arch, channels, size):
    torch.manual_seed(0)
    model = build_classifier(arch, channels, 10, size).eval()
    out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


def test_celeba_size_resnet18():
    model = build_classifier("resnet18", 3, 2, 64).eval()
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 2)


def test_unknown_arch_is_user_error():
    with pytest.raises(UserError, match="unknown classifier arch"):
        build_classifier("vgg", 1, 10, 28)


@pytest.mark.parametrize("arch", ["smallcnn", "resnet20"])
def test_save_load_round_trip(tmp_path, arch):
    torch.manual_seed(1)
    model = build_classifier(arch, 1, 10, 28).eval()
    x = torch.rand(3, 1, 28, 28)
    path = tmp_path / "c.pt"
    save_classifier(path, model, arch, 1, 10, 28, meta={"test_accuracy": 0.5})
    loaded = load_classifier(path, "cpu")
    assert not loaded.training
    assert all(not p.requires_grad for p in loaded.parameters())
    assert loaded.meta["test_accuracy"] == 0.5
    torch.testing.assert_close(loaded(x), model(x))


def test_load_wrong_kind_and_corrupt(tmp_path):
    from reproflow.models import RotationOracle, save_manipulator

    save_manipulator(tmp_path / "o.pt", RotationOracle((-40, 40)))
    with pytest.raises(UserError, match="expected one of classifier"):
        load_classifier(tmp_path / "o.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="corrupted"):
        load_classifier(tmp_path / "bad.pt")
