"""Claim T1 of SPA (spec section 1), computed from the tidy attack table.

T1: at the same small eps, accuracy under SPA is lower than under existing attacks, on every
benchmark. At each (dataset, model, eps) we compare SPA with the *best* baseline (the listed
existing attack with the lowest mean accuracy over seeds; joint-PGD is a white-box upper bound,
not a baseline). Per seed ``d_s = acc_SPA(s) - acc_best(s)`` (paired: same classifier, same test
samples); ``SE = std(d, ddof=1) / sqrt(n)``. Verdict with factor ``k`` (default 2):

- holds: ``mean(d) + k SE < 0`` (SPA lower beyond k standard errors),
- fails: ``mean(d) - k SE > 0`` (SPA higher beyond k standard errors),
- inconclusive otherwise, and always with fewer than 2 seeds.

The overall verdict: holds if every row holds, fails if any row fails, else inconclusive.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

T1_COLUMNS = [
    "dataset", "model", "eps", "clean_accuracy", "spa_accuracy", "spa_std", "best_baseline", "baseline_accuracy",
    "baseline_std", "difference", "difference_std", "difference_se", "n_seeds", "joint_pgd_accuracy", "verdict",
]


def verdict(diffs: np.ndarray, k: float) -> tuple[float, float, float, str]:
    """(mean, std, SE, verdict) of paired differences SPA - baseline (see module docstring)."""
    n = len(diffs)
    mean = float(np.mean(diffs)) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan"), "inconclusive"
    std = float(np.std(diffs, ddof=1))
    se = std / math.sqrt(n)
    if mean + k * se < 0:
        return mean, std, se, "holds"
    if mean - k * se > 0:
        return mean, std, se, "fails"
    return mean, std, se, "inconclusive"


def overall_verdict(verdicts: list[str]) -> str:
    if not verdicts:
        return "inconclusive"
    if any(v == "fails" for v in verdicts):
        return "fails"
    if all(v == "holds" for v in verdicts):
        return "holds"
    return "inconclusive"


def claim_t1(metrics: pd.DataFrame, baselines: tuple[str, ...], k: float) -> pd.DataFrame:
    """The T1 table (columns :data:`T1_COLUMNS`), one row per (dataset, model, eps) where SPA ran."""
    acc = metrics[metrics.metric == "accuracy"]
    rows: list[dict[str, Any]] = []
    for (dataset, model, eps), part in acc.groupby(["dataset", "model", "eps"], sort=True):
        wide = part.pivot_table(index="seed", columns="attack", values="value")
        if "spa" not in wide:
            continue
        present = [b for b in baselines if b in wide]
        if not present:
            raise ValueError(f"{dataset}/{model} eps={eps}: none of the T1 baselines {baselines} was evaluated")
        best = min(present, key=lambda b: float(wide[b].mean()))
        paired = wide[["spa", best]].dropna()
        mean, std, se, v = verdict((paired["spa"] - paired[best]).to_numpy(), k)
        clean = metrics[(metrics.metric == "clean_accuracy") & (metrics.dataset == dataset) & (metrics.model == model)
                        & (metrics.attack == "spa") & (metrics.eps == eps)]["value"]
        rows.append({
            "dataset": dataset, "model": model, "eps": eps,
            "clean_accuracy": float(clean.mean()),
            "spa_accuracy": float(wide["spa"].mean()),
            "spa_std": float(wide["spa"].std(ddof=1)) if len(wide) > 1 else float("nan"),
            "best_baseline": best,
            "baseline_accuracy": float(wide[best].mean()),
            "baseline_std": float(wide[best].std(ddof=1)) if len(wide) > 1 else float("nan"),
            "difference": mean, "difference_std": std, "difference_se": se, "n_seeds": len(paired),
            "joint_pgd_accuracy": float(wide["joint_pgd"].mean()) if "joint_pgd" in wide else float("nan"),
            "verdict": v,
        })
    return pd.DataFrame(rows, columns=T1_COLUMNS)


def headline(t1: pd.DataFrame, headline_eps: dict[str, float], baselines: tuple[str, ...], k: float) -> dict[str, Any]:
    """The report's summary of T1: the overall verdict and each dataset's row at its headline eps."""
    per_dataset = {}
    for dataset, eps in headline_eps.items():
        sel = t1[(t1.dataset == dataset) & np.isclose(t1.eps, eps)]
        if not sel.empty:
            per_dataset[dataset] = {k2: _plain(v) for k2, v in sel.iloc[0].to_dict().items()}
    verdicts = t1["verdict"].tolist()
    return {
        "claim": "T1",
        "statement": "at the same small eps, accuracy under SPA is lower than under existing attacks, on every benchmark",
        "rule": f"per (dataset, eps): SPA minus the best of {list(baselines)} (paired over seeds); "
                f"holds if mean + {k:g} SE < 0, fails if mean - {k:g} SE > 0, else inconclusive (and with < 2 seeds)",
        "verdict": overall_verdict(verdicts),
        "counts": {v: verdicts.count(v) for v in ("holds", "fails", "inconclusive")},
        "headline": per_dataset,
    }


def _plain(v: Any) -> Any:
    """JSON-safe scalar: numpy -> Python, NaN -> None (strict JSON has no NaN)."""
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and math.isnan(v) else v
