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
            labels={"table": "reproduction summary"},
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


rule report_all:
    input:
        f"{R}/report/summary.csv",
        f"{R}/report/summary.md",
        f"{R}/report/metrics.json",
        f"{R}/report/plots",
