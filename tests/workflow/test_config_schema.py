"""The strict config schema: a table of bad configs, each rejected with its key named."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from reproflow.config import deep_merge, load_config, load_yaml, validate_config
from reproflow.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "workflow" / "schemas"


def _paper():
    return load_config(REPO / "params.yaml")


@pytest.mark.parametrize("overlay", [None, "config/quick.yaml", "config/tiny.yaml", "config/smoke.yaml"])
def test_shipped_configs_are_valid(overlay):
    cfg = load_config(REPO / "params.yaml", *( [REPO / overlay] if overlay else []))
    validate_config(cfg, SCHEMAS)


def _set(cfg, dotted, value):
    node = cfg
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return cfg


_DELETE = object()

# (edit as dotted key -> value, key that the message must name)
BAD = [
    ("bogus_key", 1, "bogus_key"),
    ("data.bogus", True, "data.bogus"),
    ("data.rotation_deg.bogus_rot", 10, "data.rotation_deg.bogus_rot"),
    ("device", "tpu", "device"),
    ("gpus_per_job", -1, "gpus_per_job"),
    ("gpus_per_job", "one", "gpus_per_job"),
    ("scale", "huge", "scale"),
    ("results_root", "", "results_root"),
    ("data.datasets", [], "data.datasets"),
    ("data.datasets", ["mnist", "imagenet"], "data.datasets[1]"),
    ("data.datasets", ["celeba_rot"], "data.datasets[0]"),
    ("data.download", "yes", "data.download"),
    ("data.seed", -3, "data.seed"),
    ("data.seed", 1.5, "data.seed"),
    ("data.rotation_deg.mnist_rot", 0, "data.rotation_deg.mnist_rot"),
    ("data.rotation_deg.cifar10_rot", 270, "data.rotation_deg.cifar10_rot"),
    ("data.digits_test_fraction", 1.0, "data.digits_test_fraction"),
    ("data.max_train", -1, "data.max_train"),
    ("data.celeba_size", 4, "data.celeba_size"),
    ("data.sample_grid", 0, "data.sample_grid"),
    ("data.seed", _DELETE, "data.seed"),
]


@pytest.mark.parametrize("key,value,named", BAD, ids=[f"{b[0]}={b[1] if b[1] is not _DELETE else 'missing'}" for b in BAD])
def test_bad_config_names_the_key(key, value, named):
    cfg = _set(copy.deepcopy(_paper()), key, value)
    with pytest.raises(UserError) as err:
        validate_config(cfg, SCHEMAS)
    assert f"'{named}'" in str(err.value), str(err.value)


def _phase_bad_cases():
    """Per-phase bad values: every grid must be non-empty, every eps >= 0, every keep prob in (0, 1]."""
    cfg = _paper()
    cases = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list) and path.split(".")[-1].endswith(("_grid", "seeds", "datasets")):
            cases.append((path, [], path))
            if node and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in node):
                if "eps" in path.split(".")[-1] or "rho" in path.split(".")[-1]:
                    cases.append((path + ".0", -0.1, path + "[0]"))
            if "rho" in path.split(".")[-1] and node:
                cases.append((path + ".0", 1.5, path + "[0]"))
        elif path.split(".")[-1] in ("rho", "eps") and isinstance(node, (int, float)):
            cases.append((path, -0.1 if path.endswith("eps") else 0.0, path))

    for phase in ("pretrain", "attack", "advtrain", "meanfield", "depth_sweep", "report"):
        walk(cfg.get(phase, {}), phase)
    return cases


@pytest.mark.parametrize("key,value,named", _phase_bad_cases())
def test_phase_grids_and_ranges_are_checked(key, value, named):
    cfg = _set(copy.deepcopy(_paper()), key, value)
    with pytest.raises(UserError) as err:
        validate_config(cfg, SCHEMAS)
    assert f"config key '{named.split('[')[0]}" in str(err.value), str(err.value)


def test_snakemake_stops_before_any_job_with_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  seed: -1\n")
    env_cache = tmp_path / "cache"
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", str(bad)],
        cwd=REPO, capture_output=True, text=True, env={"XDG_CACHE_HOME": str(env_cache), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "config key 'data.seed'" in out
    assert "Traceback" not in out


def test_deep_merge_overlays_nested_keys():
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    assert deep_merge(base, {"a": {"b": 5}, "d": [2]}) == {"a": {"b": 5, "c": 2}, "d": [2]}
    assert base["a"]["b"] == 1
    assert isinstance(load_yaml(REPO / "params.yaml"), dict)
