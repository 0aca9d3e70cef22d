"""write_results: the results page and the report's HTML tables come from the CSVs, cell for cell."""

from __future__ import annotations

import json

import pandas as pd

from reproflow.cli import write_results
from reproflow.report.results import TABLES, table_markdown


def test_table_markdown_keeps_four_digits_marks_missing_and_escapes_bars():
    df = pd.DataFrame({"claim": ["|g_ab| rate"], "measured": [0.123456], "low": [float("nan")], "n": [5]})
    lines = table_markdown(df).splitlines()
    assert lines[0] == "| claim | measured | low | n |"
    assert lines[2] == "| \\|g_ab\\| rate | 0.1235 | n/a | 5 |"


# what the run was, as the rule hands it over: the sections (groups) that hold the seeds, draws and coverage
RUN = ["--pretrain", json.dumps({"seeds": [0, 1]}), "--advtrain", json.dumps({"seeds": [1]}),
       "--depth-sweep", json.dumps({"width": 8, "sb2": 0.05, "seeds": [3], "train_size": 0, "test_size": 0,
                                    "curve_every": 1, "checkpoint_every": 1, "max_stack": 0}),
       "--gradients", json.dumps({"depth": 4, "draws": 2, "draws_per_batch": 2}),
       "--report", json.dumps({"coverage": 0.9, "slope_tolerance": 0.2, "rate_tolerance": 0.2, "cstar_margin": 0.01,
                               "accuracy_metric": "accuracy"})]


def test_cli_writes_the_page_and_one_html_table_per_csv(tmp_path):
    summary = tmp_path / "summary.csv"
    t1 = tmp_path / "T1.csv"
    pd.DataFrame({"claim": ["T1"], "verdict": ["holds"], "n": [5], "coverage": [0.95]}).to_csv(summary, index=False)
    pd.DataFrame({"eps": [0.03], "diff": [-0.1104], "ci_low": [-0.2], "ci_high": [-0.02]}).to_csv(t1, index=False)
    doc, html = tmp_path / "docs" / "quick.md", tmp_path / "tables"
    rc = write_results.main(["--tables", json.dumps({"summary": str(summary), "t1": str(t1)}), "--doc", str(doc),
                             "--html-dir", str(html), "--scale", "quick", *RUN])
    assert rc == 0
    page = doc.read_text()
    assert page.startswith("# Results: quick scale") and "- SPA seeds (pretrain, attack): [0, 1]\n- defence seeds (advtrain): [1]\n" in page
    assert "- coverage of every interval over seeds: 0.9\n- depth-sweep seeds: [3]\n" in page
    assert page.index(TABLES["summary"].title) < page.index(TABLES["t1"].title)
    assert "| 0.03 | -0.1104 | -0.2 | -0.02 |" in page and f"Source: `{t1}`" in page
    for key in ("summary", "t1"):
        text = (html / f"{key}.html").read_text()
        assert "<table" in text and TABLES[key].title in text and "quick scale" in text


def test_unknown_table_key_is_a_clean_error(tmp_path):
    rc = write_results.main(["--tables", json.dumps({"nope": "x.csv"}), "--doc", str(tmp_path / "d.md"),
                             "--html-dir", str(tmp_path / "h"), "--scale", "quick", *RUN])
    assert rc == 2
