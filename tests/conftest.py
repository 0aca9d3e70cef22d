"""Shared test settings: one torch thread (2-core CI), opt-in slow tests."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def figure_style() -> str:
    """The figure style every plotting CLI takes (params.yaml figures.style)."""
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1] / "workflow" / "resources" / "figures.mplstyle")
