"""Summaries of the tidy attack table: mean and spread over seeds, and the semantic-check table.

Input everywhere: the tidy long table ``phase, dataset, model, attack, eps, seed, metric, value``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from reproflow.attacks.labels import CROSSCHECK_LABEL, LINF_TOL

log = logging.getLogger(__name__)

TIDY = ["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"]
KEYS = ["phase", "dataset", "model", "attack", "eps", "metric"]
# Semantic-preservation metrics reported per semantic attack (see reproflow.attacks.evaluate.metrics_of).
SEMANTIC_CHECKS = ("judge_sem_accuracy", "sem_accuracy", "ssim_adv_sem", "attr_edge_fraction", "attr_mean")


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof 1; 0 for one seed) and seed count per
    (phase, dataset, model, attack, eps, metric)."""
    g = metrics.groupby(KEYS, sort=True)["value"]
    out = g.agg(mean="mean", std=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, n_seeds="count")
    return out.reset_index()


def accuracy_markdown(summary: pd.DataFrame) -> str:
    """Readable pivot: one row per (dataset, model, attack), one column per eps, 'mean ± std' accuracy."""
    acc = summary[summary.metric == "accuracy"].copy()
    acc["cell"] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(acc["mean"], acc["std"])]
    lines = []
    for (dataset, model), part in acc.groupby(["dataset", "model"], sort=True):
        piv = part.pivot(index="attack", columns="eps", values="cell")
        cols = [f"eps={e:g}" for e in piv.columns]
        lines.append(f"### {dataset} / {model}: accuracy (mean ± std over seeds)\n")
        lines.append("| attack | " + " | ".join(cols) + " |")
        lines.append("|---|" + "|".join("---" for _ in cols) + "|")
        for attack, row in piv.iterrows():
            lines.append(f"| {attack} | " + " | ".join(str(v) for v in row.tolist()) + " |")
        lines.append("")
    return "\n".join(lines)


def semantic_checks(metrics: pd.DataFrame, crosscheck_tolerance: float) -> pd.DataFrame:
    """The semantic-check table: ``dataset, model, attack, eps, check, mean, std, n_seeds, reference, passed``.

    - ``judge_sem_accuracy`` etc. for every semantic attack; reference = the judge's clean accuracy.
    - ``linf`` for every attack; reference = eps; passed = max over seeds <= eps + 1e-6. A failure is a
      bug in an attack and raises.
    - ``pgd_minus_apgd_ce``: accuracy under our PGD minus under pyautoattack's APGD-CE (paired by
      seed); passed = |mean| <= ``crosscheck_tolerance``. A failure is reported, not raised.
    """
    summ = summarise(metrics)
    rows: list[dict] = []
    judge_clean = summ[summ.metric == "judge_clean_accuracy"].set_index(["dataset", "model"])["mean"]
    for r in summ[summ.metric.isin(SEMANTIC_CHECKS)].itertuples(index=False):
        ref = float(judge_clean.get((r.dataset, r.model), np.nan)) if r.metric == "judge_sem_accuracy" else np.nan
        rows.append({"dataset": r.dataset, "model": r.model, "attack": r.attack, "eps": r.eps, "check": r.metric,
                     "mean": r.mean, "std": r.std, "n_seeds": r.n_seeds, "reference": ref, "passed": ""})
    linf = metrics[metrics.metric == "linf"].groupby(["dataset", "model", "attack", "eps"])["value"]
    for (dataset, model, attack, eps), v in linf:
        ok = bool(v.max() <= eps + LINF_TOL)
        if not ok:
            raise RuntimeError(f"{dataset}/{model}/{attack} eps={eps}: ||x_adv - x_sem||_inf = {v.max()} > eps")
        rows.append({"dataset": dataset, "model": model, "attack": attack, "eps": eps, "check": "linf",
                     "mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                     "n_seeds": len(v), "reference": eps, "passed": ok})
    acc = metrics[(metrics.metric == "accuracy") & metrics.attack.isin(["pgd", CROSSCHECK_LABEL])]
    if not acc.empty and acc.attack.nunique() == 2:
        wide = acc.pivot_table(index=["dataset", "model", "eps", "seed"], columns="attack", values="value").dropna()
        gap = (wide["pgd"] - wide[CROSSCHECK_LABEL]).groupby(level=["dataset", "model", "eps"])
        for (dataset, model, eps), v in gap:
            mean = float(v.mean())
            ok = abs(mean) <= crosscheck_tolerance + 1e-9  # accuracies are multiples of 1/N: no round-off failures
            if not ok:
                log.warning("cross-check %s/%s eps=%g: acc(PGD) - acc(APGD-CE) = %+.4f exceeds %.4f",
                            dataset, model, eps, mean, crosscheck_tolerance)
            rows.append({"dataset": dataset, "model": model, "attack": "pgd", "eps": eps,
                         "check": "pgd_minus_apgd_ce", "mean": mean,
                         "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "n_seeds": len(v),
                         "reference": crosscheck_tolerance, "passed": ok})
    cols = ["dataset", "model", "attack", "eps", "check", "mean", "std", "n_seeds", "reference", "passed"]
    return pd.DataFrame(rows, columns=cols).sort_values(["dataset", "model", "check", "attack", "eps"], ignore_index=True)
