"""The defence x attack x eps matrix and the T2 claim table (spec spa.md sections 1 and 6).

Input: the tidy evaluation rows of every (dataset, defence, seed) job, columns
``phase, dataset, model, attack, eps, seed, metric, value`` (model = defence name).

- :func:`check_coverage`: every (dataset, defence, attack, eps, seed) appears exactly once per metric.
- :func:`summarise`: mean, standard deviation (ddof 1) and standard error over seeds per cell.
- :func:`claim_t2`: SPA-AT against each baseline defence under the joint attacks (SPA, joint-PGD) and
  SPA-AT's cost in clean and pixel-PGD accuracy, as differences paired by seed (seed s of every defence
  starts from the pretrained models of seed s) and by test image, each with the two-way interval over seeds and images
  (:func:`reproflow.report.verdicts.two_way_interval`); the primary row (params advtrain.t2.primary) decides, the
  other claim rows are Holm-corrected. Where a dataset's
  primary editor is the learned one (CelebA, or ``attack.editor: learned``), the joint attacks and the
  attribute-editing defences run through it, so its claim rows count only when the editor passes the attack
  phase's semantic gate (:func:`reproflow.attacks.claims.gate_counts`, the rule T1 applies); every row says
  its editor and the gate result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from reproflow.attacks.claims import adjust_secondary, gate_counts
from reproflow.attacks.outcomes import CLEAN_LABEL, Outcomes
from reproflow.errors import UserError
from reproflow.report.verdicts import (
    Interval,
    Verdict,
    directional_verdict,
    t_interval,
    two_way_row,
    units_to_decide,
)

KEYS = ["dataset", "model", "attack", "eps", "seed", "metric"]
# Metrics the matrix reports: robust accuracy on the evaluated test samples and the attack success
# rate on the originally correct ones.
MATRIX_METRICS = ("accuracy", "success_rate")
# Significance rule of every verdict: the seed-paired mean difference must lie beyond this many
# standard errors from zero.


def check_coverage(
    df: pd.DataFrame, defences: Sequence[str], attacks: Sequence[str], eps_grid: Sequence[float],
    seeds: Sequence[int], metrics: Sequence[str] = MATRIX_METRICS,
) -> None:
    """Raise UserError unless every (dataset, defence, attack, eps, seed, metric) cell with the given
    values appears exactly once (no gap, no duplicate, nothing extra) for every dataset in ``df``."""
    sub = df[df["metric"].isin(metrics)]
    dup = sub.duplicated(KEYS, keep=False)
    if dup.any():
        raise UserError(f"evaluation tables hold duplicate rows, e.g. {sub[dup].iloc[0][KEYS].to_dict()}")
    datasets = sorted(sub["dataset"].unique()) or ["<none>"]
    want = pd.MultiIndex.from_product(
        [datasets, list(defences), list(attacks), [float(e) for e in eps_grid], [int(s) for s in seeds], list(metrics)],
        names=KEYS,
    )
    have = pd.MultiIndex.from_frame(sub[KEYS].astype({"eps": float, "seed": int}))
    missing, extra = want.difference(have), have.difference(want)
    if len(missing):
        raise UserError(f"evaluation tables miss {len(missing)} cell(s), e.g. {dict(zip(KEYS, missing[0]))}")
    if len(extra):
        raise UserError(f"evaluation tables hold {len(extra)} unexpected cell(s), e.g. {dict(zip(KEYS, extra[0]))}")


def summarise(df: pd.DataFrame, metrics: Iterable[str] = MATRIX_METRICS) -> pd.DataFrame:
    """Mean, std (ddof 1; NaN for one seed), standard error and seed count per
    (dataset, model, attack, eps, metric): columns ``dataset, model, attack, eps, metric, mean, std, sem, n_seeds``."""
    sub = df[df["metric"].isin(list(metrics))]
    g = sub.groupby(["dataset", "model", "attack", "eps", "metric"], sort=True)["value"]
    out = g.agg(mean="mean", std="std", n_seeds="count").reset_index()
    out["sem"] = out["std"] / np.sqrt(out["n_seeds"])
    return out[["dataset", "model", "attack", "eps", "metric", "mean", "std", "sem", "n_seeds"]]


def verdict(diffs: Sequence[float], coverage: float = 0.95,
            labels: tuple[str, str, str] = ("holds", "fails", "inconclusive")) -> str:
    """Verdict on seed-paired differences d_s = defence_s - baseline_s (positive = the defence is better):
    the project's one rule (:func:`reproflow.report.verdicts.directional_verdict`) on the Student-t interval
    of mean(d) at ``coverage``. ``labels`` renames the three outcomes (cost rows use ``gain / cost /
    inconclusive``)."""
    return _label(directional_verdict(t_interval(list(diffs), coverage), "greater"), labels)


def _label(v: Verdict, labels: tuple[str, str, str]) -> str:
    return {Verdict.HOLDS: labels[0], Verdict.FAILS: labels[1]}.get(v, labels[2])


def _paired(df: pd.DataFrame, dataset: str, attack: str, eps: float, metric: str, a: str, b: str) -> pd.DataFrame:
    sel = df[(df["dataset"] == dataset) & (df["attack"] == attack) & np.isclose(df["eps"], eps) & (df["metric"] == metric)]
    wide = sel.pivot_table(index="seed", columns="model", values="value", aggfunc="first")
    if a not in wide or b not in wide:
        raise UserError(f"T2 needs '{a}' and '{b}' under attack '{attack}' at eps {eps:g} for dataset '{dataset}'")
    return wide[[a, b]].dropna()


def _row(df, dataset, eps, attack, metric, defence, baseline, kind, labels, coverage,
         outcomes: Outcomes | None = None) -> dict:
    w = _paired(df, dataset, attack, eps, metric, defence, baseline)
    d = (w[defence] - w[baseline]).to_numpy()
    n = int(d.size)
    std = float(np.std(d, ddof=1)) if n > 1 else float("nan")
    if outcomes is not None:
        # per image: clean correctness (attack none, eps 0) for the clean-accuracy cost rows, robust otherwise
        arm = (CLEAN_LABEL, 0.0) if metric == "clean_accuracy" else (attack, eps)
        st = two_way_row(outcomes.paired(dataset, (defence, *arm), (baseline, *arm)), coverage, "greater")
        iv = Interval(st["estimate"], st["low"], st["high"], st["n_seeds"], coverage, st["method"])
        v = _label(st["verdict"], labels)
        extra = {k: st[k] for k in ("method", "n_images", "seed_se", "image_se", "p_value", "images_to_decide")}
        need = st["seeds_to_decide"]
    else:
        iv = t_interval(list(d), coverage)
        v = _label(directional_verdict(iv, "greater"), labels)
        extra = {"method": iv.method, "n_images": float("nan"), "seed_se": float("nan"), "image_se": float("nan"),
                 "p_value": float("nan"), "images_to_decide": None}
        need = units_to_decide(list(d), coverage) if v == labels[2] else None
    return {
        "dataset": dataset, "eps": float(eps), "kind": kind, "attack": attack, "metric": metric,
        "defence": defence, "baseline": baseline,
        "defence_mean": float(w[defence].mean()), "defence_std": float(w[defence].std(ddof=1)) if n > 1 else float("nan"),
        "baseline_mean": float(w[baseline].mean()), "baseline_std": float(w[baseline].std(ddof=1)) if n > 1 else float("nan"),
        "diff_mean": iv.estimate, "diff_std": std, "diff_low": iv.low, "diff_high": iv.high,
        "coverage": coverage, "n_seeds": n, "verdict": v, "seeds_to_decide": need, **extra,
    }


def claim_t2(
    df: pd.DataFrame, headline_eps: dict[str, float], defence: str = "spa_at",
    baselines: Sequence[str] = ("pgd_at", "trades", "attribute_augmentation"),
    joint_attacks: Sequence[str] = ("spa", "joint_pgd"), pixel_attack: str = "pgd",
    cost_baselines: Sequence[str] = ("standard", "pgd_at"), coverage: float = 0.95,
    editors: dict[str, str] | None = None, gates: dict[str, bool | None] | None = None,
    outcomes: Outcomes | None = None, primary: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The T2 table per dataset at its headline eps (the training eps).

    ``kind = claim`` rows: robust accuracy of ``defence`` minus each baseline's under each joint attack;
    verdict holds / fails / inconclusive (:func:`verdict`). ``kind = cost`` rows: ``defence`` minus each of
    ``cost_baselines`` in clean accuracy (metric ``clean_accuracy`` of the pixel attack's rows) and in
    robust accuracy under ``pixel_attack``; verdict gain / cost / inconclusive. ``coverage``: of the
    t-interval over seeds every verdict is read from (:mod:`reproflow.report.verdicts`).
    ``editors``: dataset -> its primary editor, ``exact`` (default) or ``learned``; ``gates``: dataset -> whether
    the learned editor passed its semantic gate (None or absent: not computed). A claim row through a learned
    primary editor counts only with a passed gate; cost rows (clean and pixel-PGD accuracy) always count.
    Columns: dataset, eps, kind, attack, metric, defence, baseline, defence_mean, defence_std,
    baseline_mean, baseline_std, diff_mean, diff_std, diff_low, diff_high, coverage, n_seeds, verdict,
    seeds_to_decide, editor, gate, counts, and method, n_images, seed_se, image_se, p_value, images_to_decide,
    role, p_adjusted, adjusted_verdict.

    ``outcomes`` (the per-image table of the evaluation jobs): every interval is the paired two-way interval over
    seeds and test images (:func:`reproflow.report.verdicts.two_way_interval`); without it, the t-interval over
    seeds on the fixed image draw. ``primary`` = (joint attack, baseline), params advtrain.t2.primary: that claim row
    of each dataset decides T2 (role ``primary``); the other claim rows are ``secondary``, Holm-adjusted together
    (:func:`reproflow.attacks.claims.adjust_secondary`). Without it every claim row is primary. Cost rows are
    quoted, not judged (role ``cost``).
    """
    if primary is not None and (primary[0] not in joint_attacks or primary[1] not in baselines):
        raise UserError(f"the primary T2 comparison {primary[0]} / {primary[1]} is not among the joint attacks "
                        f"{list(joint_attacks)} x baselines {list(baselines)} (params.yaml advtrain.t2.primary)")
    editors, gates = dict(editors or {}), dict(gates or {})
    rows = []
    for dataset in sorted(df["dataset"].unique()):
        if dataset not in headline_eps:
            raise UserError(f"no headline eps for dataset '{dataset}'")
        eps = float(headline_eps[dataset])
        editor = editors.get(dataset, "exact")
        gate, counts = gate_counts(editor, gates.get(dataset))
        marks = {"editor": editor, "gate": gate}
        for attack in joint_attacks:
            for b in baselines:
                role = "primary" if primary is None or (attack, b) == tuple(primary) else "secondary"
                rows.append({**_row(df, dataset, eps, attack, "accuracy", defence, b, "claim", ("holds", "fails", "inconclusive"), coverage,
                                    outcomes), **marks, "counts": counts, "role": role})
        for metric, attack in (("clean_accuracy", pixel_attack), ("accuracy", pixel_attack)):
            for b in cost_baselines:
                r = _row(df, dataset, eps, attack, metric, defence, b, "cost", ("gain", "cost", "inconclusive"), coverage,
                         outcomes)
                if metric == "clean_accuracy":
                    r["attack"] = "none"
                rows.append({**r, **marks, "counts": True, "role": "cost"})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_adjusted"], out["adjusted_verdict"] = float("nan"), ""
    return adjust_t2(out, coverage)


