# depth_sweep phase (Huang et al. 2020, Figs 6-7): trainability of deep tanh dropout networks.
#   train_depth_cell        one job per (panel, depth L): every (seed, sw2) network as one stacked model
#   collect_depth_sweep     per panel: tidy accuracy + learning-curve tables
#   fit_depth_formula       boundaries L_b(sw2), k in L_b = k * xi per candidate, headline.json
#   retrain_depth_cell      the platform check: a few cells re-trained with another CPU's kernels
#   plot_depth_sweep        heatmaps with 6 xi_c, 12 xi_1, 12 xi_2 and the fitted line; fit summary
#   measure_training_speed  Fig. 6: steps to 25 % test accuracy per learning rate, one job per (rho, depth)
#   plot_training_speed     steps against eta * L (rho = 1) and against eta (rho < 1)
# Depth scales come from the meanfield phase's phase_diagram.csv.

SPEED = DS["speed"]
PLATFORM = DS["platform_check"]
PLATFORM_CELLS = [
    OUT.depth_sweep.path("platform_cell", panel=c["panel"], depth=c["depth"])
    for c in PLATFORM["cells"]
]


wildcard_constraints:
    panel="[A-Za-z0-9_]+",
    depth="[0-9]+",
    speed_rho="[0-9.]+",


rule train_depth_cell:
    input:
        train=lambda w: ds_split(PANELS[w.panel]["dataset"], "train"),
        test=lambda w: ds_split(PANELS[w.panel]["dataset"], "test"),
    output:
        acc=OUT.depth_sweep.path("cell_accuracy"),
        curves=OUT.depth_sweep.path("cell_curves"),
    log:
        log_path("depth_sweep", "train_depth_cell/{panel}/{depth}"),
    benchmark:
        bench_path("depth_sweep", "train_depth_cell/{panel}/{depth}")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=ds_cell_minutes,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            output=output.acc,
            curves=output.curves,
        ),
        flags=lambda w: ds_cell_flags(
            w.panel,
            w.depth,
            f"{R}/checkpoints/depth_sweep/panel~{w.panel}/depth~{w.depth}.pt",
        ),
        code=code_of("train_depth_cell"),
    shell:
        "python -m reproflow.cli.train_depth_cell {params.paths} {params.flags} --log {log:q} --threads {threads}"


# The platform check: identical code and settings round differently on another CPU (its vector kernels,
# BLAS paths), and 300 SGD steps amplify the last bits (benchmarks/bench_platform_variation.py). This job
# re-trains a sweep cell with torch's CPU kernels and MKL's code path forced to another CPU's (read when
# they start); fit_depth_formula compares it with the sweep's own cell and widens the verdict.
rule retrain_depth_cell:
    input:
        train=lambda w: ds_split(PANELS[w.panel]["dataset"], "train"),
        test=lambda w: ds_split(PANELS[w.panel]["dataset"], "test"),
    output:
        acc=OUT.depth_sweep.path("platform_cell"),
        curves=OUT.depth_sweep.path("platform_cell_curves"),
    log:
        log_path("depth_sweep", "retrain_depth_cell/{panel}/{depth}"),
    benchmark:
        bench_path("depth_sweep", "retrain_depth_cell/{panel}/{depth}")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=ds_cell_minutes,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            output=output.acc,
            curves=output.curves,
        ),
        flags=lambda w: ds_cell_flags(
            w.panel,
            w.depth,
            f"{R}/checkpoints/depth_sweep/platform/panel~{w.panel}/depth~{w.depth}.pt",
        ),
        aten=PLATFORM["aten_cpu_capability"],
        mkl=PLATFORM["mkl_cbwr"],
        code=code_of("train_depth_cell"),
    shell:
        "ATEN_CPU_CAPABILITY={params.aten} MKL_CBWR={params.mkl} python -m reproflow.cli.train_depth_cell {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule collect_depth_sweep:
    input:
        cells=lambda w: OUT.depth_sweep.expand(
            ["cell_accuracy"], panel=[w.panel], depth=PANELS[w.panel]["depth_grid"]
        ),
        curves=lambda w: OUT.depth_sweep.expand(
            ["cell_curves"], panel=[w.panel], depth=PANELS[w.panel]["depth_grid"]
        ),
    output:
        acc=OUT.depth_sweep.path("accuracy"),
        md=OUT.depth_sweep.path("accuracy_md"),
        curves=OUT.depth_sweep.path("curves"),
    log:
        log_path("depth_sweep", "collect_depth_sweep/{panel}"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            cells=input.cells,
            cell_curves=input.curves,
            output=output.acc,
            curves=output.curves,
        ),
        code=code_of("collect_depth_sweep"),
    shell:
        "python -m reproflow.cli.collect_depth_sweep {params.paths} --log {log:q} --threads {threads}"


