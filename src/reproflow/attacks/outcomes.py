"""Per-image outcomes of an evaluation job (issue 21): whether each test image is still classified correctly under
each (attack, eps), and unattacked, so that every T1 / T2 interval can count the test images as random.

The table is long and compact: ``phase, dataset, model, attack, eps, seed, sample, correct`` (``correct`` 0/1;
``sample`` = the image's index in the evaluated split, the same images for every seed and model; attack ``none`` at
eps 0 = the clean prediction). Two more kinds of label carry the semantic judge's correctness, for the learned
editor's gate (:mod:`reproflow.attacks.gate`): ``<attack>:judge`` (the judge on that attack's x_sem at that eps) and
``learned_editor:<view>`` at eps 0 (the judge on the gate's views: clean, recon, edit, reference_edit). It is written as gzip-compressed CSV with a fixed header (no time stamp, no file
name), so a rerun writes the same bytes.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reproflow.errors import UserError
from reproflow.io import atomic_path

COLUMNS = ["phase", "dataset", "model", "attack", "eps", "seed", "sample", "correct"]
CLEAN_LABEL = "none"


JUDGE_SUFFIX = ":judge"


def judge_label(attack: str) -> str:
    """The outcome label of the judge's correctness on ``attack``'s x_sem."""
    return attack + JUDGE_SUFFIX


def gate_view_label(view: str) -> str:
    """The outcome label of the judge on one view of the learned editor's gate (``clean``, ``recon``, ...)."""
    from reproflow.attacks.labels import GATE_LABEL

    return f"{GATE_LABEL}:{view}"


def outcome_table(correct: Mapping[tuple[str, float], np.ndarray], clean: np.ndarray | None, labels: Mapping[str, Any],
                  seed: int, judge: Mapping[tuple[str, float], np.ndarray] | None = None,
                  gate: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The long table of one job: ``correct`` maps (attack label, eps) to bool ``[N]`` (robust correctness per
    image), ``clean`` is the unattacked correctness ``[N]`` (attack :data:`CLEAN_LABEL`, eps 0); ``labels`` carries
    phase, dataset and model. ``judge`` (attack label, eps) -> the judge's correctness on x_sem (label
    :func:`judge_label`); ``gate``: view -> the judge's correctness on that view of the gate (eps 0, label
    :func:`gate_view_label`)."""
    parts = []
    items = list(correct.items()) + ([((CLEAN_LABEL, 0.0), clean)] if clean is not None else [])
    items += [((judge_label(a), e), v) for (a, e), v in (judge or {}).items()]
    items += [((gate_view_label(k), 0.0), v) for k, v in (gate or {}).items()]
    for (attack, eps), ok in items:
        ok = np.asarray(ok, dtype=bool)
        parts.append(pd.DataFrame({
            "phase": labels["phase"], "dataset": labels["dataset"], "model": labels["model"], "attack": attack,
            "eps": float(eps), "seed": int(seed), "sample": np.arange(ok.size), "correct": ok.astype(np.int8),
        }))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def write_outcomes(path: str | Path, table: pd.DataFrame) -> None:
    """Atomically write ``table`` as gzip CSV with a reproducible header (mtime 0, no file name)."""
    text = table[COLUMNS].to_csv(index=False).encode()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(text)


def read_outcomes(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The concatenated per-image tables of ``paths`` (each written by :func:`write_outcomes`)."""
    frames = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise UserError(f"{p}: per-image outcomes not found; re-run the evaluation job that writes it")
        with gzip.open(p, "rb") as fh:
            frames.append(pd.read_csv(io.BytesIO(fh.read())))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    missing = set(COLUMNS) - set(out.columns)
    if missing:
        raise UserError(f"per-image outcome tables lack columns {sorted(missing)}; re-run the evaluation jobs")
    return out


def _eps_key(eps: float) -> float:
    return round(float(eps), 9)


class Outcomes:
    """Per-image correctness arrays ``[seeds, images]`` keyed by (dataset, model, attack, eps), for paired
    differences: :meth:`paired` aligns two arms on the seeds both have and checks they saw the same images."""

    def __init__(self, table: pd.DataFrame) -> None:
        self._arrays: dict[tuple[str, str, str, float], pd.DataFrame] = {}
        for (dataset, model, attack, eps), g in table.groupby(["dataset", "model", "attack", "eps"], sort=False):
            wide = g.pivot_table(index="seed", columns="sample", values="correct", aggfunc="first")
            self._arrays[(str(dataset), str(model), str(attack), _eps_key(eps))] = wide.sort_index()

    def keys(self) -> list[tuple[str, str, str, float]]:
        """(dataset, model, attack label, eps) of every array held."""
        return list(self._arrays)

    def __contains__(self, key: tuple[str, str, str, float]) -> bool:
        d, m, a, e = key
        return (d, m, a, _eps_key(e)) in self._arrays

    def array(self, dataset: str, model: str, attack: str, eps: float) -> pd.DataFrame:
        key = (dataset, model, attack, _eps_key(eps))
        if key not in self._arrays:
            raise UserError(f"no per-image outcomes for {dataset}/{model}/{attack} at eps {eps:g}; re-run the "
                            "evaluation jobs (their outcomes.csv.gz)")
        return self._arrays[key]

    def paired(self, dataset: str, a: tuple[str, str, float], b: tuple[str, str, float]) -> np.ndarray:
        """``correct_a - correct_b`` as ``[S, N]`` over the seeds both arms have (sorted), images paired by index;
        ``a`` and ``b`` are (model, attack, eps)."""
        wa, wb = self.array(dataset, *a), self.array(dataset, *b)
        seeds = wa.index.intersection(wb.index)
        if not wa.columns.equals(wb.columns):
            raise UserError(f"{dataset}: {a} and {b} were evaluated on different test images "
                            f"({wa.shape[1]} against {wb.shape[1]}); they cannot be paired")
        d = wa.loc[seeds].to_numpy(float) - wb.loc[seeds].to_numpy(float)
        if not np.isfinite(d).all():
            raise UserError(f"{dataset}: per-image outcomes of {a} or {b} miss images in some seed")
        return d
