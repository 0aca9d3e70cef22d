"""Rule tabulate_claim_t1: the claim-T1 table (SPA vs the best existing attack) and headline.json.

    python -m reproflow.cli.tabulate_claim_t1 --metrics results/attack/metrics.csv --output .../claims/T1.csv \
        --headline .../headline.json --t1 '<attack.t1>' --report '<report>' --eps '{"eps_grid": {"digits_rot": [...]}}' \
        --editor-gate '{"relative_margin": 0.25}'
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproflow.attacks.claims import _plain, claim_t1, editor_gates, headline
from reproflow.attacks.outcomes import Outcomes, read_outcomes
from reproflow.cli._base import exit_with, main_entry
from reproflow.errors import UserError
from reproflow.io import write_json, write_table
from reproflow.runinfo import write_sidecar
from reproflow.settings import derived
from reproflow.settings.sections import AttackEps, AttackGate, AttackT1, Report

# this job never imports torch (its start-up is seconds shorter): tests/unit/test_cli_startup.py checks it
TORCH_FREE = True

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Config:
    """Compute claim T1 from the tidy attack table (rule in reproflow.attacks.claims)."""

    metrics: Path
    output: Path
    headline: Path
    # attack.t1: the readings' baselines ("single": existing attacks, each in its own threat model; "composed": composed
    # in SPA's threat model) and which eps of each dataset's grid holds the primary comparison (headline | min | max)
    t1: AttackT1
    report: Report  # its coverage: of the two-way interval (seeds x images) every verdict reads
    eps: AttackEps  # attack.eps_grid of pretrain.datasets: the headline eps of each (derived.headline_eps)
    # the evaluation jobs' per-image outcomes (outcomes.csv.gz): every interval is over seeds and test images
    outcomes: tuple[Path, ...] = ()
    # the learned editor's semantic gate (reproflow.attacks.gate): its table, and its non-inferiority margin as a
    # share of the judge's error (attack.gate.relative_margin)
    gate: Path | None = None
    editor_gate: AttackGate  # attack.gate: its non-inferiority margin as a share of the judge's error


def run(cfg: Config) -> None:
    started = time.time()
    if not cfg.metrics.exists():
        raise UserError(f"{cfg.metrics}: file not found; run collect_attack first")
    metrics = pd.read_csv(cfg.metrics)
    if not cfg.outcomes:
        raise UserError("--outcomes (the evaluation jobs' outcomes.csv.gz) is required: every T1 interval is over "
                        "seeds and test images")
    outcomes = Outcomes(read_outcomes(cfg.outcomes))
    headline_eps, coverage, settings = derived.headline_eps_of(cfg.eps), cfg.report.coverage, cfg.t1
    primary = primary_eps(metrics, headline_eps, settings.primary_eps)
    gates = editor_gates(outcomes, cfg.editor_gate.relative_margin, coverage, primary)
    if cfg.gate is not None:
        write_table(cfg.gate, gates, markdown=True)
    for g in gates.itertuples(index=False):
        log.info("learned editor gate %s/%s: %s at margin %.3f (drops: reconstruction %+.3f [%+.3f, %+.3f] %s, "
                 "random edits %+.3f [%+.3f, %+.3f] %s, attack-chosen edits %+.3f %s)", g.dataset, g.model, g.verdict,
                 g.delta, g.recon_drop, g.recon_low, g.recon_high, g.recon_verdict, g.edit_drop, g.edit_low,
                 g.edit_high, g.edit_verdict, g.attack_drop, g.attack_verdict)
    t1 = claim_t1(metrics, settings.baselines, coverage, gates, composed=settings.composed_baselines, outcomes=outcomes,
                  primary_eps=primary)
    if t1.empty:
        raise UserError(f"{cfg.metrics}: no SPA results; add spa to attack.attacks")
    write_table(cfg.output, t1, markdown=True)
    for r in t1[t1["role"] == "primary"].itertuples(index=False):
        log.info("T1 primary %s/%s %s eps %g: %+.3f [%+.3f, %+.3f] (%s): %s", r.dataset, r.editor, r.reading, r.eps,
                 r.difference, r.difference_low, r.difference_high, r.method, r.verdict)
    summary = headline(t1, headline_eps, settings.baselines, coverage)
    summary["editor_gate"] = [{k: _plain(v) for k, v in r.items()} for r in gates.to_dict("records")]
    write_json(cfg.headline, summary)
    log.info("claim T1: %s %s; composed reading: %s %s", summary["verdict"], summary["counts"],
             summary["composed"]["verdict"], summary["composed"]["counts"])
    write_sidecar(cfg.output, cfg, None, "cpu", started)


def primary_eps(metrics: pd.DataFrame, headline_eps: dict[str, float], which: str) -> dict[str, float]:
    """dataset -> the eps of its primary T1 row: ``headline`` (the grid's median, as the summary quotes), or the
    smallest / largest eps SPA was evaluated at (``min`` / ``max``)."""
    if which == "headline":
        return dict(headline_eps)
    if which not in ("min", "max"):
        raise UserError(f"--primary-eps must be headline, min or max, got {which!r} (params.yaml attack.t1.primary_eps)")
    acc = metrics[(metrics.metric == "accuracy") & (metrics.attack == "spa")]
    pick = min if which == "min" else max
    return {str(d): float(pick(g["eps"])) for d, g in acc.groupby("dataset")}


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
