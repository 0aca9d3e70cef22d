"""Rule evaluate_defence: every attack of the attack phase over its eps grid against one defended classifier.

One job per (dataset, defence, seed). The attacks, their settings and the evaluated test samples are the
attack phase's (``reproflow.attacks.suite.evaluate_suite``, params.yaml ``attack``); before attacking, the
pretrained noise generator of the same seed is refitted against the defended classifier for
``--refit-batches`` batches (spec spa.md section 8: a generator fitted to the clean model overstates the
robustness of a defended one; 0 = no refit), at the generator's own radius and recursion.

    python -m reproflow.cli.evaluate_defence --data .../test.pt --train .../train.pt --classifier .../classifier.pt ...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproflow.attacks.suite import AttackSettings
from reproflow.cli._base import exit_with, main_entry
from reproflow.data.store import load_split
from reproflow.device import describe_device, resolve_device
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar
from reproflow.seeding import derive_seed, seed_everything

COLUMNS = ["phase", "dataset", "model", "attack", "eps", "seed", "metric", "value"]


@dataclass(frozen=True)
class Config(AttackSettings):
    """Evaluate the attack list at every eps against a defended classifier (tidy long table)."""

    data: Path
    train: Path
    classifier: Path
    manipulator: Path
    generator: Path
    oracle: Path | None
    metrics: Path
    dataset: str
    defence: str
    seed: int
    device: str
    eps_grid: tuple[float, ...]
    attacks: tuple[str, ...]
    oracle_attacks: tuple[str, ...] | None
    max_samples: int
    refit_batches: int
    refit_batch_size: int
    refit_lr: float
    refit_div_weight: float
    # primary editor of the semantic attacks (oracle | learned) and the attacks rerun with the learned one
    editor: str = "learned"
    learned_attacks: tuple[str, ...] = ()
    # the generator trained through the learned editor (for the generator and SPA among learned_attacks), refitted
    # through that editor like the primary one (rows learned_refresh_*)
    generator_learned: Path | None = None

    def __post_init__(self) -> None:
        if any(e < 0 or e > 1 for e in self.eps_grid):
            raise ValueError(f"--eps-grid values must lie in [0, 1], got {self.eps_grid}")
        if self.refit_batches < 0:
            raise ValueError(f"--refit-batches must be >= 0, got {self.refit_batches}")


def run(cfg: Config) -> None:
    import pandas as pd
    import torch

    from reproflow.attacks.suite import evaluate_suite, generator_recursion, resolve_editors
    from reproflow.defences import GeneratorRefresher, RefreshSettings
    from reproflow.models import load_classifier, load_generator, load_manipulator

    started = time.time()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    split = load_split(cfg.data)
    if cfg.max_samples > 0:
        split = split.subset(cfg.max_samples)
    classifier = load_classifier(cfg.classifier, device)
    manipulator = load_manipulator(cfg.manipulator, device)
    generator = load_generator(cfg.generator, device)
    oracle = load_manipulator(cfg.oracle, device) if cfg.oracle is not None else None
    primary, learned = resolve_editors(cfg.editor, manipulator, oracle)
    learned_generator = load_generator(cfg.generator_learned, device) if cfg.generator_learned is not None else None
    refit: dict[str, float] = {}
    # each generator is refitted through the editor it is trained through and used with: the primary one through the
    # primary editor (the claims' SPA and generator attack), the learned-editor one through the learned editor
    fits = [("", generator, primary, ())] + ([("learned_", learned_generator, learned, ("learned",))]
                                             if learned_generator is not None and learned is not None else [])
    for prefix, gen, editor, tag in fits if cfg.refit_batches > 0 else ():
        rec = generator_recursion(gen)
        settings = RefreshSettings(
            batches=cfg.refit_batches, batch_size=cfg.refit_batch_size, lr=cfg.refit_lr,
            eps=float(gen.meta["eps"]), gen_steps=rec["gen_steps"], gen_step_factor=rec["gen_step_factor"],
            div_weight=cfg.refit_div_weight,
        )
        rng = torch.Generator().manual_seed(derive_seed(cfg.seed, cfg.defence, "refit", *tag))
        fitted = GeneratorRefresher(gen, settings).refresh(classifier, editor, load_split(cfg.train), rng)
        refit.update({prefix + k: v for k, v in fitted.items()})
    settings_a = AttackSettings.of(cfg)
    labels = {"phase": "advtrain", "dataset": cfg.dataset, "model": cfg.defence}
    out = evaluate_suite(
        split, classifier, attacks=cfg.attacks, eps_grid=cfg.eps_grid, settings=settings_a, seed=cfg.seed,
        device=device, manipulator=primary, generator=generator, oracle=None if learned is not None else oracle,
        oracle_attacks=tuple(cfg.oracle_attacks or ()), learned=learned, learned_attacks=cfg.learned_attacks,
        learned_generator=learned_generator,
        judge=None, crosscheck=False, labels=labels,
    )
    extra = [{**labels, "attack": "none", "eps": 0.0, "seed": cfg.seed, "metric": "n_samples", "value": float(len(split))}]
    extra += [{**labels, "attack": "none", "eps": 0.0, "seed": cfg.seed, "metric": k, "value": v} for k, v in refit.items()]
    rows = pd.DataFrame(out.rows + extra)
    write_table(cfg.metrics, rows[COLUMNS])
    write_sidecar(cfg.metrics, cfg, cfg.seed, describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