def adjust_t2(t2: pd.DataFrame, coverage: float) -> pd.DataFrame:
    """Holm over the secondary claim rows that count (:func:`reproflow.attacks.claims.adjust_secondary`); cost rows
    keep their own verdict. Called again after :func:`apply_plateau` changes which rows count."""
    claims = t2[t2["kind"] == "claim"]
    out = t2.copy()
    adj = adjust_secondary(claims, [], "diff_mean", "greater", coverage)
    out.loc[adj.index, "p_adjusted"] = adj["p_adjusted"]
    out.loc[adj.index, "adjusted_verdict"] = adj["adjusted_verdict"]
    cost = out["kind"] == "cost"
    out.loc[cost, "p_adjusted"] = out.loc[cost, "p_value"]
    out.loc[cost, "adjusted_verdict"] = out.loc[cost, "verdict"]
    return out


def overall_t2(t2: pd.DataFrame) -> dict[str, str]:
    """One verdict per (dataset, joint attack) over the primary claim rows that count (a learned primary editor that
    fails its gate leaves none; with no ``role`` column, every claim row): holds if SPA-AT beats every such
    baseline, fails if it loses to any, inconclusive otherwise. Keys ``<dataset>/<attack>``."""
    out = {}
    claims = t2[t2["kind"] == "claim"]
    if "counts" in claims:
        claims = claims[claims["counts"].astype(bool)]
    if "role" in claims:
        claims = claims[claims["role"] == "primary"]
    for (dataset, attack), g in claims.groupby(["dataset", "attack"]):
        v = set(g["verdict"])
        out[f"{dataset}/{attack}"] = "holds" if v == {"holds"} else ("fails" if "fails" in v else "inconclusive")
    return out


