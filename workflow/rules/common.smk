# Helpers shared by every phase: config validation, paths, CLI argument formatting.
#
# What a job depends on, as Snakemake sees it (docs/design.md, "Rules"):
#   - files: input/output (paths reach the CLI through `paths=lambda w, input, output: cli_args(...)`,
#     a derived param: Snakemake tracks the files themselves);
#   - settings: `flags=lambda w: cli_args(key=config value, ...)`, plain values named as in params.yaml,
#     recorded by Snakemake, so editing a value re-runs exactly the jobs that read it (params trigger);
#   - code: `code=code_of("<rule>")`, a digest of the CLI module and every reproflow module it imports,
#     so editing library code re-runs the rules that run it (params trigger, computed in ~0.5 s).
from dataclasses import fields
from pathlib import Path

from snakemake.exceptions import WorkflowError

from reproflow.cli._base import (
    format_flags as cli_args,
)  # kwargs -> "--flag value ..." (used by every rule)
from reproflow.cli._base import put_interpreter_on_path
from reproflow import catalogue
from reproflow.catalogue import Catalogue
from reproflow.config import validate_config
from reproflow.deps import (
    cli_digest as code_of,
)  # rule name -> digest of the code its jobs run
from reproflow import vocab
from reproflow.errors import UserError
from reproflow.settings import derived, group, load
from reproflow.settings import sections
from reproflow.settings.sections import (
    AdvtrainEvaluation,
    AdvtrainFit,
    AdvtrainRoster,
    AdvtrainSeeds,
    AttackAblation,
    AttackCollect,
    AttackEps,
    AttackEvaluation,
    AttackSelection,
    AttackSuite,
    DataPrepare,
    DataSamples,
    PretrainEvaluation,
    PretrainGrid,
    PretrainSubset,
    PretrainSweep,
    Section,
)

try:
    validate_config(config, Path(workflow.basedir).joinpath("workflow", "schemas"))
except UserError as _exc:
    raise WorkflowError(f"invalid config: {_exc}") from None

# The merged config as typed sections: derived values (headline eps, judge seed, ...) come from the library
S = load(Section, config)

# Jobs run `python -m reproflow.cli...`: make that the interpreter that runs Snakemake (the
# project's .venv), whatever PATH the user's shell has.
put_interpreter_on_path()

# Every output lives under the scale's results root (paper: results/, quick: results/quick/, ...)
R = config["results_root"]
# Every phase's outputs, declared once (reproflow.catalogue): rule outputs, <phase>_all, report tables, dvc.yaml
OUT = Catalogue(R)
# The learned attribute editor's seed: one MSP manipulator per dataset (the paper's pretrained manipulator), trained
# at max(pretrain.seeds) + 1 with that seed's clean classifier for label preservation, so the classifier it preserves
# labels against is neither attacked nor a judge (reproflow.settings.derived.editor_seed)
EDITOR_SEED = derived.editor_seed(S.pretrain.seeds)
DEVICE = config["device"]
# GPUs requested from a scheduler by the heavy (GPU-capable) rules; 0 at the CPU scales.
GPUS = config["gpus_per_job"]
# The figure style (sizes, fonts, palette, DPI): an input of every plotting rule, so an edit re-renders figures only
FIG_STYLE = config["figures"]["style"]
# The phases' sections as the rules read them (defined here, so every helper below reads only this file)
DATA = config["data"]
PRE = config["pretrain"]
ATT = config["attack"]
ADV = config["advtrain"]
MF = config["meanfield"]
DS = config["depth_sweep"]
PANELS = {p["name"]: p for p in DS["panels"]}
# one measure_gradients job per (role, activation): the runs of one figure panel share a job (and its start-up);
# editing a run re-runs its group only
_MF_RUNS = {r["name"]: r for r in MF["gradients"]["runs"]}
MF_GROUPS = {
    group: [_MF_RUNS[name] for name in names]
    for group, names in derived.gradient_groups(S.meanfield).items()
}