rule fit_depth_formula:
    input:
        panels=OUT.depth_sweep.expand(["accuracy"], panel=PANELS),
        curves=OUT.depth_sweep.expand(["curves"], panel=PANELS),
        reference_panels=DS["reference_panels"],
        phase_diagram=OUT.meanfield.path("phase_diagram"),
        platform_cells=PLATFORM_CELLS,
    output:
        boundaries=OUT.depth_sweep.path("boundaries"),
        fit=OUT.depth_sweep.path("formula_fit"),
        md=OUT.depth_sweep.path("formula_fit_md"),
        shape=OUT.depth_sweep.path("formula_shape"),
        k_steps=OUT.depth_sweep.path("k_steps"),
        k_steps_table=OUT.depth_sweep.path("k_steps_table"),
        design_check=OUT.depth_sweep.path("design_check"),
        platform_check=OUT.depth_sweep.path("platform_check"),
        headline=OUT.depth_sweep.path("headline"),
    log:
        log_path("depth_sweep", "fit_depth_formula/all"),
    benchmark:
        bench_path("depth_sweep", "fit_depth_formula/all")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            panels=input.panels,
            curves=input.curves,
            k_steps=output.k_steps,
            k_steps_table=output.k_steps_table,
            design_check=output.design_check,
            platform_cells=list(input.platform_cells) or None,
            platform_check=output.platform_check,
            reference_panels=input.reference_panels,
            phase_diagram=input.phase_diagram,
            shape=output.shape,
            boundaries=output.boundaries,
            output=output.fit,
            headline=output.headline,
        ),
        flags=lambda w: cli_args(
            fit=settings_of("DepthSweepFit", DS),
        ),
        code=code_of("fit_depth_formula"),
    shell:
        "python -m reproflow.cli.fit_depth_formula {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_depth_sweep:
    input:
        panels=OUT.depth_sweep.expand(["accuracy"], panel=PANELS),
        boundaries=OUT.depth_sweep.path("boundaries"),
        fit=OUT.depth_sweep.path("formula_fit"),
        k_steps=OUT.depth_sweep.path("k_steps"),
        phase_diagram=OUT.meanfield.path("phase_diagram"),
        style=FIG_STYLE,
    output:
        heatmaps=[
            report(
                OUT.depth_sweep.path("heatmap_png", panel=p),
                caption="../report/depth_sweep/heatmap.rst",
                category="depth_sweep",
                subcategory="trainability heatmaps",
                labels={"panel": p},
            )
            for p in PANELS
        ],
        heatmap_pdfs=OUT.depth_sweep.expand(["heatmap_pdf"], panel=PANELS),
        summary=report(
            OUT.depth_sweep.path("formula_fit_png"),
            caption="../report/depth_sweep/formula_fit.rst",
            category="depth_sweep",
            subcategory="formula fit",
            labels={"figure": "fitted multiplier k"},
        ),
        summary_pdf=OUT.depth_sweep.path("formula_fit_pdf"),
        k_steps=report(
            OUT.depth_sweep.path("k_steps_png"),
            caption="../report/depth_sweep/k_steps.rst",
            category="depth_sweep",
            subcategory="formula fit",
            labels={"figure": "k against training steps"},
        ),
        k_steps_pdf=OUT.depth_sweep.path("k_steps_pdf"),
    log:
        log_path("depth_sweep", "plot_depth_sweep/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            panels=input.panels,
            heatmaps=output.heatmaps,
            boundaries=input.boundaries,
            fit=input.fit,
            phase_diagram=input.phase_diagram,
            summary=output.summary,
            k_steps=input.k_steps,
            k_steps_figure=output.k_steps,
        ),
        flags=lambda w: cli_args(
            scale=config["scale"],
        ),
        code=code_of("plot_depth_sweep"),
    shell:
        "python -m reproflow.cli.plot_depth_sweep {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule measure_training_speed:
    input:
        train=ds_split(SPEED["dataset"], "train"),
        test=ds_split(SPEED["dataset"], "test"),
    output:
        OUT.depth_sweep.path("speed_job"),
    log:
        log_path("depth_sweep", "measure_training_speed/{speed_rho}/{depth}"),
    benchmark:
        bench_path("depth_sweep", "measure_training_speed/{speed_rho}/{depth}")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=GPUS,
    params:
        paths=lambda w, input, output: cli_args(
            train=input.train,
            test=input.test,
            output=output[0],
        ),
        flags=lambda w: cli_args(
            speed=settings_of("DepthSweepSpeedJob", SPEED),
            speed_rho=float(w.speed_rho),
            depth=int(w.depth),
            device=DEVICE,
        ),
        code=code_of("measure_training_speed"),
    shell:
        "python -m reproflow.cli.measure_training_speed {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule plot_training_speed:
    input:
        tables=[
            OUT.depth_sweep.path("speed_job", speed_rho=st["rho"], depth=d)
            for st in SPEED["settings"]
            for d in st["depth_grid"]
        ],
        style=FIG_STYLE,
    output:
        table=OUT.depth_sweep.path("speed_steps"),
        md=OUT.depth_sweep.path("speed_steps_md"),
        png=report(
            OUT.depth_sweep.path("speed_png"),
            caption="../report/depth_sweep/speed.rst",
            category="depth_sweep",
            subcategory="training speed",
            labels={"figure": "training speed"},
        ),
        pdf=OUT.depth_sweep.path("speed_pdf"),
    log:
        log_path("depth_sweep", "plot_training_speed/all"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            style=input.style,
            tables=list(input.tables),
            output=output.table,
            figure=output.png,
        ),
        flags=lambda w: cli_args(
            scale=config["scale"],
        ),
        code=code_of("plot_training_speed"),
    shell:
        "python -m reproflow.cli.plot_training_speed {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule depth_sweep_all:
    input:
        OUT.depth_sweep.expand(
            ["accuracy", "accuracy_md", "curves", "heatmap_png", "heatmap_pdf"],
            panel=PANELS,
        ),
        rules.fit_depth_formula.output,
        rules.plot_depth_sweep.output.summary,
        rules.plot_depth_sweep.output.summary_pdf,
        rules.plot_depth_sweep.output.k_steps,
        rules.plot_depth_sweep.output.k_steps_pdf,
        rules.plot_training_speed.output,
