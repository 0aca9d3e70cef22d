"""Rule tabulate_claim_t2: claim T2 (SPA-AT vs the existing defences under joint perturbations, and what
SPA-AT costs in clean and pixel-PGD accuracy) from the defence evaluations, and the phase's headline.json.

    python -m reproflow.cli.tabulate_claim_t2 --evaluations .../evaluations.csv --output .../claims/T2.csv \
        --headline .../headline.json --curves .../curves.csv --plateau-table .../claims/T2_plateau.csv \
        --advtrain '<advtrain>' --eps '{"eps_grid": {"digits_rot": [...]}}' --selection '<attack selection>' \
        --report '<report>' --scale quick
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reproflow.attacks.claims import gate_passed
from reproflow.attacks.outcomes import Outcomes, read_outcomes
from reproflow.cli._base import exit_with, main_entry
from reproflow.defences.matrix import adjust_t2, apply_plateau, claim_t2, headline, summarise, training_plateau
from reproflow.errors import UserError
from reproflow.io import dataframe_to_markdown, write_json, write_table, write_text
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived, dump
from reproflow.settings.sections import Advtrain, AttackEps, AttackSelection, Report
from reproflow.vocab import DEFENCES

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Config:
    """Compute claim T2 from the tidy defence evaluations (rule in reproflow.defences.matrix)."""

    evaluations: Path
    output: Path
    headline: Path
    # the attack phase's gate table of the learned editor (claims/editor_gate.csv): needed where a primary editor
    # is the learned one, whose claim rows count only when it passes (as in T1)
    gate: Path | None = None
    # the defences' curves (advtrain/curves.csv), read by the training-adequacy rule (issue 21), and that rule's test
    # per (dataset, defence) as a table (claims/T2_plateau.csv, the results page shows it beside T2)
    curves: Path
    plateau_table: Path
    # the evaluation jobs' per-image outcomes (outcomes.csv.gz): every interval is over seeds and test images
    outcomes: tuple[Path, ...]
    # advtrain: the claim's comparisons (t2: its primary row decides, the others are Holm-corrected), the defences'
    # training stated beside every row (training and each defence's inner attack) and the plateau rule
    advtrain: Advtrain
    eps: AttackEps  # attack.eps_grid of pretrain.datasets: each one's headline eps (derived.headline_eps)
    selection: AttackSelection  # attack (its selection group): each dataset's primary editor (derived.editor)
    report: Report  # its coverage: of the two-way interval (seeds x images) every verdict reads
    scale: str


def run(cfg: Config) -> None:
    started = time.time()
    if not cfg.evaluations.exists():
        raise UserError(f"{cfg.evaluations}: file not found; run tabulate_defence_matrix first")
    ev = pd.read_csv(cfg.evaluations)
    adv, settings, coverage = cfg.advtrain, cfg.advtrain.t2, cfg.report.coverage
    eps = derived.headline_eps_of(cfg.eps)
    editors = {d: "learned" if derived.editor(cfg.selection, d) == "learned" else "exact" for d in eps}
    gates: dict[str, bool | None] = {}
    if cfg.gate is not None:
        if not cfg.gate.exists():
            raise UserError(f"{cfg.gate}: file not found; run tabulate_claim_t1 first")
        for (dataset, _), passed in gate_passed(pd.read_csv(cfg.gate)).items():
            gates[dataset] = gates.get(dataset, True) and passed
    elif "learned" in editors.values():
        raise UserError("a dataset's primary editor is the learned one: --gate (the attack phase's editor_gate.csv) "
                        "decides whether its T2 rows count")
    if not cfg.outcomes:
        raise UserError("--outcomes (the evaluation jobs' outcomes.csv.gz) is required: every T2 interval is over "
                        "seeds and test images")
    t2 = claim_t2(ev, eps, baselines=settings.baselines, joint_attacks=settings.joint_attacks,
                  cost_baselines=settings.cost_baselines, coverage=coverage, editors=editors, gates=gates,
                  outcomes=Outcomes(read_outcomes(cfg.outcomes)),
                  primary=(settings.primary.attack, settings.primary.baseline))
    t2.insert(0, "scale", cfg.scale)
    inner = {d.name: dump(getattr(adv, d.name)) for d in DEFENCES if d.settings}
    t2["defence_schedule"] = [schedule(dump(adv.training[d]) if d in adv.training else None, inner)
                              for d in t2["dataset"]]
    if not cfg.curves.exists():
        raise UserError(f"{cfg.curves}: file not found; run tabulate_defence_matrix first")
    tol, last, cov = adv.plateau.tolerance, adv.plateau.epochs, adv.plateau.coverage
    plateau = training_plateau(pd.read_csv(cfg.curves), last, tol, cov)
    t2 = adjust_t2(apply_plateau(t2, plateau), coverage)
    write_table(cfg.plateau_table, plateau)
    write_table(cfg.output, t2)
    summary = headline(t2, summarise(ev), eps, coverage, cfg.scale)
    summary["training_plateau"] = plateau.to_dict("records")
    # the primary comparison's defences decide whether T2 can be judged; a secondary baseline off its plateau
    # only leaves its own rows uncounted (apply_plateau)
    compared = {"spa_at", settings.primary.baseline}
    short = sorted({f"{r.dataset}/{r.defence}" for r in plateau.itertuples()
                    if not r.plateau and r.defence in compared})
    summary["not_at_plateau"] = sorted(f"{r.dataset}/{r.defence}" for r in plateau.itertuples() if not r.plateau)
    if short or plateau.empty:
        # a "fails" (or "holds") on defences still learning tests the schedule, not the paper
        summary["verdict"] = "not decidable at this scale"
        summary["not_decidable_because"] = (
            f"the {100 * cov:g} % interval of the change in robust accuracy of {', '.join(short)} over the last "
            f"{last} epochs does not lie inside +-{tol:g} (still moving, or the probe cannot tell)" if short
            else "no defence curve carries the plateau probe")
    show = t2.copy()
    for c in ("defence_mean", "defence_std", "baseline_mean", "baseline_std", "diff_mean", "diff_std", "diff_low", "diff_high",
              "seed_se", "image_se"):
        show[c] = (100 * show[c]).round(1)
    text = (
        f"# Claim T2 ({cfg.scale} scale): {summary['verdict']}\n\n{summary['statement']}.\n\n"
        f"Accuracies and differences in percentage points (SPA-AT minus baseline, mean and std over seeds; "
        f"diff_low / diff_high: the {100 * coverage:g} % two-way interval over seeds and test images, column "
        f"method). The primary row (role primary) decides; secondary rows carry Holm-adjusted verdicts. "
        f"Rule: {summary['rule']}. Cost rows: clean accuracy (attack none) and pixel-PGD accuracy of SPA-AT "
        f"against the baseline; gain / cost / inconclusive by the same rule. Rows through a learned primary editor "
        f"(column editor) count only when it passes its semantic gate (column gate; not counted: "
        f"{', '.join(summary['not_counted']) or 'none'}).\n\n{dataframe_to_markdown(show)}\n"
    )
    text += (f"\nTraining adequacy (column plateau): a claim row counts only when both its defences are at their "
             f"plateau: the change of their robust accuracy under the plateau probe over the last "
             f"{adv.plateau.epochs} epochs (least-squares trend per seed and probe image, mean over both) has a "
             f"{100 * adv.plateau.coverage:g} % two-way interval over seeds x images (change_low, change_high) "
             f"inside +-{adv.plateau.tolerance:g}: an equivalence test (two one-sided tests at "
             f"{100 * (1 - adv.plateau.coverage) / 2:g} % each). A defence outside it is still moving or its "
             f"probe cannot tell; either way its rows do not count, and if they include the primary row T2 is not "
             f"decidable at this scale, never failed. Column last: "
             f"the seed-mean probe accuracy at the last epoch.\n\n{dataframe_to_markdown(plateau)}\n")
    write_text(cfg.output.with_suffix(".md"), text)
    write_json(cfg.headline, summary)
    log.info("claim T2: %s %s", summary["verdict"], summary["verdicts"])
    write_sidecar(cfg.output, cfg, None, "cpu", started)


def schedule(training: dict[str, Any] | None, inner: dict[str, Any]) -> str:
    """One line naming how the defences of a T2 row were trained, e.g. ``2 epochs (0 clean warm-up), PGD-AT 3 steps,
    TRADES 3 steps, SPA-AT T=2 R=1``: a reader sees whether the comparison ran at the paper's schedule."""
    if not training:
        return "not recorded"  # a word pandas keeps as a string ("n/a" reads back as NaN)
    parts = [f"{training['epochs']} epochs ({training['warmup_epochs']} clean warm-up)"]
    if inner.get("pgd_at"):
        parts.append(f"PGD-AT {inner['pgd_at']['steps']} steps")
    if inner.get("trades"):
        parts.append(f"TRADES {inner['trades']['steps']} steps")
    if inner.get("spa_at"):
        sa = inner["spa_at"]
        grid = f" grid {sa['grid_size']}" if sa.get("grid_size") else ""
        parts.append(f"SPA-AT T={sa['steps']} R={sa['restarts']}{grid} K={sa.get('gen_steps') or 'own'}")
    if inner.get("worst_of_k"):
        parts.append(f"worst-of-{inner['worst_of_k']['k']} + PGD {inner['worst_of_k']['steps']} steps")
    return ", ".join(parts)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
