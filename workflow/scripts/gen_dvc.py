"""Generate dvc.yaml: one stage per (phase, scale), deps derived from the code each stage runs.

A stage ``<phase>_<scale>`` runs the phase's Snakemake target at that scale (params.yaml plus the
scale's overlay, config/<scale>.yaml). Its deps are every source file the phase's CLIs import (read from
the imports by :mod:`reproflow.deps`, never listed by hand), the rules and schemas the workflow reads,
and the upstream phases' outputs; its params are the params.yaml and overlay sections the phase reads.

    .venv/bin/python workflow/scripts/gen_dvc.py          # rewrite dvc.yaml
    .venv/bin/python workflow/scripts/gen_dvc.py --check  # exit 1 if dvc.yaml is stale (a test runs this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))  # noqa: E402 - run as a plain script from the repo root

import yaml  # noqa: E402

from reproflow.catalogue import Catalogue  # noqa: E402
from reproflow.config import load_config  # noqa: E402
from reproflow.deps import module_files  # noqa: E402
from reproflow.io import generated_main  # noqa: E402
from reproflow.report.plotdata import PLOT_ATTACKS, TRAINABILITY_COLUMNS  # noqa: E402

OUT = ROOT / "dvc.yaml"
# scale -> overlay (None: params.yaml alone)
SCALES = {"paper": None, "cpu": "config/cpu.yaml", "quick": "config/quick.yaml", "tiny": "config/tiny.yaml"}
# phase -> upstream phases whose outputs it reads
UPSTREAM = {
    "data": [],
    "pretrain": ["data"],
    "attack": ["data", "pretrain"],
    "advtrain": ["data", "pretrain"],
    "meanfield": [],
    "depth_sweep": ["data", "meanfield"],
    "report": ["attack", "advtrain", "meanfield", "depth_sweep"],
}
# phase -> the config keys (top-level or dotted) its jobs read; results_root names the outputs
PARAMS = {
    "data": ["results_root", "data_root", "data"],
    "pretrain": ["results_root", "device", "pretrain"],
    "attack": ["results_root", "device", "attack", "pretrain.datasets", "pretrain.seeds"],
    "advtrain": ["results_root", "device", "advtrain", "attack", "pretrain.datasets", "pretrain.seeds"],
    "meanfield": ["results_root", "device", "meanfield"],
    "depth_sweep": ["results_root", "device", "depth_sweep", "data.datasets"],
    "report": ["results_root", "scale", "report"],
}
# modules the Snakefile itself imports (config validation, flags, code digests)
WORKFLOW_MODULES = ["reproflow.config", "reproflow.deps", "reproflow.cli._base", "reproflow.catalogue"]


def rel(p: Path) -> str:
    return str(p.resolve().relative_to(ROOT))


def phase_clis(phase: str) -> list[str]:
    text = (ROOT / "workflow" / "rules" / f"{phase}.smk").read_text()
    return sorted(set(re.findall(r"python -m reproflow\.cli\.(\w+)", text)))


def phase_deps(phase: str) -> list[str]:
    files: set[str] = set()
    for mod in [f"reproflow.cli.{c}" for c in phase_clis(phase)] + WORKFLOW_MODULES:
        files.update(rel(p) for p in module_files(mod))
    files.update(["Snakefile", "workflow/rules/common.smk", f"workflow/rules/{phase}.smk"])
    files.update(rel(p) for p in (ROOT / "workflow" / "schemas").glob("*.schema.yaml"))
    report = ROOT / "workflow" / "report" / phase
    if report.is_dir():
        files.add(rel(report))
    files.update(["workflow/scripts/dvc_phase.sh", "pyproject.toml"])
    return sorted(files)


def phase_datasets(cfg: dict, phase: str) -> list[str] | None:
    """The prepared datasets a phase reads (None: it reads no dataset folder, or all of them)."""
    if phase in ("pretrain", "attack", "advtrain"):
        return list(cfg["pretrain"]["datasets"])
    if phase == "depth_sweep":
        ds = cfg["depth_sweep"]
        return sorted({p["dataset"] for p in ds["panels"]} | {ds["speed"]["dataset"]})
    return None


def upstream_outputs(cfg: dict, out: Catalogue, upstream: str, phase: str) -> list[str]:
    """An upstream phase's outputs a stage depends on: of the data phase, only the datasets it reads."""
    datasets = phase_datasets(cfg, phase) if upstream == "data" else None
    if datasets is None:
        return [out.phase(upstream).dir]
    return out.data.expand(["dataset"], dataset=datasets)


