# pretrain phase: clean classifier, rotation oracle, MSP attribute manipulator and L2L-DA noise generator,
# one job per (model, dataset, seed). Datasets: config["pretrain"]["datasets"]; seeds: config["pretrain"]["seeds"].
# Outputs (P = {R}/pretrain/dataset~{dataset}; models load with reproflow.models.load_*):
#   rule train_classifier  -> P/seed~{seed}/classifier.pt,  classifier_metrics.json,  classifier_curve.csv
#   rule build_oracle      -> P/oracle.pt                      (*_rot datasets only; exact, one per dataset)
#   rule train_manipulator -> P/seed~{E}/manipulator.pt, manipulator_metrics.json, manipulator_curve.csv: one learned
#                             editor per dataset at the editor seed E = max(pretrain.seeds) + 1, with seed E's classifier
#   rule train_generator   -> P/seed~{seed}/generator.pt,  generator_metrics.json,  generator_curve.csv
#                             (through pretrain.generator.<dataset>.manipulator), and where a learned-editor run
#                             beside the exact rotation needs one, generator_learned.{pt,...} through the MSP
#                             manipulator ({learned} = "" | "_learned": one job each, only the requested ones run)
#   rule collect_pretrain  -> P/metrics.csv (+ .md), P/curves.csv, P/manipulator_sweep.npz (the grid's image data)
#   rule plot_pretrain     -> P/training_curves.{png,pdf}, P/manipulator_grid.{png,pdf} (from those tables alone)
# Python helpers for downstream rules: pretrain_model(dataset, seed, name) with name in
# classifier | oracle | manipulator | generator.
# Resumable checkpoints (not outputs): {R}/checkpoints/pretrain/dataset~{dataset}/seed~{seed}/<model>.ckpt

PRE_CKPT = f"{R}/checkpoints/pretrain/dataset~{{dataset}}/seed~{{seed}}"


wildcard_constraints:
    seed="[0-9]+",
    learned="(_learned)?",


