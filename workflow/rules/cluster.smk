# Where jobs run when an executor (SLURM) submits them: declarations only, no rules.
# prepare_dataset downloads (data.download: true) and compute nodes are often offline, so it
# runs where Snakemake runs (the login node); check_data only reads the data root. The
# seconds-long bookkeeping rules are grouped by workflow/profiles/slurm (groups:), not here,
# so that local runs keep their parallelism. docs/cluster.md explains both.


localrules:
    prepare_dataset,
    check_data,
