# meanfield phase: mean-field theory of deep dropout networks (Huang et al., ECAI 2020).
# Outputs under {R}/meanfield/ (columns documented in docs/meanfield.md):
#   phase_diagram.csv, critical_points.csv, caption_checks.csv   theory (read by depth_sweep)
#   forward_mc.csv                                               forward Monte Carlo vs theory
#   gradients/group~{group}/{draws,layers,gia_draws}.csv         backprop gradient statistics (+ GIA counterfactual),
#                                                                one job per (role, activation) group of runs
#   gradient_rates.csv, gia_counterfactual.csv                   decay rates, bootstrap over draws
#   universality.csv, universality_points.csv
#   headline.json                                                numbers for the summary of claims
#   figures/{forward,phase_diagram,gradients,gia_counterfactual,universality}.{png,pdf}

MF_FIGURES = [
    "forward",
    "phase_diagram",
    "gradients",
    "gia_counterfactual",
    "universality",
]


wildcard_constraints:
    mf_group="[A-Za-z0-9_.]+",
    mf_figure="|".join(MF_FIGURES),


rule compute_phase_diagram:
    output:
        phase_diagram=OUT.meanfield.path("phase_diagram"),
        critical_points=OUT.meanfield.path("critical_points"),
        caption_checks=OUT.meanfield.path("caption_checks"),
    log:
        log_path("meanfield", "compute_phase_diagram"),
    benchmark:
        bench_path("meanfield", "compute_phase_diagram")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            phase_diagram=output.phase_diagram,
            critical_points=output.critical_points,
            caption_checks=output.caption_checks,
        ),
        flags=lambda w: cli_args(
            theory=settings_of("MeanfieldTheory", MF),
        ),
        code=code_of("compute_phase_diagram"),
    shell:
        "python -m reproflow.cli.compute_phase_diagram {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule simulate_forward:
    output:
        OUT.meanfield.path("forward_mc"),
    log:
        log_path("meanfield", "simulate_forward"),
    benchmark:
        bench_path("meanfield", "simulate_forward")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            output=output[0],
        ),
        flags=lambda w: cli_args(
            forward=MF["forward"],
            seeding=settings_of("MeanfieldSeeding", MF),
            device=DEVICE,
        ),
        code=code_of("simulate_forward"),
    shell:
        "python -m reproflow.cli.simulate_forward {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule measure_gradients:
    output:
        draws=OUT.meanfield.path("draws"),
        layers=OUT.meanfield.path("layers"),
        gia_draws=OUT.meanfield.path("gia_draws"),
    log:
        log_path("meanfield", "measure_gradients/{mf_group}"),
    benchmark:
        bench_path("meanfield", "measure_gradients/{mf_group}")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            draws_table=output.draws,
            layers_table=output.layers,
            gia_draws_table=output.gia_draws,
        ),
        flags=lambda w: cli_args(
            runs=MF_GROUPS[w.mf_group],
            measure=settings_of("MeanfieldGradientsMeasure", MF["gradients"]),
            seeding=settings_of("MeanfieldSeeding", MF),
            device=DEVICE,
        ),
        code=code_of("measure_gradients"),
    shell:
        "python -m reproflow.cli.measure_gradients {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule fit_gradients:
    input:
        draws=MF_GRADIENTS("draws"),
        gia_draws=MF_GRADIENTS("gia_draws"),
    output:
        rates=OUT.meanfield.path("gradient_rates"),
        gia=OUT.meanfield.path("gia_counterfactual"),
        deep=OUT.meanfield.path("deep_layers"),
    log:
        log_path("meanfield", "fit_gradients"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    params:
        paths=lambda w, input, output: cli_args(
            draws_tables=list(input.draws),
            gia_draws_tables=list(input.gia_draws),
            output=output.rates,
            gia_counterfactual=output.gia,
            deep_layers=output.deep,
        ),
        flags=lambda w: cli_args(
            rates=settings_of("MeanfieldGradientsRates", MF["gradients"]),
            seeding=settings_of("MeanfieldSeeding", MF),
        ),
        code=code_of("fit_gradients"),
    shell:
        "python -m reproflow.cli.fit_gradients {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule fit_universality:
    input:
        MF_GRADIENTS("draws"),
    output:
        slopes=OUT.meanfield.path("universality"),
        points=OUT.meanfield.path("universality_points"),
    log:
        log_path("meanfield", "fit_universality"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    params:
        paths=lambda w, input, output: cli_args(
            draws_tables=list(input),
            slopes=output.slopes,
            points=output.points,
        ),
        flags=lambda w: cli_args(
            universality=settings_of(
                "MeanfieldGradientsUniversality", MF["gradients"]
            ),
            seeding=settings_of("MeanfieldSeeding", MF),
        ),
        code=code_of("fit_universality"),
    shell:
        "python -m reproflow.cli.fit_universality {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_meanfield:
    input:
        tables=_figure_inputs,
        style=FIG_STYLE,
    output:
        png=report(
            OUT.meanfield.path("figure_png"),
            caption="../report/meanfield/figure.rst",
            category="meanfield",
            labels={"figure": "{mf_figure}"},
        ),
        pdf=OUT.meanfield.path("figure_pdf"),
    log:
        log_path("meanfield", "plot_meanfield/{mf_figure}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            inputs=list(input.tables),
            output=output.png,
        ),
        flags=lambda w: cli_args(
            mf_figure=w.mf_figure,
        ),
        code=code_of("plot_meanfield"),
    shell:
        "python -m reproflow.cli.plot_meanfield {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule summarize_meanfield:
    input:
        phase_diagram=OUT.meanfield.path("phase_diagram"),
        critical_points=OUT.meanfield.path("critical_points"),
        caption_checks=OUT.meanfield.path("caption_checks"),
        gradient_rates=OUT.meanfield.path("gradient_rates"),
        universality=OUT.meanfield.path("universality"),
    output:
        OUT.meanfield.path("headline"),
    log:
        log_path("meanfield", "summarize_meanfield"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    params:
        paths=lambda w, input, output: cli_args(
            phase_diagram=input.phase_diagram,
            critical_points=input.critical_points,
            caption_checks=input.caption_checks,
            gradient_rates=input.gradient_rates,
            universality=input.universality,
            output=output[0],
        ),
        flags=lambda w: cli_args(
            scale=config["scale"],
        ),
        code=code_of("summarize_meanfield"),
    shell:
        "python -m reproflow.cli.summarize_meanfield {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule meanfield_all:
    input:
        rules.compute_phase_diagram.output,
        rules.simulate_forward.output,
        OUT.meanfield.expand(
            ["gradient_rates", "gia_counterfactual", "universality", "headline"]
        ),
        OUT.meanfield.expand(["figure_png", "figure_pdf"], mf_figure=MF_FIGURES),