rule train_classifier:
    input:
        train=OUT.data.path("train"),
        test=OUT.data.path("test"),
    output:
        model=OUT.pretrain.path("model", model="classifier"),
        metrics=OUT.pretrain.path("model_metrics", model="classifier"),
        curve=OUT.pretrain.path("model_curve", model="classifier"),
    log:
        log_path("pretrain", "train_classifier/{dataset}/seed~{seed}"),
    benchmark:
        bench_path("pretrain", "train_classifier/{dataset}/seed~{seed}")
    priority: 4
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            output=output.model,
            metrics=output.metrics,
            curve=output.curve,
        ),
        flags=lambda w: cli_args(
            checkpoint=f"{R}/checkpoints/pretrain/dataset~{w.dataset}/seed~{w.seed}/classifier.ckpt",
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            evaluation=group(PretrainEvaluation, S.pretrain),
            classifier=pretrain_settings("classifier", w.dataset),
            sgd=S.pretrain.sgd,
        ),
        code=code_of("train_classifier"),
    shell:
        "python -m reproflow.cli.train_classifier {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule build_oracle:
    input:
        train=OUT.data.path("train"),
    output:
        model=OUT.pretrain.path("oracle"),
    log:
        log_path("pretrain", "build_oracle/{dataset}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            output=output.model,
        ),
        flags=lambda w: cli_args(
            dataset=w.dataset,
        ),
        code=code_of("build_oracle"),
    shell:
        "python -m reproflow.cli.build_oracle {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule train_manipulator:
    input:
        train=OUT.data.path("train"),
        test=OUT.data.path("test"),
        # label preservation against the editor seed's own clean classifier: neither attacked nor a judge (issue #11);
        # the job runs at the editor seed only (pretrain_model(..., "manipulator") names that seed's file)
        classifier=OUT.pretrain.path("model", model="classifier"),
    output:
        model=OUT.pretrain.path("model", model="manipulator"),
        metrics=OUT.pretrain.path("model_metrics", model="manipulator"),
        curve=OUT.pretrain.path("model_curve", model="manipulator"),
    log:
        log_path("pretrain", "train_manipulator/{dataset}/seed~{seed}"),
    benchmark:
        bench_path("pretrain", "train_manipulator/{dataset}/seed~{seed}")
    priority: 5
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            classifier=input.classifier,
            output=output.model,
            metrics=output.metrics,
            curve=output.curve,
        ),
        flags=lambda w: cli_args(
            checkpoint=f"{R}/checkpoints/pretrain/dataset~{w.dataset}/seed~{w.seed}/manipulator.ckpt",
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            evaluation=group(PretrainEvaluation, S.pretrain),
            manipulator=pretrain_settings("manipulator", w.dataset),
            subset=group(PretrainSubset, S.pretrain),
        ),
        code=code_of("train_manipulator"),
    shell:
        "python -m reproflow.cli.train_manipulator {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule train_generator:
    input:
        train=OUT.data.path("train"),
        test=OUT.data.path("test"),
        classifier=OUT.pretrain.path("model", model="classifier"),
        manipulator=generator_manipulator,
    output:
        model=OUT.pretrain.path("model", model="generator{learned}"),
        metrics=OUT.pretrain.path("model_metrics", model="generator{learned}"),
        curve=OUT.pretrain.path("model_curve", model="generator{learned}"),
    log:
        log_path("pretrain", "train_generator/{dataset}/seed~{seed}{learned}"),
    benchmark:
        bench_path("pretrain", "train_generator/{dataset}/seed~{seed}{learned}")
    priority: 3
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            classifier=input.classifier,
            manipulator=input.manipulator,
            output=output.model,
            metrics=output.metrics,
            curve=output.curve,
        ),
        flags=lambda w: cli_args(
            checkpoint=f"{R}/checkpoints/pretrain/dataset~{w.dataset}/seed~{w.seed}/generator{w.learned}.ckpt",
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            evaluation=group(PretrainEvaluation, S.pretrain),
            generator=pretrain_settings("generator", w.dataset),
            # this dataset's eps grid: the generator trains at its largest eps (derived.generator_eps)
            eps=attack_eps(w.dataset),
            subset=group(PretrainSubset, S.pretrain),
        ),
        code=code_of("train_generator"),
    shell:
        "python -m reproflow.cli.train_generator {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule collect_pretrain:
    input:
        unpack(_pretrain_collect_inputs),
    output:
        table=OUT.pretrain.path("metrics"),
        table_md=OUT.pretrain.path("metrics_md"),
        curves=OUT.pretrain.path("curves"),
        sweep=OUT.pretrain.path("manipulator_sweep"),
    log:
        log_path("pretrain", "collect_pretrain/{dataset}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=20,
    params:
        paths=lambda w, input, output: cli_args(
            test=input.test,
            manipulator=input.manipulator,
            oracle=input.get("oracle"),
            curves_in=list(input.curves_in),
            metrics_in=list(input.metrics_in),
            table=output.table,
            curves=output.curves,
            sweep=output.sweep,
        ),
        flags=lambda w: cli_args(
            dataset=w.dataset,
            grid=group(PretrainGrid, S.pretrain),
        ),
        code=code_of("collect_pretrain"),
    shell:
        "python -m reproflow.cli.collect_pretrain {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_pretrain:
    input:
        curves=OUT.pretrain.path("curves"),
        sweep=OUT.pretrain.path("manipulator_sweep"),
        style=FIG_STYLE,
    output:
        curves=report(
            OUT.pretrain.path("training_curves_png"),
            caption="../report/pretrain/training_curves.rst",
            category="pretrain",
            labels={"dataset": "{dataset}", "figure": "training curves"},
        ),
        curves_pdf=OUT.pretrain.path("training_curves_pdf"),
        grid=report(
            OUT.pretrain.path("manipulator_grid_png"),
            caption="../report/pretrain/manipulator_grid.rst",
            category="pretrain",
            labels={"dataset": "{dataset}", "figure": "manipulator grid"},
        ),
        grid_pdf=OUT.pretrain.path("manipulator_grid_pdf"),
    log:
        log_path("pretrain", "plot_pretrain/{dataset}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            curves=input.curves,
            sweep=input.sweep,
            curves_figure=output.curves,
            grid_figure=output.grid,
        ),
        flags=lambda w: cli_args(dataset=w.dataset),
        code=code_of("plot_pretrain"),
    shell:
        "python -m reproflow.cli.plot_pretrain {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule pretrain_all:
    input:
        _pretrain_all_outputs(),
