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

# claim input -> the table that holds it (reproflow.catalogue.REPORT_TABLES: the owning phases' outputs)
REPORT_TABLES = OUT.tables(catalogue.REPORT_TABLES)
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
            OUT.report.path("summary"),
            caption="../report/report/summary.rst",
            category="summary",
            labels={"table": "reproduction summary (CSV)"},
        ),
        markdown=OUT.report.path("summary_md"),
        metrics=OUT.report.path("metrics"),
        plots=directory(OUT.report.path("plots")),
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
RESULT_TABLES = OUT.tables(catalogue.RESULT_TABLES)
RESULT_INPUTS = {
    k: p for k, p in RESULT_TABLES.items() if k == "summary" or p in REPORT_FINAL
}


rule write_results:
    input:
        **RESULT_INPUTS,
    output:
        **{
            k: report(
                OUT.report.path("table", table=k),
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
            html_dir=OUT.report.path("tables"),
        ),
        flags=cli_args(
            scale=config["scale"],
            pretrain=settings_of("PretrainSeeds", PRE),
            advtrain=settings_of("AdvtrainSeeds", ADV),
            depth_sweep=settings_of("DepthSweepCell", DS),
            gradients=settings_of("MeanfieldGradientsMeasure", MF["gradients"]),
            report=REP,
        ),
        code=code_of("write_results"),
    shell:
        "python -m reproflow.cli.write_results {params.paths} {params.flags} --log {log:q} --threads {threads}"


rule report_all:
    input:
        rules.summarise_claims.output,
        rules.write_results.output,
