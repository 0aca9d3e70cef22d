# Helpers shared by every phase: config validation, paths, CLI argument formatting.
#
# What a job depends on, as Snakemake sees it (docs/design.md, "Rules"):
#   - files: input/output (paths reach the CLI through `paths=lambda w, input, output: cli_args(...)`,
#     a derived param: Snakemake tracks the files themselves);
#   - settings: `flags=lambda w: cli_args(key=config value, ...)`, plain values named as in params.yaml,
#     recorded by Snakemake, so editing a value re-runs exactly the jobs that read it (params trigger);
#   - code: `code=code_of("<rule>")`, a digest of the CLI module and every reproflow module it imports,
#     so editing library code re-runs the rules that run it (params trigger, computed in ~0.5 s).
from pathlib import Path

from snakemake.exceptions import WorkflowError

from reproflow.cli._base import format_flags as cli_args  # kwargs -> "--flag value ..." (used by every rule)
from reproflow.cli._base import put_interpreter_on_path
from reproflow.config import validate_config
from reproflow.deps import cli_digest as code_of  # rule name -> digest of the code its jobs run
from reproflow.errors import UserError

try:
    validate_config(config, Path(workflow.basedir).joinpath("schemas"))
except UserError as _exc:
    raise WorkflowError(f"invalid config: {_exc}") from None

# Jobs run `python -m reproflow.cli...`: make that the interpreter that runs Snakemake (the
# project's .venv), whatever PATH the user's shell has.
put_interpreter_on_path()

# Every output lives under the scale's results root (paper: results/, quick: results/quick/, ...)
R = config["results_root"]
DEVICE = config["device"]
# GPUs requested from a scheduler by the heavy (GPU-capable) rules; 0 at the CPU scales.
GPUS = config["gpus_per_job"]


def attack_settings_args():
    """Flags of reproflow.attacks.suite.AttackSettings from the attack section (shared by the
    attack phase's and the advtrain phase's evaluation jobs, so each value is passed once)."""
    att = config["attack"]
    return dict(
        batch_size=att["batch_size"], edge_tol=att["edge_tol"],
        pgd_steps=att["pgd"]["steps"], pgd_step_factor=att["pgd"]["step_factor"], pgd_restarts=att["pgd"]["restarts"],
        autoattack_version=att["autoattack"]["version"], autoattack_sub_attacks=att["autoattack"]["sub_attacks"],
        attribute_grid_size=att["attribute"]["grid_size"],
        spa_steps=att["spa"]["steps"], spa_restarts=att["spa"]["restarts"], spa_lr=att["spa"]["lr"],
        joint_pgd_steps=att["joint_pgd"]["steps"], joint_pgd_restarts=att["joint_pgd"]["restarts"],
        joint_pgd_step_factor=att["joint_pgd"]["step_factor"],
        joint_pgd_attr_step_factor=att["joint_pgd"]["attr_step_factor"],
    )


def log_path(phase, name):
    return f"{R}/logs/{phase}/{name}.log"


def bench_path(phase, name):
    return f"{R}/benchmarks/{phase}/{name}.tsv"


# ---- pretrain phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def pretrain_model(dataset, seed, name):
    """Path of a pretrained model file (name: classifier | oracle | manipulator | generator)."""
    return f"{R}/pretrain/dataset~{dataset}/seed~{seed}/{name}.pt"


def pretrain_has_oracle(dataset):
    """The analytic rotation oracle exists for the rotated sets only."""
    return dataset.endswith("_rot")


def pretrain_settings(section, dataset):
    try:
        return PRE[section][dataset]
    except KeyError:
        raise WorkflowError(
            f"config key 'pretrain.{section}.{dataset}' is missing: every dataset in pretrain.datasets "
            f"needs settings in pretrain.{section}"
        ) from None


def generator_manipulator(wildcards):
    kind = pretrain_settings("generator", wildcards.dataset)["manipulator"]
    if kind == "oracle" and not pretrain_has_oracle(wildcards.dataset):
        raise WorkflowError(
            f"config key 'pretrain.generator.{wildcards.dataset}.manipulator': 'oracle' needs a rotated (*_rot) dataset; use msp"
        )
    return pretrain_model(wildcards.dataset, wildcards.seed, "oracle" if kind == "oracle" else "manipulator")


def _pretrain_plot_inputs(wildcards):
    d, seeds = wildcards.dataset, PRE["seeds"]
    out = {
        "test": f"{R}/data/dataset~{d}/test.pt",
        "manipulator": pretrain_model(d, seeds[0], "manipulator"),
        "curves": [f"{R}/pretrain/dataset~{d}/seed~{s}/{m}_curve.csv" for s in seeds for m in ("classifier", "manipulator", "generator")],
        "metrics": [f"{R}/pretrain/dataset~{d}/seed~{s}/{m}_metrics.json" for s in seeds for m in ("classifier", "manipulator", "generator")],
    }
    if pretrain_has_oracle(d):
        out["oracle"] = pretrain_model(d, seeds[0], "oracle")
    return out


