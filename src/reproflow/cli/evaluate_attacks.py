"""Rule evaluate_attacks: every attack over the eps grid against one pretrained classifier.

One job per (dataset, seed). Writes the tidy metric table, the per-sample attribute values the
semantic attacks chose, and the arrays of the image grid (at ``examples_eps``, the grid's smallest:
the least visible noise).

    python -m reproflow.cli.evaluate_attacks --data .../test.pt --classifier .../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from reproflow.attacks.gate import judge_editor_accuracies
from reproflow.attacks.suite import AttackSettings, evaluate_suite, make_examples, resolve_editors
from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import describe_device, resolve_device
from reproflow.io import atomic_path, write_table
from reproflow.models import load_classifier, load_generator, load_manipulator
from reproflow.runinfo import write_sidecar
from reproflow.seeding import seed_everything


@dataclass(frozen=True)
class Config(AttackSettings):
    """Evaluate the attack list at every eps against a pretrained classifier (tidy long table)."""

    data: Path
    classifier: Path
    judge: Path
    manipulator: Path
    generator: Path
    oracle: Path | None
    metrics: Path
    attributes: Path
    examples: Path
    dataset: str
    model: str
    seed: int
    judge_seed: int
    device: str
    eps_grid: tuple[float, ...]
    attacks: tuple[str, ...]
    oracle_attacks: tuple[str, ...]
    crosscheck: bool
    max_samples: int
    examples_eps: float
    examples_rows: int
    examples_sweep: int
    examples_codes: int
    # primary editor of the semantic attacks: oracle (exact rotation; the learned MSP editor runs beside it for
    # learned_attacks, labelled <attack>_learned) | learned (the MSP editor alone)
    editor: str = "learned"
    learned_attacks: tuple[str, ...] = ()
    # the generator trained through the learned editor, for the generator and SPA among learned_attacks
    generator_learned: Path | None = None

    def __post_init__(self) -> None:
        if any(e < 0 or e > 1 for e in self.eps_grid):
            raise ValueError(f"--eps-grid values must lie in [0, 1], got {self.eps_grid}")
        if self.examples_eps not in self.eps_grid:
            raise ValueError(f"--examples-eps {self.examples_eps} is not in --eps-grid {self.eps_grid}")


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
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    split = load_split(cfg.data)
    if cfg.max_samples > 0:
        split = split.subset(cfg.max_samples)
    classifier = load_classifier(cfg.classifier, device)
    judge = load_classifier(cfg.judge, device)
    manipulator = load_manipulator(cfg.manipulator, device)
    generator = load_generator(cfg.generator, device)
    oracle = load_manipulator(cfg.oracle, device) if cfg.oracle is not None else None
    learned_generator = load_generator(cfg.generator_learned, device) if cfg.generator_learned is not None else None
    settings = AttackSettings.of(cfg)
    primary, learned = resolve_editors(cfg.editor, manipulator, oracle)
    out = evaluate_suite(
        split, classifier, attacks=cfg.attacks, eps_grid=cfg.eps_grid, settings=settings, seed=cfg.seed,
        device=device, manipulator=primary, generator=generator, oracle=None if learned is not None else oracle,
        oracle_attacks=cfg.oracle_attacks, learned=learned, learned_attacks=cfg.learned_attacks,
        learned_generator=learned_generator, judge=judge,
        crosscheck=cfg.crosscheck, labels={"phase": "attack", "dataset": cfg.dataset, "model": cfg.model},
    )
    rows = pd.DataFrame(out.rows)
    judge_row = {"phase": "attack", "dataset": cfg.dataset, "model": cfg.model, "attack": "none", "eps": 0.0,
                 "seed": cfg.seed, "metric": "judge_seed", "value": float(cfg.judge_seed)}
    n_row = {**judge_row, "metric": "n_samples", "value": float(len(split))}
    judge_clean = {**judge_row, "metric": "judge_clean_accuracy", "value": judge_accuracy(judge, split, device, cfg.batch_size)}
    # the learned editor's semantic gate: the judge on the originals, reconstructions and random edits
    # (and on the exact rotation to the same targets where it exists); attack label "learned_editor"
    gate = judge_editor_accuracies(judge, manipulator, split.images, split.labels, split.attributes, seed=cfg.seed,
                                   batch_size=cfg.batch_size, device=device, reference=oracle)
    gate_rows = [{**judge_row, "attack": "learned_editor", "metric": k, "value": v} for k, v in gate.items()]
    editor_row = {**judge_row, "metric": "editor_is_exact", "value": float(learned is not None)}
    rows = pd.concat([rows, pd.DataFrame([judge_row, n_row, judge_clean, editor_row, *gate_rows])], ignore_index=True)
    write_table(cfg.metrics, rows[["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"]])
    attrs = pd.DataFrame(out.attributes, columns=["phase", "dataset", "model", "attack", "eps", "seed", "sample", "attr", "own"])
    write_table(cfg.attributes, attrs)
    eps = cfg.examples_eps
    ex = make_examples(
        split, classifier, judge, primary, generator, out.spa.get(eps), eps=eps, rows=cfg.examples_rows,
        sweep=cfg.examples_sweep, codes=cfg.examples_codes, seed=cfg.seed, device=device,
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
