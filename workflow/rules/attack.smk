# attack phase: every attack over the eps grid against the pretrained clean classifiers, semantic
# checks, claim T1. Datasets and seeds: config["pretrain"]["datasets"] / ["seeds"] (written once there).
# Outputs (A = {R}/attack):
#   rule evaluate_attacks       -> A/dataset~{dataset}/seed~{seed}/{metrics.csv, outcomes.csv.gz, attributes.csv,
#                                  examples.npz} (outcomes: per-image correctness, read by tabulate_claim_t1)
#                                  one job per (dataset, seed): the whole attack list x eps grid
#   rule collect_attack         -> A/metrics.csv (tidy: phase, dataset, model, attack, eps, seed, metric, value),
#                                  A/attributes.csv, A/summary.{csv,md}, A/semantic_checks.{csv,md}
#   rule tabulate_claim_t1      -> A/claims/T1.{csv,md}, A/headline.json
#   rule plot_attack_accuracy   -> A/accuracy_vs_eps.{png,pdf}
#   rule plot_attack_attributes -> A/attribute_histogram.{png,pdf}
#   rule plot_attack_examples   -> A/dataset~{dataset}/examples.{png,pdf}
# The judge of the semantic check ("a strong clean classifier") for seed s is the clean classifier of
# the next seed in pretrain.seeds (cyclic): trained independently, it never saw the attack's gradients.
# With a single seed it is the attacked classifier itself (recorded as judge_seed in the tables).


rule evaluate_attacks:
    input:
        unpack(_attack_inputs),
    output:
        metrics=OUT.attack.path("metrics_job"),
        # per-image correctness of every (attack, eps): the claims' intervals over seeds and images read it
        outcomes=OUT.attack.path("outcomes_job"),
        attributes=OUT.attack.path("attributes_job"),
        examples=OUT.attack.path("examples_job"),
    log:
        log_path("attack", "evaluate_attacks/{dataset}/seed~{seed}"),
    benchmark:
        bench_path("attack", "evaluate_attacks/{dataset}/seed~{seed}")
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
            classifier=input.classifier,
            judge=input.judge,
            manipulator=input.manipulator,
            generator=input.generator,
            generator_learned=input.get("generator_learned"),
            oracle=input.get("oracle"),
            metrics=output.metrics,
            outcomes=output.outcomes,
            attributes=output.attributes,
            examples=output.examples,
        ),
        flags=lambda w: cli_args(
            dataset=w.dataset,
            seed=int(w.seed),
            device=DEVICE,
            # this dataset's eps grid: the CLI derives the image grid's eps (its smallest) and the primary editor
            eps=attack_eps(w.dataset),
            selection=group(AttackSelection, S.attack),
            evaluation=group(AttackEvaluation, S.attack),
            suite=group(AttackSuite, S.attack),
        ),
        code=code_of("evaluate_attacks"),
    shell:
        "python -m reproflow.cli.evaluate_attacks {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule collect_attack:
    input:
        metrics=_attack_jobs("metrics_job"),
        attributes=_attack_jobs("attributes_job"),
    output:
        metrics=OUT.attack.path("metrics"),
        attributes=OUT.attack.path("attributes"),
        summary=OUT.attack.path("summary"),
        summary_md=OUT.attack.path("summary_md"),
        checks=OUT.attack.path("checks"),
        checks_md=OUT.attack.path("checks_md"),
    log:
        log_path("attack", "collect_attack/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            metrics_in=list(input.metrics),
            attributes_in=list(input.attributes),
            metrics=output.metrics,
            attributes=output.attributes,
            summary=output.summary,
            checks=output.checks,
        ),
        flags=lambda w: cli_args(
            collect=group(AttackCollect, S.attack),
        ),
        code=code_of("collect_attack"),
    shell:
        "python -m reproflow.cli.collect_attack {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule tabulate_claim_t1:
    input:
        metrics=OUT.attack.path("metrics"),
        outcomes=_attack_jobs("outcomes_job"),
    output:
        table=OUT.attack.path("t1"),
        table_md=OUT.attack.path("t1_md"),
        headline=OUT.attack.path("headline"),
        gate=OUT.attack.path("editor_gate"),
        gate_md=OUT.attack.path("editor_gate_md"),
    log:
        log_path("attack", "tabulate_claim_t1/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            metrics=input.metrics,
            outcomes=list(input.outcomes),
            output=output.table,
            headline=output.headline,
            gate=output.gate,
        ),
        flags=lambda w: cli_args(
            t1=S.attack.t1,
            report=S.report,
            # the eps grids of pretrain.datasets: the CLI derives each one's headline eps
            eps=attack_eps(*PRE["datasets"]),
            editor_gate=S.attack.gate,
        ),
        code=code_of("tabulate_claim_t1"),
    shell:
        "python -m reproflow.cli.tabulate_claim_t1 {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_attack_accuracy:
    input:
        metrics=OUT.attack.path("metrics"),
        style=FIG_STYLE,
    output:
        png=report(
            OUT.attack.path("accuracy_png"),
            caption="../report/attack/accuracy_vs_eps.rst",
            category="attack",
            labels={"figure": "accuracy vs eps"},
        ),
        pdf=OUT.attack.path("accuracy_pdf"),
    log:
        log_path("attack", "plot_attack_accuracy/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            metrics=input.metrics,
            output=output.png,
        ),
        flags=lambda w: cli_args(
            scale=config["scale"],
        ),
        code=code_of("plot_attack_accuracy"),
    shell:
        "python -m reproflow.cli.plot_attack_accuracy {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_attack_attributes:
    input:
        attributes=OUT.attack.path("attributes"),
        style=FIG_STYLE,
    output:
        png=report(
            OUT.attack.path("attributes_png"),
            caption="../report/attack/attribute_histogram.rst",
            category="attack",
            labels={"figure": "attribute histogram"},
        ),
        pdf=OUT.attack.path("attributes_pdf"),
    log:
        log_path("attack", "plot_attack_attributes/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            attributes=input.attributes,
            output=output.png,
        ),
        flags=lambda w: cli_args(
            eps=attack_eps(*PRE["datasets"]),
        ),
        code=code_of("plot_attack_attributes"),
    shell:
        "python -m reproflow.cli.plot_attack_attributes {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_attack_examples:
    input:
        examples=lambda w: OUT.attack.path(
            "examples_job", dataset=w.dataset, seed=PRE["seeds"][0]
        ),
        style=FIG_STYLE,
    output:
        png=report(
            OUT.attack.path("examples_png"),
            caption="../report/attack/examples.rst",
            category="attack",
            labels={"dataset": "{dataset}", "figure": "image grid"},
        ),
        pdf=OUT.attack.path("examples_pdf"),
    log:
        log_path("attack", "plot_attack_examples/{dataset}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            examples=input.examples,
            output=output.png,
        ),
        flags=lambda w: cli_args(
            dataset=w.dataset,
        ),
        code=code_of("plot_attack_examples"),
    shell:
        "python -m reproflow.cli.plot_attack_examples {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule attack_all:
    input:
        _attack_jobs("metrics_job"),
        _attack_jobs("outcomes_job"),
        _attack_jobs("attributes_job"),
        _attack_jobs("examples_job"),
        rules.collect_attack.output,
        rules.tabulate_claim_t1.output,
        rules.plot_attack_accuracy.output,
        rules.plot_attack_attributes.output,
        OUT.attack.expand(["examples_png", "examples_pdf"], dataset=PRE["datasets"]),
