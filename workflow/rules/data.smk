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
            download=DATA["download"],
            seed=DATA["seed"],
            # half-range of the rotation attribute; 0 for datasets that are not rotated
            rotation_deg=DATA["rotation_deg"].get(w.dataset, 0.0),
            digits_test_fraction=DATA["digits_test_fraction"],
            max_train=DATA["max_train"],
            max_test=DATA["max_test"],
            celeba_size=DATA["celeba_size"],
            celeba_attribute=DATA["celeba_attribute"],
            # the class label of CelebA (passed for celeba only, so the other datasets' jobs are unchanged)
            **(
                {"celeba_class_attribute": DATA["celeba_class_attribute"]}
                if w.dataset == "celeba"
                else {}
            ),
            # passed only when off (the scales with the published files keep their jobs' flags unchanged)
            **({"verify_checksums": False} if not DATA["verify_checksums"] else {}),
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
        flags=cli_args(sample_grid=DATA["sample_grid"]),
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
            datasets=DATA["datasets"],
            data_root=config["data_root"],
            download=DATA["download"],
            # the phases that read each dataset: SPA phases read pretrain.datasets, the depth sweep its panels'
            used_by={
                d: [
                    ph
                    for ph, uses in (
                        ("pretrain", config["pretrain"]["datasets"]),
                        ("attack", config["pretrain"]["datasets"]),
                        ("advtrain", config["pretrain"]["datasets"]),
                        (
                            "depth_sweep",
                            [p["dataset"] for p in config["depth_sweep"]["panels"]]
                            + [config["depth_sweep"]["speed"]["dataset"]],
                        ),
                    )
                    if d in uses
                ]
                for d in DATA["datasets"]
            },
        ),
        code=code_of("check_data"),
    shell:
        "python -m reproflow.cli.check_data {params.flags} --output {output:q} --log {log:q} --threads {threads}"