def _pretrain_all_outputs():
    out = []
    for d in PRE["datasets"]:
        models = ["classifier", "manipulator", "generator"] + (["oracle"] if pretrain_has_oracle(d) else [])
        for s in PRE["seeds"]:
            out += [pretrain_model(d, s, m) for m in models]
        out += [
            f"{R}/pretrain/dataset~{d}/{a}"
            for a in ("metrics.csv", "metrics.md", "training_curves.png", "training_curves.pdf", "manipulator_grid.png", "manipulator_grid.pdf")
        ]
    return out


# ---- meanfield phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def _figure_inputs(w):
    if w.mf_figure == "forward":
        return [f"{R}/meanfield/forward_mc.csv"]
    if w.mf_figure == "phase_diagram":
        return [f"{R}/meanfield/phase_diagram.csv", f"{R}/meanfield/critical_points.csv"]
    if w.mf_figure == "gradients":
        return [f"{R}/meanfield/gradients/run~{r}/layers.csv" for r in MF_RUNS] + [
            f"{R}/meanfield/gradient_rates.csv"
        ]
    if w.mf_figure == "gia_counterfactual":
        return [f"{R}/meanfield/gradients/run~{r}/layers.csv" for r in MF_RUNS] + [
            f"{R}/meanfield/gia_counterfactual.csv"
        ]
    return [f"{R}/meanfield/universality.csv", f"{R}/meanfield/universality_points.csv"]


# ---- depth_sweep phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def ds_split(dataset, split):
    return f"{R}/data/dataset~{dataset}/{split}.pt"


def ds_cell_minutes(wildcards):
    """Rough runtime for a scheduler: 6 flops per multiply-add over the stacked cell at an assumed
    sustained 5 TFLOP/s (a GPU), plus start-up; generous on purpose."""
    p = PANELS[wildcards.panel]
    nets = len(p["sw2_grid"]) * len(DS["seeds"])
    flops = 6.0 * nets * p["batch"] * DS["width"] ** 2 * int(wildcards.depth) * p["steps"]
    return int(10 + 3 * flops / 5e12 / 60)


# ---- attack phase helpers (kept here: snakemake --lint wants rules and functions apart) ----


def attack_eps_grid(dataset):
    try:
        return ATT["eps_grid"][dataset]
    except KeyError:
        raise WorkflowError(
            f"config key 'attack.eps_grid.{dataset}' is missing: every dataset in pretrain.datasets needs an eps grid"
        ) from None


def attack_headline_eps(dataset):
    """The grid's median (lower middle for an even grid): the T1 headline and the attribute histogram use it
    (the image grid uses the smallest eps, where the noise is least visible)."""
    grid = sorted(attack_eps_grid(dataset))
    return grid[(len(grid) - 1) // 2]


def attack_judge_seed(seed):
    seeds = list(PRE["seeds"])
    return seeds[(seeds.index(int(seed)) + 1) % len(seeds)]


def _attack_inputs(wildcards):
    d, s = wildcards.dataset, wildcards.seed
    out = {
        "data": f"{R}/data/dataset~{d}/test.pt",
        "classifier": pretrain_model(d, s, "classifier"),
        "judge": pretrain_model(d, attack_judge_seed(s), "classifier"),
        "manipulator": pretrain_model(d, s, "manipulator"),
        "generator": pretrain_model(d, s, "generator"),
    }
    if (ATT["oracle_ablation"] or attack_editor(d) == "oracle") and pretrain_has_oracle(d):
        out["oracle"] = pretrain_model(d, s, "oracle")
    return out


def _attack_jobs(artifact):
    return [
        f"{R}/attack/dataset~{d}/seed~{s}/{artifact}" for d in PRE["datasets"] for s in PRE["seeds"]
    ]


def manipulator_label_seed(seed):
    """Seed of the clean classifier the MSP manipulator's label-preservation term is trained against: two
    seeds on in pretrain.seeds (cyclic), so neither the attacked classifier (seed s) nor the judge (s + 1).
    With fewer than three seeds it coincides with one of them (tiny scale: code paths only)."""
    seeds = list(PRE["seeds"])
    return seeds[(seeds.index(int(seed)) + 2) % len(seeds)]


def attack_editor(dataset):
    """Primary editor of the semantic attacks and defences on ``dataset``: the exact rotation (oracle) where
    attack.editor asks for it and the dataset has one, else the learned MSP manipulator."""
    return "oracle" if ATT["editor"] == "oracle" and pretrain_has_oracle(dataset) else "learned"


def joint_apgd_args():
    """Flags of the joint APGD attack (reproflow.attacks.joint_apgd) from attack.joint_apgd, for both evaluation rules."""
    j = config["attack"]["joint_apgd"]
    return dict(joint_apgd_steps=j["steps"], joint_apgd_restarts=j["restarts"], joint_apgd_attr_step=j["attr_step"])
