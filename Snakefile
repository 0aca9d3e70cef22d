# Reproduction of SPA (Gao et al., IJCNN 2023) and mean-field dropout theory
# (Huang et al., ECAI 2020). params.yaml is the config (paper scale); overlays:
#   snakemake --cores all --configfile config/quick.yaml   # CPU, embedded digits, minutes
#   snakemake --cores all --configfile config/tiny.yaml    # CI end-to-end, seconds per job
# The config is validated against workflow/schemas/ before any job runs. Run from the repository
# root: Snakemake finds this file and loads the default profile (cores, rerun-incomplete, ...) from
# profiles/default, a link to workflow/profiles/default (Snakemake looks for it beside the Snakefile).

from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
# SPA: data -> pretrain -> attack -> advtrain
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/attack.smk"
include: "workflow/rules/advtrain.smk"
# Mean-field dropout: meanfield -> depth_sweep
include: "workflow/rules/meanfield.smk"
include: "workflow/rules/depth_sweep.smk"
# Summary of every claim and the HTML report
include: "workflow/rules/report.smk"
# Every figure of the scale, re-rendered from the tables alone (`snakemake figures_all`)
include: "workflow/rules/figures.smk"
# Where an executor (SLURM) runs what: local rules (downloads, the data check)
include: "workflow/rules/cluster.smk"


rule all:
    default_target: True
    input:
        rules.data_all.input,
        rules.pretrain_all.input,
        rules.attack_all.input,
        rules.advtrain_all.input,
        rules.meanfield_all.input,
        rules.depth_sweep_all.input,
        rules.report_all.input,
