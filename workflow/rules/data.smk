# data phase: one prepare job per dataset listed in config["data"]["datasets"].
# Outputs (format in docs/design.md):
#   {R}/data/dataset~{dataset}/{train,test}.pt   tensors
#   {R}/data/dataset~{dataset}/{train,test}.json manifests (counts, balance, checksum, ...)
#   {R}/data/dataset~{dataset}/samples.{png,pdf} sample grid


wildcard_constraints:
    dataset="[a-z0-9_]+",


rule prepare_dataset:
    output:
        train=OUT.data.path("train"),
        test=OUT.data.path("test"),
        train_manifest=OUT.data.path("train_manifest"),
        test_manifest=OUT.data.path("test_manifest"),
    log:
        log_path("data", "prepare_dataset/{dataset}"),
    benchmark:
        bench_path("data", "prepare_dataset/{dataset}")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        paths=lambda w, output: cli_args(out_dir=str(Path(output.train).parent)),
        flags=lambda w: cli_args(
            dataset=w.dataset,
            data_root=config["data_root"],
            prepare=group(DataPrepare, S.data),
        ),
        code=code_of("prepare_dataset"),
    shell:
        "python -m reproflow.cli.prepare_dataset {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_dataset_samples:
    input:
        split=rules.prepare_dataset.output.test,
        style=FIG_STYLE,
    output:
        png=report(
            OUT.data.path("samples_png"),
            caption="../report/data/samples.rst",
            category="data",
            labels={"dataset": "{dataset}"},
        ),
        pdf=OUT.data.path("samples_pdf"),
    log:
        log_path("data", "plot_dataset_samples/{dataset}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        flags=cli_args(samples=group(DataSamples, S.data)),
        code=code_of("plot_dataset_samples"),
    shell:
        "python -m reproflow.cli.plot_dataset_samples --split {input.split:q} --style {input.style:q} --output {output.png:q} {params.flags} --log {log:q} --threads {threads}"


rule data_all:
    input:
        OUT.data.expand(
            [
                "train",
                "test",
                "train_manifest",
                "test_manifest",
                "samples_png",
                "samples_pdf",
            ],
            dataset=DATA["datasets"],
        ),


# Before any training, on the machine (login node) that will run prepare_dataset:
#   snakemake check_data --cores 1 -f
# prints and writes which datasets are present, will be downloaded, or must be placed by hand.
rule check_data:
    output:
        OUT.data.path("check"),
    log:
        log_path("data", "check_data"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        flags=cli_args(
            data_root=config["data_root"],
            # the phases that read each dataset are derived from these (reproflow.settings.derived.dataset_users)
            data=S.data,
            pretrain=S.pretrain,
            depth_sweep=S.depth_sweep,
        ),
        code=code_of("check_data"),
    shell:
        "python -m reproflow.cli.check_data {params.flags} --output {output:q} --log {log:q} --threads {threads}"