def MF_GRADIENTS(table):
    """One gradient table (draws | layers | gia_draws) of every measure_gradients group."""
    return OUT.meanfield.expand([table], mf_group=MF_GROUPS)


def settings_of(group, section):
    """The keys of a config ``section`` (plain values) that a generated group class holds (a schema ``x-group``, e.g.
    ``"MeanfieldTheory"`` of ``MF``): what a job reads of the section, handed to its CLI as one JSON value, so the job
    records exactly those values and an edit re-runs only their readers."""
    return {f.name: section[f.name] for f in fields(getattr(sections, group))}


def log_path(phase, name):
    return f"{R}/logs/{phase}/{name}.log"


def bench_path(phase, name):
    return f"{R}/benchmarks/{phase}/{name}.tsv"


# ---- pretrain phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def pretrain_model(dataset, seed, name):
    """Path of a pretrained model file (name: classifier | oracle | manipulator | generator | generator_learned);
    the exact rotation oracle has no weights and is one per dataset; the learned manipulator is one per dataset too,
    the editor seed's (``seed`` is ignored for both)."""
    if name == "oracle":
        return OUT.pretrain.path("oracle", dataset=dataset)
    if name == "manipulator":
        # one learned editor per dataset, trained at the editor seed (outside the attacked seeds)
        seed = EDITOR_SEED
    return OUT.pretrain.path("model", dataset=dataset, seed=seed, model=name)


def pretrain_generator(dataset, seed, editor_kind):
    """The pretrained noise generator trained through editor_kind (oracle | learned), the editor its user edits with."""
    return pretrain_model(
        dataset, seed, derived.generator_model(S.pretrain, dataset, editor_kind)
    )


def pretrain_has_oracle(dataset):
    return derived.has_oracle(dataset)


def pretrain_settings(section, dataset):
    """The typed pretrain.<section>.<dataset> (PretrainClassifier, PretrainManipulator, PretrainGenerator)."""
    try:
        return getattr(S.pretrain, section)[dataset]
    except KeyError:
        raise WorkflowError(
            f"config key 'pretrain.{section}.{dataset}' is missing: every dataset in pretrain.datasets "
            f"needs settings in pretrain.{section}"
        ) from None


def generator_manipulator(wildcards):
    # generator_learned.pt: always through the learned MSP editor
    if wildcards.learned:
        return pretrain_model(wildcards.dataset, wildcards.seed, "manipulator")
    kind = pretrain_settings("generator", wildcards.dataset).manipulator
    if kind == "oracle" and not pretrain_has_oracle(wildcards.dataset):
        raise WorkflowError(
            f"config key 'pretrain.generator.{wildcards.dataset}.manipulator': 'oracle' needs a rotated (*_rot) dataset; use msp"
        )
    return pretrain_model(
        wildcards.dataset,
        wildcards.seed,
        "oracle" if kind == "oracle" else "manipulator",
    )


def _pretrain_collect_inputs(wildcards):
    d, seeds = wildcards.dataset, PRE["seeds"]
    out = {
        "test": OUT.data.path("test", dataset=d),
        "manipulator": pretrain_model(d, seeds[0], "manipulator"),
        # per attacked seed: classifier and generator; the one learned editor at the editor seed (its label
        # classifier, seed EDITOR_SEED's, is a helper: not in the tables)
        "curves_in": OUT.pretrain.expand(
            ["model_curve"], dataset=[d], seed=seeds, model=["classifier", "generator"]
        )
        + [
            OUT.pretrain.path(
                "model_curve", dataset=d, seed=EDITOR_SEED, model="manipulator"
            )
        ],
        # the learned-editor generator's metrics too (its diversity figures); curves: the primary models only
        "metrics_in": OUT.pretrain.expand(
            ["model_metrics"],
            dataset=[d],
            seed=seeds,
            model=["classifier"]
            + derived.generator_models(S.pretrain, S.attack, S.advtrain, d),
        )
        + [
            OUT.pretrain.path(
                "model_metrics", dataset=d, seed=EDITOR_SEED, model="manipulator"
            )
        ],
    }
    if pretrain_has_oracle(d):
        out["oracle"] = pretrain_model(d, seeds[0], "oracle")
    return out