def matrix_markdown(
    summary: pd.DataFrame, metric: str, eps: float | None = None, scale: float = 100.0,
    models: Sequence[str] | None = None, attacks: Sequence[str] | None = None,
) -> str:
    """Markdown blocks per dataset: rows = (defence, eps), columns = attacks, cells ``mean ± std`` in percent.
    With ``eps`` only that radius is shown; ``models`` / ``attacks`` fix the row / column order."""
    from reproflow.io import dataframe_to_markdown

    sub = summary[summary["metric"] == metric].copy()
    if eps is not None:
        sub = sub[np.isclose(sub["eps"], eps)]
    sub["cell"] = [
        f"{m * scale:.1f} ± {s * scale:.1f}" if math.isfinite(s) else f"{m * scale:.1f}"
        for m, s in zip(sub["mean"], sub["std"])
    ]
    blocks = []
    for dataset, g in sub.groupby("dataset", sort=True):
        wide = g.pivot_table(index=["model", "eps"], columns="attack", values="cell", aggfunc="first")
        if attacks is not None:
            wide = wide[[a for a in attacks if a in wide.columns]]
        wide = wide.reset_index()
        if models is not None:
            rank = {m: i for i, m in enumerate(models)}
            wide = wide.sort_values(["model", "eps"], key=lambda c: c.map(rank) if c.name == "model" else c)
        wide.columns.name = None
        blocks.append(f"### {dataset}: {metric} (%; mean ± std over seeds)\n\n{dataframe_to_markdown(wide)}")
    return "\n\n".join(blocks)


