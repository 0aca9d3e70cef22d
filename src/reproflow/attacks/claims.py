"""Claim T1 of SPA (spec section 1), computed from the tidy attack table.

T1: at the same small eps, accuracy under SPA is lower than under existing attacks, on every
benchmark. At each (dataset, model, eps) we compare SPA with the *best* baseline (the listed
existing attack with the lowest mean accuracy over seeds; joint-PGD is a white-box upper bound,
not a baseline). Per seed ``d_s = acc_SPA(s) - acc_best(s)`` (paired: same classifier, same test
samples). The verdict is the project's one rule (:mod:`reproflow.report.verdicts`) on the paired two-way interval
over seeds and test images (:func:`reproflow.report.verdicts.two_way_interval`, from the evaluation jobs' per-image
outcomes) at the coverage ``report.coverage`` (e.g. 95 %):

- holds: the interval lies below 0 (SPA lower),
- fails: it lies above 0 (SPA higher),
- inconclusive otherwise, with fewer than 2 seeds, or with zero spread between seeds; such a row says
  how many seeds would decide it at the observed mean and spread (``seeds_to_decide``).

The overall verdict of each reading: the primary row of each dataset (params attack.t1.primary_eps, declared before
the run) decides (holds if every dataset's primary row holds, fails if any fails); the other rows are secondary, their
p-values Holm-adjusted within the reading (``p_adjusted``, ``adjusted_verdict``) and reported, not deciding.

Two readings (issue 21; column ``reading``): ``single`` compares SPA with the best of the existing attacks each in
its own threat model (``attack.t1.baselines``, the paper's wording). SPA's threat model (rotation and l_inf noise)
contains each of theirs and its grid start contains the attribute attack's worst case, so this reading can hardly
fail. ``composed`` compares SPA with the best of existing attacks composed in SPA's own threat model
(``attack.t1.composed_baselines``: grid-PGD, joint-PGD and joint-APGD with the grid start): does SPA's generator and
(a', z) search beat a naive composition? Each row also carries SPA's gap to the reference, the per-image worst case
over ``attack.reference`` (``reference_gap`` = SPA minus reference accuracy, >= 0 when SPA is a member).

Editors (issue #11): on the rotation sets the exact rotation is the primary editor of every semantic
attack (labels without suffix; ``editor = exact``); the learned MSP editor's runs (``<attack>_learned``)
give a second row per (dataset, eps) with ``editor = learned``, compared with the same pixel baselines
and the learned-editor semantic baselines (including the reconstruction + PGD control). A learned-editor
row counts toward the verdict only when the editor passes its semantic gate
(:mod:`reproflow.attacks.gate`, thresholds fixed in params); on datasets with no exact editor (CelebA)
the primary rows are learned-editor rows and are gated the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from reproflow.attacks.labels import LEARNED_SUFFIX, REFERENCE_LABEL, SEMANTIC_ATTACKS
from reproflow.attacks.outcomes import Outcomes
from reproflow.report.verdicts import (
    Interval,
    Verdict,
    adjusted_verdict,
    directional_verdict,
    holm,
    t_interval,
    two_way_row,
    units_to_decide,
)

READINGS = ("single", "composed")
T1_COLUMNS = [
    "dataset", "model", "editor", "reading", "eps", "clean_accuracy", "spa_accuracy", "spa_std", "best_baseline",
    "baseline_accuracy", "baseline_std", "difference", "difference_low", "difference_high", "coverage", "method",
    "n_seeds", "n_images", "seed_se", "image_se", "seeds_to_decide", "images_to_decide", "role", "p_value",
    "p_adjusted", "adjusted_verdict",
    "joint_pgd_accuracy", "joint_apgd_accuracy", "recon_pgd_accuracy", "grid_pgd_accuracy", "reference_accuracy",
    "reference_gap", "verdict", "gate", "counts",
]
GATE_VIEWS = ("recon", "edit", "attack")
GATE_COLUMNS = [
    "dataset", "model", "n_seeds", "n_images", "clean", "judge_error", "relative_margin", "delta", "coverage",
    "recon", "edit", "reference_edit", "attack_eps",
    *[f"{v}_{c}" for v in GATE_VIEWS for c in ("drop", "low", "high", "verdict")], "verdict", "passed",
]


def editor_gates(outcomes: Outcomes, relative_margin: float, coverage: float, attack_eps: dict[str, float]
                 ) -> pd.DataFrame:
    """The learned editor's gate per (dataset, model) (:mod:`reproflow.attacks.gate`; columns :data:`GATE_COLUMNS`)
    from the per-image outcomes: three paired drops of the judge's correctness, each a non-inferiority test
    (:func:`reproflow.attacks.gate.noninferiority`) at margin ``delta = relative_margin * (1 - judge clean
    accuracy)``: ``recon`` (clean minus reconstruction), ``edit`` (the exact rotation to random targets minus the
    learned edit to the same targets; clean without an exact editor) and ``attack`` (the judge on exact SPA's
    x_sem minus on learned SPA's, at ``attack_eps`` of the dataset; ``not run`` where the learned SPA did not run).
    ``verdict`` combines the views (:func:`reproflow.attacks.gate.combine_gate`); ``passed`` = verdict pass."""
    from reproflow.attacks.gate import combine_gate, noninferiority
    from reproflow.attacks.outcomes import gate_view_label, judge_label

    if not relative_margin >= 0:
        raise ValueError(f"the gate's relative margin must be >= 0, got {relative_margin}")
    pairs = sorted({(d, m) for d, m, a, _ in outcomes.keys() if a == gate_view_label("clean")})
    rows = []
    for dataset, model in pairs:
        def view(v: str, dataset: str = dataset, model: str = model) -> pd.DataFrame:
            return outcomes.array(dataset, model, gate_view_label(v), 0.0)

        clean = view("clean")
        has_ref = (dataset, model, gate_view_label("reference_edit"), 0.0) in outcomes
        ref = view("reference_edit") if has_ref else clean
        judge_error = 1.0 - float(clean.to_numpy().mean())
        delta = relative_margin * judge_error
        row: dict[str, Any] = {
            "dataset": dataset, "model": model, "n_seeds": int(clean.shape[0]), "n_images": int(clean.shape[1]),
            "clean": 1 - judge_error, "judge_error": judge_error, "relative_margin": relative_margin, "delta": delta,
            "coverage": coverage, "recon": float(view("recon").to_numpy().mean()),
            "edit": float(view("edit").to_numpy().mean()), "reference_edit": float(ref.to_numpy().mean()),
            "attack_eps": attack_eps.get(dataset, float("nan")),
        }
        drops = {"recon": outcomes.paired(dataset, (model, gate_view_label("clean"), 0.0),
                                          (model, gate_view_label("recon"), 0.0)),
                 "edit": outcomes.paired(dataset, (model, gate_view_label("reference_edit" if has_ref else "clean"), 0.0),
                                         (model, gate_view_label("edit"), 0.0))}
        eps = attack_eps.get(dataset)
        spa, spa_l = judge_label("spa"), judge_label("spa" + LEARNED_SUFFIX)
        if eps is not None and (dataset, model, spa, eps) in outcomes and (dataset, model, spa_l, eps) in outcomes:
            drops["attack"] = outcomes.paired(dataset, (model, spa, eps), (model, spa_l, eps))
        verdicts = []
        for v in GATE_VIEWS:
            if v not in drops:
                row.update({f"{v}_drop": float("nan"), f"{v}_low": float("nan"), f"{v}_high": float("nan"),
                            f"{v}_verdict": "not run"})
                continue
            iv, verdict_v = noninferiority(drops[v], delta, coverage)
            row.update({f"{v}_drop": iv.estimate, f"{v}_low": iv.low, f"{v}_high": iv.high, f"{v}_verdict": verdict_v})
            verdicts.append(verdict_v)
        row["verdict"] = combine_gate(verdicts)
        row["passed"] = row["verdict"] == "pass"
        rows.append(row)
    return pd.DataFrame(rows, columns=GATE_COLUMNS)


# the gate column's values besides pass / fail / undecided (words pandas keeps as strings)
NOT_GATED = "not gated"
NOT_COMPUTED = "not computed"


def gate_counts(editor: str, passed: bool | str | None) -> tuple[str, bool]:
    """(``gate`` column, ``counts``) of a claim row judged through ``editor``: anything but ``learned`` counts
    (gate ``not gated``); a ``learned`` row counts only when its editor passed the gate (``pass`` / ``fail``, or the
    gate's verdict when ``passed`` is one of pass / fail / undecided; ``not computed`` and not counted where no gate
    was computed). No value is one pandas reads back as NaN (``n/a``, ``NA``, ``None``, ...): the column round-trips
    through the CSV and the results page."""
    if editor != "learned":
        return NOT_GATED, True
    if isinstance(passed, str):
        return passed, passed == "pass"
    return (NOT_COMPUTED if passed is None else ("pass" if passed else "fail")), bool(passed)


def gate_passed(gates: pd.DataFrame | None) -> dict[tuple[str, str], bool]:
    """``(dataset, model) -> passed`` from the gate table (:func:`editor_gates`; empty without one)."""
    if gates is None:
        return {}
    return {(r.dataset, r.model): bool(r.passed) for r in gates.itertuples(index=False)}


def gate_verdicts(gates: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """``(dataset, model) -> pass / fail / undecided`` from the gate table (:func:`editor_gates`)."""
    if gates is None or "verdict" not in gates.columns:
        return {k: "pass" if v else "fail" for k, v in gate_passed(gates).items()}
    return {(r.dataset, r.model): str(r.verdict) for r in gates.itertuples(index=False)}


def _primary_editor(metrics: pd.DataFrame, dataset: str, model: str) -> str:
    """``exact`` or ``learned`` from the evaluation's ``editor_is_exact`` rows; ``unrecorded`` for a table
    written before the editor was recorded (its rows count as they always did)."""
    sel = metrics[(metrics.metric == "editor_is_exact") & (metrics.dataset == dataset) & (metrics.model == model)]
    if sel.empty:
        return "unrecorded"
    return "exact" if bool((sel["value"] > 0.5).all()) else "learned"


def verdict(diffs: np.ndarray, coverage: float) -> tuple[Interval, str, int | None]:
    """(interval, verdict, seeds to decide) of paired differences SPA - baseline (see module docstring)."""
    iv = t_interval(list(diffs), coverage)
    v = directional_verdict(iv, "less")
    need = units_to_decide(list(diffs), coverage) if v is Verdict.INCONCLUSIVE else None
    return iv, v.value, need


def overall_verdict(verdicts: list[str]) -> str:
    if not verdicts:
        return "inconclusive"
    if any(v == "fails" for v in verdicts):
        return "fails"
    if all(v == "holds" for v in verdicts):
        return "holds"
    return "inconclusive"


def claim_t1(
    metrics: pd.DataFrame, baselines: tuple[str, ...], coverage: float, gates: pd.DataFrame | None = None,
    composed: tuple[str, ...] = (), outcomes: Outcomes | None = None, primary_eps: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The T1 table (columns :data:`T1_COLUMNS`), one row per (dataset, model, editor, reading, eps) where SPA ran
    with that editor: reading ``single`` against ``baselines``, ``composed`` against ``composed`` (where any of
    them ran). ``gates`` (:func:`editor_gates`) decides whether learned-editor rows count; without it they never
    do.

    ``outcomes`` (the per-image table of the evaluation jobs): every interval is the paired two-way interval over
    seeds and test images (:func:`reproflow.report.verdicts.two_way_interval`, the same images for both arms);
    without it (tables written before issue 21), the t-interval over seeds on the fixed image draw.
    ``primary_eps`` (dataset -> eps, params attack.t1.primary_eps): the row of each reading at that eps through the
    dataset's primary editor is the ``primary`` comparison that decides the reading; every other row is ``secondary``,
    its p-value Holm-adjusted over the counted secondary rows of its reading (``p_adjusted``, ``adjusted_verdict``).
    Without ``primary_eps`` every row is primary (the former "every row" rule)."""
    acc = metrics[metrics.metric == "accuracy"]
    gate_of = gate_verdicts(gates)
    rows: list[dict[str, Any]] = []
    for (dataset, model, eps), part in acc.groupby(["dataset", "model", "eps"], sort=True):
        wide = part.pivot_table(index="seed", columns="attack", values="value")
        primary = _primary_editor(metrics, dataset, model)
        for suffix, editor in (("", primary), (LEARNED_SUFFIX, "learned")):
            if suffix and primary != "exact":
                continue
            spa = "spa" + suffix
            if spa not in wide:
                continue
            for reading, names in (("single", baselines), ("composed", composed)):
                # pixel baselines as they are; semantic ones (and the reconstruction control) with the same editor
                labels = [b + suffix if b in SEMANTIC_ATTACKS else b for b in names]
                present = [b for b in labels if b in wide]
                if not present:
                    if reading == "composed":
                        continue
                    raise ValueError(f"{dataset}/{model} eps={eps}: none of the T1 baselines {labels} was evaluated")
                best = min(present, key=lambda b: float(wide[b].mean()))
                if outcomes is not None:
                    st = two_way_row(outcomes.paired(dataset, (model, spa, eps), (model, best, eps)), coverage, "less")
                else:
                    paired = wide[[spa, best]].dropna()
                    iv0, v0, need0 = verdict((paired[spa] - paired[best]).to_numpy(), coverage)
                    st = {"estimate": iv0.estimate, "low": iv0.low, "high": iv0.high, "method": iv0.method,
                          "n_seeds": len(paired), "n_images": float("nan"), "seed_se": float("nan"),
                          "image_se": float("nan"), "p_value": float("nan"), "verdict": Verdict(v0),
                          "seeds_to_decide": need0, "images_to_decide": None}
                is_primary = primary_eps is None or (
                    suffix == "" and dataset in primary_eps and math.isclose(float(eps), float(primary_eps[dataset])))
                clean = metrics[(metrics.metric == "clean_accuracy") & (metrics.dataset == dataset)
                                & (metrics.model == model) & (metrics.attack == spa) & (metrics.eps == eps)]["value"]
                gate, counts = gate_counts(editor, gate_of.get((dataset, model)))
                jp, ja, rp = "joint_pgd" + suffix, "joint_apgd" + suffix, "recon_pgd" + suffix
                gp, ref = "grid_pgd" + suffix, REFERENCE_LABEL + suffix
                ref_acc = float(wide[ref].mean()) if ref in wide else float("nan")
                rows.append({
                    "dataset": dataset, "model": model, "editor": editor, "reading": reading, "eps": eps,
                    "clean_accuracy": float(clean.mean()),
                    "spa_accuracy": float(wide[spa].mean()),
                    "spa_std": float(wide[spa].std(ddof=1)) if len(wide) > 1 else float("nan"),
                    "best_baseline": best,
                    "baseline_accuracy": float(wide[best].mean()),
                    "baseline_std": float(wide[best].std(ddof=1)) if len(wide) > 1 else float("nan"),
                    "difference": st["estimate"], "difference_low": st["low"], "difference_high": st["high"],
                    "coverage": coverage, "method": st["method"], "n_seeds": st["n_seeds"],
                    "n_images": st["n_images"], "seed_se": st["seed_se"], "image_se": st["image_se"],
                    "seeds_to_decide": st["seeds_to_decide"], "images_to_decide": st["images_to_decide"],
                    "role": "primary" if is_primary else "secondary", "p_value": st["p_value"],
                    "p_adjusted": float("nan"), "adjusted_verdict": "",
                    "joint_pgd_accuracy": float(wide[jp].mean()) if jp in wide else float("nan"),
                    "joint_apgd_accuracy": float(wide[ja].mean()) if ja in wide else float("nan"),
                    "recon_pgd_accuracy": float(wide[rp].mean()) if rp in wide else float("nan"),
                    "grid_pgd_accuracy": float(wide[gp].mean()) if gp in wide else float("nan"),
                    "reference_accuracy": ref_acc, "reference_gap": float(wide[spa].mean()) - ref_acc,
                    "verdict": st["verdict"].value, "gate": gate, "counts": counts,
                })
    return adjust_secondary(pd.DataFrame(rows, columns=T1_COLUMNS), ["reading"], "difference", "less", coverage)


def adjust_secondary(table: pd.DataFrame, family: list[str], estimate: str, direction: str, coverage: float
                     ) -> pd.DataFrame:
    """Fill ``p_adjusted`` and ``adjusted_verdict`` of a claim table with ``role`` and ``p_value`` columns: a primary
    row keeps its own verdict (and p-value); the secondary rows that count are Holm-adjusted together within each
    ``family`` group (:func:`reproflow.report.verdicts.holm`) and decided at alpha = 1 - coverage
    (:func:`reproflow.report.verdicts.adjusted_verdict`); rows that do not count read ``not counted``."""
    out = table.copy()
    if out.empty:
        return out
    out["p_adjusted"] = out["p_adjusted"].astype(float)
    out["adjusted_verdict"] = out["adjusted_verdict"].astype(object)
    prim = out["role"] == "primary"
    out.loc[prim, "p_adjusted"] = out.loc[prim, "p_value"]
    out.loc[prim, "adjusted_verdict"] = out.loc[prim, "verdict"]
    counts = out["counts"].astype(bool) if "counts" in out else pd.Series(True, index=out.index)
    out.loc[~prim & ~counts, "adjusted_verdict"] = "not counted"
    sec = out[~prim & counts]
    groups = sec.groupby(family, sort=False) if family else [(None, sec)]
    for _, g in groups:
        adj = holm(g["p_value"].astype(float).tolist())
        out.loc[g.index, "p_adjusted"] = adj
        out.loc[g.index, "adjusted_verdict"] = [
            adjusted_verdict(float(e), p, 1 - coverage, direction).value for e, p in zip(g[estimate], adj)]
    return out


def headline(t1: pd.DataFrame, headline_eps: dict[str, float], baselines: tuple[str, ...], coverage: float
             ) -> dict[str, Any]:
    """The report's summary of T1: the overall verdict and each dataset's row at its headline eps."""
    per_dataset = {}
    for dataset, eps in headline_eps.items():
        sel = t1[(t1.dataset == dataset) & np.isclose(t1.eps, eps)]
        if not sel.empty:
            per_dataset[dataset] = {k2: _plain(v) for k2, v in sel.iloc[0].to_dict().items()}
            if len(sel) > 1:
                per_dataset[dataset]["other_editors"] = [
                    {k2: _plain(v) for k2, v in r.to_dict().items()} for _, r in sel.iloc[1:].iterrows()]
    # rows through a learned editor that failed (or lacks) its semantic gate do not count
    counted = t1[t1["counts"].astype(bool)]
    primary = counted[counted["role"] == "primary"] if "role" in counted else counted
    by_reading = {r: primary[primary["reading"] == r]["verdict"].tolist() for r in READINGS}
    verdicts = by_reading["single"]
    composed = by_reading["composed"]
    secondary = {r: [_secondary(x) for x in counted[(counted["reading"] == r) & (counted["role"] == "secondary")]
                     .to_dict("records")] if "role" in counted else [] for r in READINGS}
    return {
        "claim": "T1",
        "statement": "at the same small eps, accuracy under SPA is lower than under existing attacks, on every benchmark",
        "rule": f"per (dataset, eps): SPA minus the best of {list(baselines)}, paired over seeds and test images; "
                f"holds if its {100 * coverage:g} % two-way interval (seeds x images bootstrap SE, t quantile) lies "
                "below 0, fails if above, else inconclusive (and with < 2 seeds or zero spread); the primary row "
                "(each dataset's primary editor at attack.t1.primary_eps) decides, the other rows are secondary and "
                "Holm-corrected; judged with the exact editor where one exists; learned-editor rows count only when "
                "the editor passes its semantic gate",
        "verdict": overall_verdict(verdicts),
        "counts": {v: verdicts.count(v) for v in ("holds", "fails", "inconclusive")},
        "composed": {
            "statement": "SPA is stronger than existing attacks composed in its own threat model (grid-PGD, "
                         "joint-PGD and joint-APGD with the grid start)",
            "verdict": overall_verdict(composed) if composed else "not run",
            "counts": {v: composed.count(v) for v in ("holds", "fails", "inconclusive")},
            "secondary": secondary["composed"],
        },
        "secondary": secondary["single"],
        "headline": per_dataset,
    }


def _secondary(r: dict[str, Any]) -> dict[str, Any]:
    keys = ("dataset", "editor", "eps", "best_baseline", "difference", "difference_low", "difference_high", "p_value",
            "p_adjusted", "adjusted_verdict")
    return {k: _plain(r.get(k)) for k in keys}


def _plain(v: Any) -> Any:
    """JSON-safe scalar: numpy -> Python, NaN -> None (strict JSON has no NaN)."""
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and math.isnan(v) else v