def _pretrain_all_outputs():
    out = []
    for d in PRE["datasets"]:
        models = (
            ["classifier", "manipulator"]
            + derived.generator_models(S.pretrain, S.attack, S.advtrain, d)
            + (["oracle"] if pretrain_has_oracle(d) else [])
        )
        for s in PRE["seeds"]:
            out += [pretrain_model(d, s, m) for m in models]
        out += OUT.pretrain.expand(
            [
                "metrics",
                "metrics_md",
                "curves",
                "manipulator_sweep",
                "training_curves_png",
                "training_curves_pdf",
                "manipulator_grid_png",
                "manipulator_grid_pdf",
            ],
            dataset=[d],
        )
    # the oracle and the learned editor are one file per dataset, named by every seed
    return list(dict.fromkeys(out))


# ---- meanfield phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def _figure_inputs(w):
    tables = {
        "forward": ["forward_mc"],
        "phase_diagram": ["phase_diagram", "critical_points"],
        "gradients": ["gradient_rates"],
        "gia_counterfactual": ["gia_counterfactual"],
        "universality": ["universality", "universality_points"],
    }[w.mf_figure]
    layers = (
        MF_GRADIENTS("layers")
        if w.mf_figure in ("gradients", "gia_counterfactual")
        else []
    )
    return layers + [OUT.meanfield.path(t) for t in tables]


# ---- depth_sweep phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def ds_split(dataset, split):
    return OUT.data.path(split, dataset=dataset)


def ds_cell_minutes(wildcards):
    """A cell's rough runtime for a scheduler (reproflow.settings.derived.depth_cell_minutes)."""
    return derived.depth_cell_minutes(S.depth_sweep, wildcards.panel, wildcards.depth)


def ds_cell_flags(panel, depth, ckpt):
    """train_depth_cell's settings of one (panel, depth) cell: the sweep's job and its platform re-run
    (the checkpoint flag by name: the Snakefile parser reads a bare ``checkpoint`` as its keyword).
    """
    return cli_args(
        **{"checkpoint": ckpt},
        panel=settings_of("DepthSweepPanelsItemCell", PANELS[panel]),
        depth=int(depth),
        cell=settings_of("DepthSweepCell", DS),
        device=DEVICE,
    )


# ---- attack phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def attack_eps(*datasets):
    """attack.eps_grid with these datasets' grids alone (the AttackEps group): a job derives its eps from it
    (reproflow.settings.derived), and an edit of another dataset's grid leaves it alone.
    """
    return AttackEps(eps_grid={d: derived.eps_grid(S.attack, d) for d in datasets})


def attack_headline_eps(dataset):
    return derived.headline_eps(S.attack, dataset)


def attack_judge_seed(seed):
    return derived.judge_seed(S.pretrain.seeds, int(seed))


def _attack_inputs(wildcards):
    d, s = wildcards.dataset, wildcards.seed
    out = {
        "data": OUT.data.path("test", dataset=d),
        "classifier": pretrain_model(d, s, "classifier"),
        "judge": pretrain_model(d, attack_judge_seed(s), "classifier"),
        "manipulator": pretrain_model(d, s, "manipulator"),
        "generator": pretrain_generator(d, s, attack_editor(d)),
    }
    if derived.learned_generator_needed(S.attack, S.advtrain, d)[0]:
        out["generator_learned"] = pretrain_generator(d, s, "learned")
    if (ATT["oracle_ablation"] or attack_editor(d) == "oracle") and pretrain_has_oracle(
        d
    ):
        out["oracle"] = pretrain_model(d, s, "oracle")
    return out


def _attack_jobs(artifact):
    """One artifact (metrics_job | outcomes_job | attributes_job | examples_job) of every evaluate_attacks job."""
    return OUT.attack.expand([artifact], dataset=PRE["datasets"], seed=PRE["seeds"])


def attack_editor(dataset):
    return derived.editor(S.attack, dataset)
