"""Rule evaluate_attacks: every attack over the eps grid against one pretrained classifier.

One job per (dataset, seed), on the evaluation path every classifier shares (``reproflow.attacks.job``).
Writes the tidy metric table with the semantic judge's and the learned editor's gate rows, the per-image
correctness of every (attack, eps) (outcomes.csv.gz, the claims' two-way intervals read it), the per-sample
attribute values the semantic attacks chose, and the arrays of the image grid (at the grid's smallest eps, where
the noise is least visible: :func:`reproflow.settings.derived.examples_eps`).

    python -m reproflow.cli.evaluate_attacks --data .../test.pt --classifier .../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from reproflow.attacks import job
from reproflow.attacks.gate import judge_editor_outcomes
from reproflow.attacks.outcomes import outcome_table, write_outcomes
from reproflow.attacks.suite import make_examples
from reproflow.cli._base import exit_with, main_entry
from reproflow.device import describe_device
from reproflow.errors import UserError
from reproflow.io import atomic_path, write_table
from reproflow.models import load_classifier
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived
from reproflow.settings.sections import AttackEps, AttackEvaluation, AttackSelection, AttackSuite


@dataclass(frozen=True, kw_only=True)
class Config:
    """Evaluate the attack list at every eps against a pretrained classifier (tidy long table)."""

    data: Path
    classifier: Path
    judge: Path  # the independent judge: the next seed's clean classifier (its seed is in its metadata)
    manipulator: Path
    generator: Path
    generator_learned: Path | None
    oracle: Path | None
    metrics: Path
    outcomes: Path  # per-image correctness of every (attack, eps) and unattacked (reproflow.attacks.outcomes)
    attributes: Path
    examples: Path
    dataset: str
    seed: int
    device: str
    eps: AttackEps  # attack.eps_grid (this dataset's)
    selection: AttackSelection  # attack (its selection group: attacks, editors, test samples)
    evaluation: AttackEvaluation  # attack (its evaluation group: model label, cross-check, image grid)
    suite: AttackSuite  # attack (its suite group: each attack's settings)


def plan(cfg: Config) -> job.Evaluation:
    """The evaluation this job runs: the dataset's grid, its primary editor (derived from attack.editor)."""
    e = cfg.selection
    return job.Evaluation(
        data=cfg.data, manipulator=cfg.manipulator, generator=cfg.generator, oracle=cfg.oracle,
        generator_learned=cfg.generator_learned, dataset=cfg.dataset, seed=cfg.seed, device=cfg.device,
        eps_grid=derived.eps_grid(cfg.eps, cfg.dataset), attacks=e.attacks, oracle_attacks=e.oracle_attacks,
        max_samples=e.max_samples, editor=derived.editor(e, cfg.dataset), learned_attacks=e.learned_attacks,
        suite=cfg.suite,
    )


@torch.no_grad()
def judge_accuracy(judge: torch.nn.Module, split, device: torch.device, batch_size: int) -> float:
    """The judge's accuracy on the clean test images (reference of the semantic check)."""
    correct = 0
    for s in range(0, len(split), batch_size):
        x, y = split.images[s : s + batch_size].to(device), split.labels[s : s + batch_size].to(device)
        correct += int((judge(x).argmax(1) == y).sum())
    return correct / max(1, len(split))


def run(cfg: Config) -> None:
    started = time.time()
    evaluation = plan(cfg)
    batch_size = cfg.suite.batch_size
    m = job.load(evaluation, cfg.classifier)
    split, device = m.split, m.device
    judge = load_classifier(cfg.judge, device)
    judge_meta: dict[str, Any] = getattr(judge, "meta", {})  # load_classifier attaches the checkpoint's meta
    if "seed" not in judge_meta:
        raise UserError(f"{cfg.judge}: the judge's metadata has no seed; re-run train_classifier")
    labels = {"phase": "attack", "dataset": cfg.dataset, "model": cfg.evaluation.model}
    out = job.evaluate(evaluation, m, labels, judge=judge, crosscheck=cfg.evaluation.crosscheck)
    rows = [
        job.job_row(labels, cfg.seed, "judge_seed", float(judge_meta["seed"])),
        job.job_row(labels, cfg.seed, "n_samples", float(len(split))),
        job.job_row(labels, cfg.seed, "judge_clean_accuracy", judge_accuracy(judge, split, device, batch_size)),
        job.job_row(labels, cfg.seed, "editor_is_exact", float(m.learned is not None)),
    ]
    # the learned editor's semantic gate: the judge on the originals, reconstructions and random edits
    # (and on the exact rotation to the same targets where it exists); attack label "learned_editor"
    gate = judge_editor_outcomes(judge, m.manipulator, split.images, split.labels, split.attributes, seed=cfg.seed,
                                 batch_size=batch_size, device=device, reference=m.oracle)
    rows += [job.job_row(labels, cfg.seed, k, float(v.mean()) if v.size else 0.0, attack="learned_editor")
             for k, v in gate.items()]
    job.write_metrics(cfg.metrics, out.rows + rows)
    views = {k.removeprefix("gate_").removesuffix("_accuracy"): v for k, v in gate.items()}
    write_outcomes(cfg.outcomes, outcome_table(out.correct, out.clean, labels, cfg.seed, judge=out.judge, gate=views))
    attrs = pd.DataFrame(out.attributes, columns=["phase", "dataset", "model", "attack", "eps", "seed", "sample", "attr", "own"])
    write_table(cfg.attributes, attrs)
    eps, grid = derived.examples_eps(cfg.eps, cfg.dataset), cfg.evaluation.examples
    ex: dict[str, Any] = make_examples(
        split, m.classifier, judge, m.primary, m.generator, out.spa.get(eps), eps=eps, rows=grid.rows,
        sweep=grid.sweep, codes=grid.codes, seed=cfg.seed, device=device,
    )
    # natural units of the attribute for the figure's labels ([0, 1] for binary attributes such as Smiling)
    ex["attribute_range"] = np.array(split.meta.get("attribute_range") or [0.0, 1.0], dtype=np.float64)
    ex["attribute_name"] = np.array(str(split.meta.get("attribute_name") or "attribute"))
    with atomic_path(cfg.examples) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **ex)
    write_sidecar(cfg.metrics, cfg, cfg.seed, describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
