# report phase: the reproduction summary of both papers (one row per claim, verdicts computed from the
# phase tables by reproflow.report.summary), metrics.json for `dvc metrics show` and plot-ready CSVs for
# `dvc plots show`. One cheap job. The HTML report's front page is workflow/report/workflow.rst.
# Outputs ({R}/report/):
#   summary.csv, summary.md   one row per claim: measured value, uncertainty, scale, verdict, source
#   metrics.json              per claim measured / uncertainty / verdict code (1 holds, 0 inconclusive, -1 fails)
#   plots/accuracy_vs_eps/dataset~{dataset}.csv, plots/trainability/panel~{panel}.csv
# A table is read only when its phase's <phase>_all lists it as a final output; otherwise the claims that
# need it are reported as "not run" (e.g. a scale that leaves a phase out).

REP = config["report"]

# claim input -> the table that holds it (paths fixed by the owning phases' rules files)
REPORT_TABLES = {
    "t1": f"{R}/attack/claims/T1.csv",
    "t2": f"{R}/advtrain/claims/T2.csv",
    "phase_diagram": f"{R}/meanfield/phase_diagram.csv",
    "gradient_rates": f"{R}/meanfield/gradient_rates.csv",
    "universality": f"{R}/meanfield/universality.csv",
    "captions": f"{R}/meanfield/caption_checks.csv",
    "depth_boundaries": f"{R}/depth_sweep/boundaries.csv",
    "depth_shape": f"{R}/depth_sweep/formula_shape.csv",
    "attack_table": f"{R}/attack/metrics.csv",
}
REPORT_FINAL = {
    str(p)
    for p in (
        *rules.attack_all.input,
        *rules.advtrain_all.input,
        *rules.meanfield_all.input,
        *rules.depth_sweep_all.input,
    )
}
REPORT_INPUTS = {k: p for k, p in REPORT_TABLES.items() if p in REPORT_FINAL}


rule summarise_claims:
    input:
        **REPORT_INPUTS,
    output:
        summary=report(
            f"{R}/report/summary.csv",
            caption="../report/report/summary.rst",
            category="summary",
            labels={"table": "reproduction summary (CSV)"},
        ),
        markdown=f"{R}/report/summary.md",
        metrics=f"{R}/report/metrics.json",
        plots=directory(f"{R}/report/plots"),
    log:
        log_path("report", "summarise_claims"),
    benchmark:
        bench_path("report", "summarise_claims")
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            **{k: input.get(k) for k in REPORT_TABLES},
            summary=output.summary,
            metrics=output.metrics,
            plots=output.plots,
        ),
        flags=cli_args(scale=config["scale"], report=REP),
        code=code_of("summarise_claims"),
    shell:
        "python -m reproflow.cli.summarise_claims {params.paths} {params.flags} --log {log:q} --threads {threads}"


# The run's results as documents, from its tables alone (never typed): docs/results/<scale>.md, linked from
# the README, and one HTML table per table, shown by `snakemake --report` (keys: reproflow.report.results.TABLES).
RESULT_TABLES = {
    "summary": f"{R}/report/summary.csv",
    "t1": f"{R}/attack/claims/T1.csv",
    "editor_gate": f"{R}/attack/claims/editor_gate.csv",
    "t2": f"{R}/advtrain/claims/T2.csv",
    "t2_plateau": f"{R}/advtrain/claims/T2_plateau.csv",
    "defence_matrix": f"{R}/advtrain/matrix.csv",
    "fig1_captions": f"{R}/meanfield/caption_checks.csv",
    "gradient_rates": f"{R}/meanfield/gradient_rates.csv",
    "universality": f"{R}/meanfield/universality.csv",
    "depth_fit": f"{R}/depth_sweep/formula_fit.csv",
    "depth_shape": f"{R}/depth_sweep/formula_shape.csv",
    "depth_design": f"{R}/depth_sweep/design_check.csv",
    "depth_platform": f"{R}/depth_sweep/platform_check.csv",
    "depth_k_steps": f"{R}/depth_sweep/k_steps_table.csv",
}
RESULT_INPUTS = {
    k: p for k, p in RESULT_TABLES.items() if k == "summary" or p in REPORT_FINAL
}


rule write_results:
    input:
        **RESULT_INPUTS,
    output:
        **{
            k: report(
                f"{R}/report/tables/{k}.html",
                caption="../report/report/table.rst",
                category="summary" if k == "summary" else "tables",
                labels={"table": "reproduction summary" if k == "summary" else k},
            )
            for k in RESULT_INPUTS
        },
        doc=f"docs/results/{config['scale']}.md",
    log:
        log_path("report", "write_results"),
    conda:
        "../envs/reproflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paths=lambda w, input, output: cli_args(
            tables={k: input[k] for k in RESULT_INPUTS},
            doc=output.doc,
            html_dir=f"{R}/report/tables",
        ),
        flags=cli_args(
            scale=config["scale"],
            settings={
                "SPA seeds (pretrain, attack, advtrain)": PRE["seeds"],
                "depth-sweep seeds": DS["seeds"],
                "mean-field networks per gradient run": MF["gradients"]["draws"],
                "coverage of every interval over seeds": REP["coverage"],
            },
        ),
        code=code_of("write_results"),
    shell:
        "python -m reproflow.cli.write_results {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule report_all:
    input:
        f"{R}/report/summary.csv",
        f"{R}/report/summary.md",
        f"{R}/report/metrics.json",
        f"{R}/report/plots",
        rules.write_results.output,
