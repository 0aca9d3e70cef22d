# advtrain phase: five defences (standard, PGD-AT, TRADES, attribute augmentation, SPA-AT) trained at the
# attack phase's headline eps, every attack of the attack phase over its eps grid against each, the
# defence x attack matrix and claim T2. Datasets and seeds: config["pretrain"]["datasets"] / ["seeds"];
# seed s of every defence starts from the pretrained models of seed s (so differences pair by seed).
# Eps grid, attack list and attack settings: config["attack"] (written once there).
# Outputs (D = {R}/advtrain/dataset~{dataset}/defence~{defence}/seed~{seed}):
#   rule train_defence           -> D/classifier.pt, D/train_metrics.json, D/train_curve.csv; one job per
#                                   (dataset, defence, seed) or per (dataset, seed) (advtrain.train_jobs)
#   rule evaluate_defence        -> D/metrics.csv (tidy: phase, dataset, model, attack, eps, seed, metric, value),
#                                   D/outcomes.csv.gz (per-image correctness, read by tabulate_claim_t2),
#                                   one job per (dataset, seed) writing every defence's table
#   rule tabulate_defence_matrix -> {R}/advtrain/{evaluations.csv, matrix.csv, matrix.md, curves.csv}
#   rule tabulate_claim_t2       -> {R}/advtrain/claims/T2.{csv,md}, T2_plateau.csv (training adequacy),
#                                   {R}/advtrain/headline.json
#   rule plot_advtrain           -> {R}/advtrain/{matrix_heatmap,training_curves,plateau_curves}.{png,pdf}
# Resumable checkpoints (not outputs): {R}/checkpoints/advtrain/dataset~{dataset}/defence~{defence}/seed~{seed}/classifier.ckpt

# the seeds the defences are trained at (advtrain.seeds; null = every pretrain seed)
ADV_SEEDS = list(derived.advtrain_seeds(S.pretrain, S.advtrain))
# one artifact (classifier_job | metrics_job | ...) of every (dataset, defence, seed)
ADV_JOBS = lambda artifact: OUT.advtrain.expand(
    [artifact], dataset=PRE["datasets"], defence=ADV["defences"], seed=ADV_SEEDS
)
# what attribute augmentation and SPA-AT edit with: the learned MSP manipulator or the rotation oracle
ADV_MANIPULATOR = lambda w: pretrain_model(
    w.dataset,
    w.seed,
    (
        "oracle"
        if derived.advtrain_editor(S.advtrain, w.dataset) == "oracle"
        else "manipulator"
    ),
)
# SPA-AT's noise generator: the one trained through the editor it edits with (issue #11)
ADV_GENERATOR = lambda w: pretrain_generator(
    w.dataset, w.seed, derived.advtrain_editor(S.advtrain, w.dataset)
)


wildcard_constraints:
    defence="[a-z_]+",


# Job sizing of train_defence (advtrain.train_jobs): per_defence = one job per (dataset, defence, seed) through a
# {defence} wildcard; per_seed = one job per (dataset, seed) training every defence of the seed in turn
TRAIN_PER_SEED = ADV["train_jobs"] == "per_seed"
TRAIN_GROUP = list(ADV["defences"]) if TRAIN_PER_SEED else ["{defence}"]
TRAIN_JOB = (
    "{dataset}/seed~{seed}" if TRAIN_PER_SEED else "{dataset}/{defence}/seed~{seed}"
)


# the defences one train_defence job trains, and its outputs of one artifact
DEFENCES_WITH_SECTIONS = [d.name for d in vocab.DEFENCES if d.settings]
TRAIN_DEFENCES = lambda w: list(ADV["defences"]) if TRAIN_PER_SEED else [w.defence]
TRAIN_OUTPUTS = lambda artifact: [
    OUT.advtrain.path(artifact, defence=f) for f in TRAIN_GROUP
]