def headline(t2: pd.DataFrame, summary: pd.DataFrame, headline_eps: dict[str, float], coverage: float,
             scale: str) -> dict:
    """The report's summary of T2: overall and per (dataset, joint attack) verdicts, every T2 row, and each
    defence's clean and robust accuracy (mean over seeds) at the headline eps."""
    claims = t2[t2["kind"] == "claim"]
    gated_out = sorted({f"{r.dataset}/{r.attack}" for r in claims.itertuples() if not r.counts})
    counted = claims[claims["counts"].astype(bool)]
    prim = counted[counted["role"] == "primary"] if "role" in counted else counted
    verdicts = prim["verdict"].tolist()
    secondary = [] if "role" not in counted else [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items() if k in (
            "dataset", "attack", "baseline", "diff_mean", "diff_low", "diff_high", "p_value", "p_adjusted",
            "adjusted_verdict")}
        for r in counted[counted["role"] == "secondary"].to_dict("records")]
    per = overall_t2(t2)
    overall = "holds" if per and set(per.values()) == {"holds"} else ("fails" if "fails" in per.values() else "inconclusive")
    acc: dict[str, dict] = {}
    for dataset, eps in headline_eps.items():
        sel = summary[(summary["dataset"] == dataset) & np.isclose(summary["eps"], eps) & (summary["metric"] == "accuracy")]
        acc[dataset] = {f"{r.model}/{r.attack}": float(r.mean) for r in sel.itertuples()}
    clean = t2[(t2["kind"] == "cost") & (t2["metric"] == "clean_accuracy")]
    return {
        "claim": "T2",
        "statement": "a classifier adversarially trained with SPA examples (SPA-AT) is more accurate under joint "
                     "perturbations than classifiers from existing defences (at least PGD-AT)",
        "rule": f"per (dataset, joint attack, baseline) at the headline eps: SPA-AT minus baseline robust accuracy, "
                f"paired over seeds and test images; holds if its {100 * coverage:g} % two-way interval (seeds x "
                "images bootstrap SE, t quantile) lies above 0, fails if below, else inconclusive (and with < 2 "
                "seeds or zero spread); the primary row (advtrain.t2.primary) decides, the other claim rows are "
                "secondary and Holm-corrected; rows through a learned primary editor count only when it passes its "
                "semantic gate",
        "scale": scale,
        "verdict": overall,
        "verdicts": per,
        "counts": {v: verdicts.count(v) for v in ("holds", "fails", "inconclusive")},
        "not_counted": gated_out,
        "secondary": secondary,
        "gates": {r.dataset: r.gate for r in t2.drop_duplicates("dataset").itertuples()},
        "rows": [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in t2.to_dict("records")],
        "spa_at_clean_accuracy": {r.dataset: float(r.defence_mean) for r in clean.drop_duplicates("dataset").itertuples()},
        "accuracy_at_headline_eps": acc,
    }