def draws_figures(phase: str) -> bool:
    """Whether a phase has plotting rules (they read the figure style, params.yaml ``figures``)."""
    return any(c.startswith("plot_") for c in phase_clis(phase))


def phase_params(phase: str) -> list[str]:
    return PARAMS[phase] + (["figures"] if draws_figures(phase) else [])


def resource_files(cfg: dict, phase: str) -> list[str]:
    """Files of the repository that a phase's settings name (e.g. the authors' vendored Fig. 7 data under
    workflow/resources/, the figure style of a phase that draws figures): a stage depends on them like on
    its code."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str) and node.startswith("workflow/resources/") and (ROOT / node).is_file():
            found.append(node)

    walk(cfg.get(phase, {}))
    if draws_figures(phase):
        walk(cfg["figures"])
    return sorted(set(found))


def has_key(cfg: dict, dotted: str) -> bool:
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def generate() -> str:
    stages: dict[str, dict] = {}
    metrics: list[str] = []
    plots: list[dict] = []
    for scale, overlay in SCALES.items():
        merged = load_config(ROOT / "params.yaml", *([ROOT / overlay] if overlay else []))
        over = load_config(ROOT / overlay) if overlay else {}
        out = Catalogue(merged["results_root"])
        for phase in UPSTREAM:
            cmd = f"bash workflow/scripts/dvc_phase.sh {phase}_all" + (f" --configfile {overlay}" if overlay else "")
            params: list = [{"params.yaml": phase_params(phase)}]
            if overlay:
                keys = [k for k in phase_params(phase) if has_key(over, k)]
                if keys:
                    params.append({overlay: keys})
            deps = (
                phase_deps(phase)
                + resource_files(merged, phase)
                + [d for u in UPSTREAM[phase] for d in upstream_outputs(merged, out, u, phase)]
            )
            stages[f"{phase}_{scale}"] = {"cmd": cmd, "deps": deps, "params": params, "outs": [out.phase(phase).dir]}
        metrics += out.metrics()
        plots += [
            {
                out.report.path("plot_accuracy_vs_eps"): {
                    "x": "eps",
                    "y": list(PLOT_ATTACKS),
                    "template": "linear",
                    "title": f"robust accuracy against eps ({scale} scale)",
                    "x_label": "eps (l_inf radius)",
                    "y_label": "robust accuracy (standard model, mean over seeds)",
                }
            },
            {
                out.report.path("plot_trainability"): {
                    "x": "sw2",
                    "y": list(TRAINABILITY_COLUMNS[1:]),
                    "template": "linear",
                    "title": f"trainable depth against sw2 ({scale} scale)",
                    "x_label": "sw2 (weight variance)",
                    "y_label": "trainable depth L",
                }
            },
        ]
    head = (
        "# GENERATED by workflow/scripts/gen_dvc.py from the rules and the imports of their CLIs; do not edit.\n"
        "# One stage per (phase, scale): `dvc repro report_quick` runs the quick scale end to end, never\n"
        "# touching paper-scale outputs. Each cmd runs the phase's Snakemake target; DVC decides WHAT is\n"
        "# stale (deps, params) and removes the stage's outputs, Snakemake rebuilds them.\n"
    )
    body = yaml.safe_dump({"stages": stages, "metrics": metrics, "plots": plots}, sort_keys=False, width=120)
    return head + body


if __name__ == "__main__":
    raise SystemExit(generated_main(__doc__, OUT, generate, "python workflow/scripts/gen_dvc.py"))
