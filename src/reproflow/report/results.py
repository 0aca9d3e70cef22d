"""The results of a run as documents: ``docs/results/<scale>.md`` and one HTML table per table for the
Snakemake report, both rendered from the run's CSVs (never typed by hand; issue 13 items 3-4).

:data:`TABLES` names every table a results page can show, in reading order, with its title and what it
holds; the rule passes the paths of those its scale produced. Numbers keep four significant digits, as
the phases' own Markdown tables do; every column of a CSV is shown (n, interval, coverage, verdict, ...).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reproflow.io import dataframe_to_markdown
from reproflow.settings.sections import AdvtrainSeeds, DepthSweepCell, MeanfieldGradientsMeasure, PretrainSeeds, Report

FLOAT_FORMAT = ".4g"


@dataclass(frozen=True)
class TableDoc:
    """A table of a results page: its heading and one sentence on what it holds (and the paper's item)."""

    title: str
    about: str


TABLES: dict[str, TableDoc] = {
    "summary": TableDoc("Reproduction summary", "One row per claim of both papers: the measured value, its "
                        "interval, n and coverage, and the verdict computed from the phase tables."),
    "t1": TableDoc("T1: SPA against the baselines (SPA claim T1)", "Robust accuracy of the standard models "
                   "under SPA and each baseline at every eps, paired over seeds and test images, with the interval behind the verdict; "
                   "the primary row decides, the secondary rows carry Holm-adjusted verdicts."),
    "editor_gate": TableDoc("Editor gate (SPA)", "Whether the learned attribute editor is non-inferior to the exact one "
                            "(each drop's interval over seeds and images below a margin relative to the judge's error) "
                            "for the learned-editor attacks to be judged."),
    "t2": TableDoc("T2: SPA adversarial training (SPA claim T2)", "Robust accuracy of the SPA-trained model "
                   "against the baseline defences under each attack, paired over seeds and test images, with the "
                   "interval behind the verdict; the primary row decides, the others carry Holm-adjusted verdicts."),
    "t2_plateau": TableDoc("T2 training adequacy: the plateau test (SPA claim T2)", "Per defence, the change of its "
                           "robust accuracy under the plateau probe (grid-PGD on held-out test images) over its last "
                           "epochs, paired over seeds and probe images, with its two-way interval: a defence is at "
                           "its plateau when the interval lies inside +-tolerance (an equivalence test), and a T2 "
                           "claim row counts only when both its defences are; otherwise T2 is not decidable at this "
                           "scale. The curves: figure advtrain/plateau_curves.png of the run's Snakemake report."),
    "defence_matrix": TableDoc("Defence x attack matrix (SPA claim T2, every eps)", "Mean and spread over seeds of "
                               "accuracy and attack success for every defence and attack at each eps."),
    "fig1_captions": TableDoc("Fig. 1 caption values (MF)", "The fixed points and depth scales the paper's Fig. 1 "
                              "caption quotes, against ours."),
    "gradient_rates": TableDoc("Gradient decay rates (MF, Figs 3-4 analogue)", "Fitted per-layer decay rates of the "
                               "gradient statistics with bootstrap intervals, against the theory's rates."),
    "universality": TableDoc("Universality V ~ m^2 (MF, Fig. 5 analogue)", "Fitted log-log slopes of the gradient "
                             "variance against its mean, with intervals."),
    "depth_fit": TableDoc("Depth-formula fit (MF, Fig. 7 analogue)", "Fitted multiplier k of L_b = k xi per panel and "
                          "depth-scale candidate, with bootstrap intervals and the paper's k."),
    "depth_shape": TableDoc("Depth-formula shape (MF, Fig. 7 analogue)", "Per panel, how well each candidate depth "
                            "scale's shape follows the measured trainable depth."),
    "depth_design": TableDoc("Depth-sweep design check (MF, Fig. 7)", "The authors' released panels run through each "
                             "project panel's sw2 columns and depth grid: the shift of their shape difference, the "
                             "bias a verdict on that design must clear."),
    "depth_platform": TableDoc("Depth-sweep platform check (MF, Fig. 7)", "Sweep cells re-trained with torch's CPU "
                               "kernels forced to another dispatch, a stand-in for another machine: how many networks "
                               "changed their trained status beside how far the seeds split, and how far the shape "
                               "difference moves when the re-trained cell replaces the sweep's own (added to the "
                               "verdict's widening)."),
    "depth_k_steps": TableDoc("k against training steps (MF, Fig. 7)", "Fitted k and shape error sigma per candidate "
                              "at a few training steps per panel, and the step from which the shape difference "
                              "stays within 0.02 of its final value."),
}


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else format(v, FLOAT_FORMAT)
    return str(v).replace("|", "\\|")


def table_markdown(df: pd.DataFrame) -> str:
    """A CSV's rows as a Markdown table (floats to 4 significant digits, NaN as n/a, ``|`` inside cells escaped)."""
    return dataframe_to_markdown(df.astype(object).map(_cell), FLOAT_FORMAT)


def run_settings(pretrain: PretrainSeeds, advtrain: AdvtrainSeeds, depth_sweep: DepthSweepCell,
                 gradients: MeanfieldGradientsMeasure, report: Report) -> list[tuple[str, str]]:
    """What the run was, as the results page's header states it: (label, value as JSON) pairs. The defences' seeds
    are their own line: advtrain.seeds may be a subset of the pretrain seeds (null: all of them)."""
    import json

    values: list[tuple[str, Any]] = [
        ("SPA seeds (pretrain, attack)", list(pretrain.seeds)),
        ("defence seeds (advtrain)", list(pretrain.seeds if advtrain.seeds is None else advtrain.seeds)),
        ("coverage of every interval over seeds", report.coverage),
        ("depth-sweep seeds", list(depth_sweep.seeds)),
        ("mean-field networks per gradient run", gradients.draws),
    ]
    return [(label, json.dumps(value)) for label, value in values]


def results_markdown(scale: str, tables: Mapping[str, pd.DataFrame], sources: Mapping[str, str],
                     settings: Sequence[tuple[str, str]], commit: str | None) -> str:
    """``docs/results/<scale>.md``: a header (scale, commit, seeds and coverage of the run), then every table
    of :data:`TABLES` present in ``tables``, each under its heading with its source CSV."""
    lines = [
        f"# Results: {scale} scale",
        "",
        "GENERATED by the report phase (rule `write_results`, `reproflow.report.results`) from the run's tables; "
        "do not edit: re-run the workflow at this scale to update it. Every number below is read from the CSV "
        "named under its table.",
        "",
        f"- scale: {scale}" + (f"; run of commit `{commit}`" if commit else ""),
    ]
    lines += [f"- {name}: {value}" for name, value in settings]
    for key, doc in TABLES.items():
        if key not in tables:
            continue
        lines += ["", f"## {doc.title}", "", f"{doc.about} Source: `{sources[key]}`.", "", table_markdown(tables[key])]
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:sans-serif;font-size:13px;margin:8px}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        "th{background:#f0f0f0;position:sticky;top:0}tr:nth-child(even){background:#fafafa}")


def table_html(key: str, df: pd.DataFrame, scale: str, source: str) -> str:
    """One table as a standalone HTML page for the Snakemake report: heading, what it holds, source, rows."""
    doc = TABLES[key]
    body = df.to_html(index=False, float_format=lambda v: format(v, FLOAT_FORMAT), na_rep="n/a", border=0)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(doc.title)}</title>"
            f"<style>{_CSS}</style></head><body><h3>{html.escape(doc.title)} ({html.escape(scale)} scale)</h3>"
            f"<p>{html.escape(doc.about)} Source: <code>{html.escape(source)}</code>.</p>{body}</body></html>\n")