PLATEAU_METRIC = "val_robust_accuracy"
PLATEAU_COLUMNS = ["dataset", "defence", "n_seeds", "n_images", "epochs", "last", "change", "change_low", "change_high",
                   "coverage", "tolerance", "method", "plateau"]


# per-image rows of the plateau probe: metric f"{PROBE_IMAGE_METRIC}/{i}", value 1.0 (robustly correct) or 0.0
PROBE_IMAGE_METRIC = "val_robust_correct"


def probe_rows(correct: Sequence[bool]) -> dict[str, float]:
    """The plateau probe's per-image correctness as curve metrics ``val_robust_correct/<i>`` (i = the image's index in the
    probe's split), so the tidy curve table keeps its columns and the checkpoint resumes them with the epoch."""
    return {f"{PROBE_IMAGE_METRIC}/{i}": float(c) for i, c in enumerate(correct)}


def probe_correctness(curves: pd.DataFrame, dataset: str, defence: str) -> tuple[list[int], np.ndarray]:
    """The plateau probe's per-image correctness of one (dataset, defence) from the tidy curves: (epochs, array
    ``[S, E, N]`` of 0/1) over the seeds, epochs and probe images every seed recorded (metric rows
    ``val_robust_correct/<i>``, :func:`probe_rows`); ``N = 0`` when none is recorded."""
    prefix = PROBE_IMAGE_METRIC + "/"
    part = curves[(curves["dataset"] == dataset) & (curves["model"] == defence)
                  & curves["metric"].astype(str).str.startswith(prefix)]
    if part.empty:
        return [], np.zeros((0, 0, 0))
    part = part.assign(image=part["metric"].str.slice(len(prefix)).astype(int))
    seeds = sorted(part["seed"].unique())
    # only the epochs every seed recorded, and the images every (seed, epoch) has: the pairing needs both
    per_epoch = part.groupby("epoch")["seed"].nunique()
    epochs = sorted(int(e) for e in per_epoch.index[per_epoch == len(seeds)])
    cube = part[part["epoch"].isin(epochs)].pivot_table(index=["seed", "epoch"], columns="image", values="value",
                                                        aggfunc="first")
    cube = cube.reindex(pd.MultiIndex.from_product([seeds, epochs], names=["seed", "epoch"])).dropna(axis=1)
    return epochs, cube.to_numpy(dtype=float).reshape(len(seeds), len(epochs), cube.shape[1])


def window_change(correct: np.ndarray, epochs: int) -> np.ndarray:
    """Change of each (seed, image)'s probe correctness over the last ``epochs`` epochs: the least-squares slope of
    correctness on epoch over the last ``epochs`` + 1 recorded epochs, times ``epochs`` (for ``epochs`` = 2 and
    for any two points it is the last value minus the one ``epochs`` epochs earlier; with more points it uses the
    middle epochs too). ``correct``: ``[S, E, N]`` with E >= ``epochs`` + 1; returns ``[S, N]`` in [-epochs, epochs]
    (a linear trend's exact change; its mean over seeds and images is the change of the seed-mean curve)."""
    tail = correct[:, -(epochs + 1):, :]
    t = np.arange(epochs + 1, dtype=float)
    w = (t - t.mean()) / float(((t - t.mean()) ** 2).sum())
    return np.einsum("e,sen->sn", w, tail) * epochs