rule train_defence:
    input:
        train=OUT.data.path("train"),
        test=OUT.data.path("test"),
        classifier=lambda w: pretrain_model(w.dataset, w.seed, "classifier"),
        manipulator=ADV_MANIPULATOR,
        generator=ADV_GENERATOR,
    output:
        model=TRAIN_OUTPUTS("classifier_job"),
        metrics=TRAIN_OUTPUTS("train_metrics_job"),
        curve=TRAIN_OUTPUTS("train_curve_job"),
    log:
        log_path("advtrain", f"train_defence/{TRAIN_JOB}"),
    benchmark:
        bench_path("advtrain", f"train_defence/{TRAIN_JOB}")
    priority: 2
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=lambda w: 600 * len(TRAIN_DEFENCES(w)),
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            classifier=input.classifier,
            manipulator=input.manipulator,
            generator=input.generator,
            output=list(output.model),
            metrics=list(output.metrics),
            curve=list(output.curve),
        ),
        flags=lambda w: cli_args(
            checkpoint=[
                f"{R}/checkpoints/advtrain/dataset~{w.dataset}/defence~{f}/seed~{w.seed}/classifier.ckpt"
                for f in TRAIN_DEFENCES(w)
            ],
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            # the job's defences (advtrain.defences restricted to this job's) and this dataset's eps grid (the
            # defences train at its headline eps, derived in the CLI)
            roster=AdvtrainRoster(defences=tuple(TRAIN_DEFENCES(w))),
            eps=attack_eps(w.dataset),
            fit=group(AdvtrainFit, S.advtrain),
            training=S.advtrain.training[w.dataset],
            sgd=S.pretrain.sgd,
            plateau=S.advtrain.plateau,
            clean=pretrain_settings("classifier", w.dataset),
            # each defence's own section for the job's defences that have one, none for the others (a job
            # records only its own defences' settings)
            **{
                d: getattr(S.advtrain, d) if d in TRAIN_DEFENCES(w) else None
                for d in DEFENCES_WITH_SECTIONS
            },
        ),
        code=code_of("train_defence"),
    shell:
        "python -m reproflow.cli.train_defence {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule evaluate_defence:
    input:
        unpack(
            lambda w: {
                "data": OUT.data.path("test", dataset=w.dataset),
                "train": OUT.data.path("train", dataset=w.dataset),
                "classifiers": OUT.advtrain.expand(
                    ["classifier_job"],
                    dataset=[w.dataset],
                    defence=ADV["defences"],
                    seed=[w.seed],
                ),
                "manipulator": pretrain_model(w.dataset, w.seed, "manipulator"),
                "generator": pretrain_generator(
                    w.dataset, w.seed, attack_editor(w.dataset)
                ),
                **(
                    {
                        "generator_learned": pretrain_generator(
                            w.dataset, w.seed, "learned"
                        )
                    }
                    if derived.learned_generator_needed(
                        S.attack, S.advtrain, w.dataset
                    )[1]
                    else {}
                ),
                **(
                    {"oracle": pretrain_model(w.dataset, w.seed, "oracle")}
                    if (ATT["oracle_ablation"] or attack_editor(w.dataset) == "oracle")
                    and pretrain_has_oracle(w.dataset)
                    else {}
                ),
            }
        ),
    output:
        # one job per (dataset, seed): every defence of that seed, one table each
        metrics=[OUT.advtrain.path("metrics_job", defence=f) for f in ADV["defences"]],
        # per defence: per-image correctness of every (attack, eps), read by tabulate_claim_t2's intervals
        outcomes=[OUT.advtrain.path("outcomes_job", defence=f) for f in ADV["defences"]],
    log:
        log_path("advtrain", "evaluate_defence/{dataset}/seed~{seed}"),
    benchmark:
        bench_path("advtrain", "evaluate_defence/{dataset}/seed~{seed}")
    priority: 1
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            data=input.data,
            train=input.train,
            classifiers=list(input.classifiers),
            manipulator=input.manipulator,
            generator=input.generator,
            generator_learned=input.get("generator_learned"),
            oracle=input.get("oracle"),
            metrics=list(output.metrics),
            outcomes=list(output.outcomes),
        ),
        flags=lambda w: cli_args(
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            roster=group(AdvtrainRoster, S.advtrain),
            # the attack phase's grid, selection and suite, with advtrain's subsets and radii (derived in the CLI)
            eps=attack_eps(w.dataset),
            selection=group(AttackSelection, S.attack),
            evaluation=group(AdvtrainEvaluation, S.advtrain),
            suite=group(AttackSuite, S.attack),
            refit=S.advtrain.refit,
        ),
        code=code_of("evaluate_defence"),
    shell:
        "python -m reproflow.cli.evaluate_defence {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule tabulate_defence_matrix:
    input:
        metrics=ADV_JOBS("metrics_job"),
        curves=ADV_JOBS("train_curve_job"),
    output:
        evaluations=OUT.advtrain.path("evaluations"),
        matrix=OUT.advtrain.path("matrix"),
        matrix_md=OUT.advtrain.path("matrix_md"),
        curves=OUT.advtrain.path("curves"),
    log:
        log_path("advtrain", "tabulate_defence_matrix/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            metrics_in=list(input.metrics),
            curves_in=list(input.curves),
            evaluations=output.evaluations,
            matrix=output.matrix,
            curves=output.curves,
        ),
        flags=lambda w: cli_args(
            # each dataset's attack labels, grid and headline eps, the defences and their seeds: derived in the CLI
            sweep=group(PretrainSweep, S.pretrain),
            roster=group(AdvtrainRoster, S.advtrain),
            seeds=group(AdvtrainSeeds, S.advtrain),
            eps=attack_eps(*PRE["datasets"]),
            selection=group(AttackSelection, S.attack),
            evaluation=group(AdvtrainEvaluation, S.advtrain),
            ablation=group(AttackAblation, S.attack),
            suite=group(AttackSuite, S.attack),
            scale=config["scale"],
        ),
        code=code_of("tabulate_defence_matrix"),
    shell:
        "python -m reproflow.cli.tabulate_defence_matrix {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule tabulate_claim_t2:
    input:
        evaluations=OUT.advtrain.path("evaluations"),
        outcomes=ADV_JOBS("outcomes_job"),
        curves=OUT.advtrain.path("curves"),
        # the learned editor's gate, where a dataset's primary editor is the learned one (its rows count only if it passes)
        gate=lambda w: (
            [OUT.attack.path("editor_gate")]
            if any(attack_editor(d) == "learned" for d in PRE["datasets"])
            else []
        ),
    output:
        table=OUT.advtrain.path("t2"),
        table_md=OUT.advtrain.path("t2_md"),
        headline=OUT.advtrain.path("headline"),
        # the training-adequacy test per (dataset, defence), shown beside T2 on the results page
        plateau=OUT.advtrain.path("t2_plateau"),
    log:
        log_path("advtrain", "tabulate_claim_t2/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            evaluations=input.evaluations,
            outcomes=list(input.outcomes),
            curves=input.curves,
            output=output.table,
            headline=output.headline,
            plateau_table=output.plateau,
            gate=input.gate[0] if input.gate else None,
        ),
        flags=lambda w: cli_args(
            # the claim's comparisons, the defences' training and the plateau rule; each dataset's headline eps and
            # primary editor are derived in the CLI
            advtrain=S.advtrain,
            eps=attack_eps(*PRE["datasets"]),
            selection=group(AttackSelection, S.attack),
            report=S.report,
            scale=config["scale"],
        ),
        code=code_of("tabulate_claim_t2"),
    shell:
        "python -m reproflow.cli.tabulate_claim_t2 {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_advtrain:
    input:
        matrix=OUT.advtrain.path("matrix"),
        curves=OUT.advtrain.path("curves"),
        style=FIG_STYLE,
    output:
        heatmap=report(
            OUT.advtrain.path("heatmap_png"),
            caption="../report/advtrain/matrix_heatmap.rst",
            category="advtrain",
            labels={"figure": "defence x attack matrix"},
        ),
        heatmap_pdf=OUT.advtrain.path("heatmap_pdf"),
        curves=report(
            OUT.advtrain.path("curves_png"),
            caption="../report/advtrain/training_curves.rst",
            category="advtrain",
            labels={"figure": "defence training curves"},
        ),
        curves_pdf=OUT.advtrain.path("curves_pdf"),
        plateau=report(
            OUT.advtrain.path("plateau_png"),
            caption="../report/advtrain/plateau_curves.rst",
            category="advtrain",
            labels={"figure": "plateau probe (T2 training adequacy)"},
        ),
        plateau_pdf=OUT.advtrain.path("plateau_pdf"),
    log:
        log_path("advtrain", "plot_advtrain/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            matrix=input.matrix,
            curves=input.curves,
            heatmap=output.heatmap,
            curves_figure=output.curves,
            plateau_figure=output.plateau,
        ),
        flags=lambda w: cli_args(
            roster=group(AdvtrainRoster, S.advtrain),
            # the matrix's attacks and each dataset's headline eps: derived in the CLI
            selection=group(AttackSelection, S.attack),
            evaluation=group(AdvtrainEvaluation, S.advtrain),
            eps=attack_eps(*PRE["datasets"]),
            scale=config["scale"],
            plateau=S.advtrain.plateau,
        ),
        code=code_of("plot_advtrain"),
    shell:
        "python -m reproflow.cli.plot_advtrain {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule advtrain_all:
    input:
        ADV_JOBS("classifier_job"),
        ADV_JOBS("metrics_job"),
        ADV_JOBS("outcomes_job"),
        rules.tabulate_defence_matrix.output,
        rules.tabulate_claim_t2.output,
        rules.plot_advtrain.output,
