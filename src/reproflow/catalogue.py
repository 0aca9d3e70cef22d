"""The workflow's outputs, declared once per phase: every result path under a scale's results root.

The workflow layer's one place for paths (the library itself never composes them): each phase's rules file takes its
rule outputs, its ``<phase>_all`` targets and its readers' inputs from here, and so do the report tables,
``figures_all`` (through the ``<phase>_all`` lists) and ``workflow/scripts/gen_dvc.py``. Torch-free, so the
Snakefile and the DVC generator import it in a fraction of a second.

A path template holds Snakemake wildcards (``{dataset}``): ``Phase.path`` fills the ones it is given and keeps the
others, so one template serves as a rule's output (wildcards kept) and as a concrete target (all filled).

    out = Catalogue("results/quick")
    out.meanfield.path("phase_diagram")                       # results/quick/meanfield/phase_diagram.csv
    out.attack.path("metrics_job")                            # .../attack/dataset~{dataset}/seed~{seed}/metrics.csv
    out.attack.expand(["metrics_job"], dataset=["mnist_rot"], seed=[0, 1])
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PHASES = ("data", "pretrain", "attack", "advtrain", "meanfield", "depth_sweep", "report")

# phase -> {name: path under <root>/<phase>/, with Snakemake wildcards}
FILES: dict[str, dict[str, str]] = {
    "data": {
        "dataset": "dataset~{dataset}",  # one dataset's folder (a DVC stage reads only the datasets it uses)
        "train": "dataset~{dataset}/train.pt",
        "test": "dataset~{dataset}/test.pt",
        "train_manifest": "dataset~{dataset}/train.json",
        "test_manifest": "dataset~{dataset}/test.json",
        "samples_png": "dataset~{dataset}/samples.png",
        "samples_pdf": "dataset~{dataset}/samples.pdf",
        "check": "check_data.md",
    },
    "pretrain": {
        # {model}: classifier | manipulator | generator | generator_learned (the rules: generator{learned})
        "model": "dataset~{dataset}/seed~{seed}/{model}.pt",
        "model_metrics": "dataset~{dataset}/seed~{seed}/{model}_metrics.json",
        "model_curve": "dataset~{dataset}/seed~{seed}/{model}_curve.csv",
        "oracle": "dataset~{dataset}/oracle.pt",
        "metrics": "dataset~{dataset}/metrics.csv",
        "metrics_md": "dataset~{dataset}/metrics.md",
        "curves": "dataset~{dataset}/curves.csv",
        "manipulator_sweep": "dataset~{dataset}/manipulator_sweep.npz",
        "training_curves_png": "dataset~{dataset}/training_curves.png",
        "training_curves_pdf": "dataset~{dataset}/training_curves.pdf",
        "manipulator_grid_png": "dataset~{dataset}/manipulator_grid.png",
        "manipulator_grid_pdf": "dataset~{dataset}/manipulator_grid.pdf",
    },
    "attack": {
        "metrics_job": "dataset~{dataset}/seed~{seed}/metrics.csv",
        "outcomes_job": "dataset~{dataset}/seed~{seed}/outcomes.csv.gz",
        "attributes_job": "dataset~{dataset}/seed~{seed}/attributes.csv",
        "examples_job": "dataset~{dataset}/seed~{seed}/examples.npz",
        "metrics": "metrics.csv",
        "attributes": "attributes.csv",
        "summary": "summary.csv",
        "summary_md": "summary.md",
        "checks": "semantic_checks.csv",
        "checks_md": "semantic_checks.md",
        "t1": "claims/T1.csv",
        "t1_md": "claims/T1.md",
        "headline": "headline.json",
        "editor_gate": "claims/editor_gate.csv",
        "editor_gate_md": "claims/editor_gate.md",
        "accuracy_png": "accuracy_vs_eps.png",
        "accuracy_pdf": "accuracy_vs_eps.pdf",
        "attributes_png": "attribute_histogram.png",
        "attributes_pdf": "attribute_histogram.pdf",
        "examples_png": "dataset~{dataset}/examples.png",
        "examples_pdf": "dataset~{dataset}/examples.pdf",
    },
    "advtrain": {
        "classifier_job": "dataset~{dataset}/defence~{defence}/seed~{seed}/classifier.pt",
        "train_metrics_job": "dataset~{dataset}/defence~{defence}/seed~{seed}/train_metrics.json",
        "train_curve_job": "dataset~{dataset}/defence~{defence}/seed~{seed}/train_curve.csv",
        "metrics_job": "dataset~{dataset}/defence~{defence}/seed~{seed}/metrics.csv",
        "outcomes_job": "dataset~{dataset}/defence~{defence}/seed~{seed}/outcomes.csv.gz",
        "evaluations": "evaluations.csv",
        "matrix": "matrix.csv",
        "matrix_md": "matrix.md",
        "curves": "curves.csv",
        "t2": "claims/T2.csv",
        "t2_md": "claims/T2.md",
        "t2_plateau": "claims/T2_plateau.csv",
        "headline": "headline.json",
        "heatmap_png": "matrix_heatmap.png",
        "heatmap_pdf": "matrix_heatmap.pdf",
        "curves_png": "training_curves.png",
        "curves_pdf": "training_curves.pdf",
        "plateau_png": "plateau_curves.png",
        "plateau_pdf": "plateau_curves.pdf",
    },
    "meanfield": {
        "phase_diagram": "phase_diagram.csv",
        "critical_points": "critical_points.csv",
        "caption_checks": "caption_checks.csv",
        "forward_mc": "forward_mc.csv",
        "draws": "gradients/group~{mf_group}/draws.csv",
        "layers": "gradients/group~{mf_group}/layers.csv",
        "gia_draws": "gradients/group~{mf_group}/gia_draws.csv",
        "gradient_rates": "gradient_rates.csv",
        "gia_counterfactual": "gia_counterfactual.csv",
        "deep_layers": "deep_layers.csv",
        "universality": "universality.csv",
        "universality_points": "universality_points.csv",
        "headline": "headline.json",
        "figure_png": "figures/{mf_figure}.png",
        "figure_pdf": "figures/{mf_figure}.pdf",
    },
    "depth_sweep": {
        "cell_accuracy": "panel~{panel}/depth~{depth}/accuracy.csv",
        "cell_curves": "panel~{panel}/depth~{depth}/curves.csv",
        "platform_cell": "platform/panel~{panel}/depth~{depth}/accuracy.csv",
        "platform_cell_curves": "platform/panel~{panel}/depth~{depth}/curves.csv",
        "accuracy": "panel~{panel}/accuracy.csv",
        "accuracy_md": "panel~{panel}/accuracy.md",
        "curves": "panel~{panel}/curves.csv",
        "heatmap_png": "panel~{panel}/heatmap.png",
        "heatmap_pdf": "panel~{panel}/heatmap.pdf",
        "boundaries": "boundaries.csv",
        "formula_fit": "formula_fit.csv",
        "formula_fit_md": "formula_fit.md",
        "formula_shape": "formula_shape.csv",
        "k_steps": "k_steps.csv",
        "k_steps_table": "k_steps_table.csv",
        "design_check": "design_check.csv",
        "platform_check": "platform_check.csv",
        "headline": "headline.json",
        "formula_fit_png": "formula_fit.png",
        "formula_fit_pdf": "formula_fit.pdf",
        "k_steps_png": "k_steps.png",
        "k_steps_pdf": "k_steps.pdf",
        "speed_job": "speed/rho~{speed_rho}/depth~{depth}/steps.csv",
        "speed_steps": "speed/steps.csv",
        "speed_steps_md": "speed/steps.md",
        "speed_png": "speed/speed.png",
        "speed_pdf": "speed/speed.pdf",
    },
    "report": {
        "summary": "summary.csv",
        "summary_md": "summary.md",
        "metrics": "metrics.json",
        "plots": "plots",
        "plot_accuracy_vs_eps": "plots/accuracy_vs_eps",
        "plot_trainability": "plots/trainability",
        "table": "tables/{table}.html",
        "tables": "tables",
    },
}

# the phases' final tables the report reads (claim input -> (phase, name)); a table is read only when its
# phase's <phase>_all lists it
REPORT_TABLES: dict[str, tuple[str, str]] = {
    "t1": ("attack", "t1"),
    "t2": ("advtrain", "t2"),
    "phase_diagram": ("meanfield", "phase_diagram"),
    "gradient_rates": ("meanfield", "gradient_rates"),
    "universality": ("meanfield", "universality"),
    "captions": ("meanfield", "caption_checks"),
    "depth_boundaries": ("depth_sweep", "boundaries"),
    "depth_shape": ("depth_sweep", "formula_shape"),
    "attack_table": ("attack", "metrics"),
}
# the tables written out as documents (keys: reproflow.report.results.TABLES) -> (phase, name)
RESULT_TABLES: dict[str, tuple[str, str]] = {
    "summary": ("report", "summary"),
    "t1": ("attack", "t1"),
    "editor_gate": ("attack", "editor_gate"),
    "t2": ("advtrain", "t2"),
    "t2_plateau": ("advtrain", "t2_plateau"),
    "defence_matrix": ("advtrain", "matrix"),
    "fig1_captions": ("meanfield", "caption_checks"),
    "gradient_rates": ("meanfield", "gradient_rates"),
    "universality": ("meanfield", "universality"),
    "depth_fit": ("depth_sweep", "formula_fit"),
    "depth_shape": ("depth_sweep", "formula_shape"),
    "depth_design": ("depth_sweep", "design_check"),
    "depth_platform": ("depth_sweep", "platform_check"),
    "depth_k_steps": ("depth_sweep", "k_steps_table"),
}
# the phases that write a headline.json (the numbers `dvc metrics show` lists beside the report's)
HEADLINE_PHASES = ("attack", "advtrain", "meanfield", "depth_sweep")


class _KeepMissing(dict[str, str]):
    """format_map's mapping that leaves a wildcard it is not given as ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def wildcards_of(template: str) -> list[str]:
    """The wildcard names of a path template, in order of appearance."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@dataclass(frozen=True)
class Phase:
    """One phase's outputs under one results root."""

    root: str
    name: str

    @property
    def dir(self) -> str:
        """The phase's folder (DVC's stage output)."""
        return f"{self.root}/{self.name}"

    def path(self, key: str, **wildcards: object) -> str:
        """The output ``key``, with the given wildcards filled and the others kept as ``{name}``."""
        try:
            template = FILES[self.name][key]
        except KeyError:
            raise KeyError(f"no output {key!r} in phase {self.name!r} (reproflow.catalogue.FILES)") from None
        return f"{self.dir}/" + template.format_map(_KeepMissing({k: str(v) for k, v in wildcards.items()}))

    def expand(self, keys: Iterable[str], **values: Iterable[object]) -> list[str]:
        """Every output of ``keys`` over the product of the given values of its wildcards (each must be given)."""
        lists = {k: list(v) for k, v in values.items()}
        out: list[str] = []
        for key in keys:
            names = wildcards_of(FILES[self.name][key])
            missing = [n for n in names if n not in lists]
            if missing:
                raise KeyError(f"output {self.name}.{key} needs values for {missing}")
            for combo in itertools.product(*(lists[n] for n in names)):
                out.append(self.path(key, **dict(zip(names, combo, strict=True))))
        return out


class Catalogue:
    """Every phase's outputs under a scale's results root (``results_root`` of the config)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.data = Phase(root, "data")
        self.pretrain = Phase(root, "pretrain")
        self.attack = Phase(root, "attack")
        self.advtrain = Phase(root, "advtrain")
        self.meanfield = Phase(root, "meanfield")
        self.depth_sweep = Phase(root, "depth_sweep")
        self.report = Phase(root, "report")

    def phase(self, name: str) -> Phase:
        if name not in PHASES:
            raise KeyError(f"no phase {name!r}; phases: {', '.join(PHASES)}")
        return Phase(self.root, name)

    def tables(self, which: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        """A table list (:data:`REPORT_TABLES`, :data:`RESULT_TABLES`) as paths."""
        return {k: self.phase(ph).path(name) for k, (ph, name) in which.items()}

    def metrics(self) -> list[str]:
        """The JSON metrics files DVC lists: the report's, then each phase's headline."""
        return [self.report.path("metrics")] + [self.phase(p).path("headline") for p in HEADLINE_PHASES]