def training_plateau(curves: pd.DataFrame, epochs: int, tolerance: float, coverage: float = 0.90) -> pd.DataFrame:
    """T2's training-adequacy rule (issue 21) per (dataset, defence), an equivalence test on the plateau probe.

    The probe (grid-PGD on held-out test images after every epoch, :data:`PLATEAU_METRIC` and its per-image rows)
    gives each seed s and image i a 0/1 correctness per epoch; ``change`` = the mean over seeds and images of
    :func:`window_change` (the trend over the last ``epochs`` epochs), paired by image and seed, with the two-way
    interval over seeds x images (:func:`reproflow.report.verdicts.two_way_interval`: Owen's crossed bootstrap SE,
    t quantile) at ``coverage``. Plateau when that interval lies inside (-tolerance, +tolerance): two one-sided
    tests (TOST, Schuirmann 1987) at level (1 - coverage) / 2 each, so coverage 0.90 = equivalence at 5 %. A
    curve still moving by ``tolerance`` reads plateau with probability at most (1 - coverage) / 2; a flat curve
    reads plateau when the probe has the images and seeds to resolve ``tolerance`` (tests/unit/test_defences_
    matrix.py checks both on synthetic curves with a known answer). Fewer than ``epochs`` + 1 recorded epochs,
    one seed or no per-image probe: not a plateau (nothing shows the curve stopped).
    ``last``: the seed-mean probe accuracy at the last epoch. Columns :data:`PLATEAU_COLUMNS`; empty when no curve
    carries the probe."""
    from reproflow.report.verdicts import two_way_interval

    part = curves[curves["metric"] == PLATEAU_METRIC]
    rows = []
    for (dataset, defence), g in part.groupby(["dataset", "model"], sort=True):
        mean = g.groupby("epoch")["value"].mean().sort_index()
        kept, correct = probe_correctness(curves, dataset, defence)
        row = {"dataset": dataset, "defence": defence, "n_seeds": int(g["seed"].nunique()),
               "n_images": int(correct.shape[2]), "epochs": int(mean.index.max()), "last": float(mean.iloc[-1]),
               "change": float("nan"), "change_low": float("nan"), "change_high": float("nan"),
               "coverage": coverage, "tolerance": tolerance, "plateau": False}
        if correct.shape[2] == 0:
            row["method"] = "no per-image probe recorded"
        elif len(kept) < epochs + 1:
            row["method"] = f"{len(kept)} epoch(s) recorded, {epochs + 1} needed"
        else:
            tw = two_way_interval(window_change(correct, epochs), coverage)
            iv = tw.interval
            row.update(change=iv.estimate, change_low=iv.low, change_high=iv.high, method=iv.method,
                       plateau=bool(iv.finite and -tolerance < iv.low and iv.high < tolerance))
        rows.append(row)
    return pd.DataFrame(rows, columns=PLATEAU_COLUMNS)


def apply_plateau(t2: pd.DataFrame, plateau: pd.DataFrame) -> pd.DataFrame:
    """``t2`` with a ``plateau`` column per row (``yes``, or ``no: <defences not at plateau>``; ``not measured``
    where the curves carry no probe for the row's dataset); a claim row counts only when every defence it
    compares (SPA-AT and its baseline) reached the plateau. Cost rows are unchanged (they are quoted, not judged)."""
    out = t2.copy()
    marks, ok = [], []
    for r in out.itertuples(index=False):
        p = plateau[(plateau["dataset"] == r.dataset) & plateau["defence"].isin([r.defence, r.baseline])]
        if p.empty:
            marks.append("not measured")
            ok.append(r.kind != "claim")
            continue
        short = sorted(p[~p["plateau"].astype(bool)]["defence"])
        marks.append("yes" if not short else "no: " + ", ".join(short))
        ok.append(not short or r.kind != "claim")
    out["plateau"] = marks
    out["counts"] = out["counts"].astype(bool) & pd.Series(ok, index=out.index)
    return out
