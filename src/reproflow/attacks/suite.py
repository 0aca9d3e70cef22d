"""One evaluation job: every attack over an eps grid against one classifier, as tidy rows.

Used by the ``evaluate_attacks`` rule (standard classifiers) and reusable by the advtrain phase
(defended classifiers): the caller loads the models and the split, this module runs the attacks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from reproflow.attacks.attribute import shared_scans
from reproflow.attacks.base import Attack
from reproflow.attacks.evaluate import EvalOutput, metrics_of, run_attack
from reproflow.attacks.labels import CROSSCHECK_LABEL, LEARNED_SUFFIX, ORACLE_SUFFIX, REFERENCE_LABEL
from reproflow.attacks.registry import NEEDS_GENERATOR, NEEDS_MANIPULATOR, AttackName, build_attack, parse_attack_name
from reproflow.data.store import Split
from reproflow.errors import UserError
from reproflow.seeding import derive_seed
from reproflow.settings.sections import AttackSuite
from reproflow.vocab import ATTACKS as ATTACK_SPECS

if TYPE_CHECKING:  # annotations only
    from reproflow.models.generator import NoiseGenerator
    from reproflow.models.manipulator import AttributeManipulator

log = logging.getLogger(__name__)


# attack -> the attack subsection (a field of AttackSuite) whose keys are its constructor's keyword arguments
# (same names), as the vocabulary declares it
_SETTINGS = {AttackName(a.name): a.settings for a in ATTACK_SPECS if a.settings is not None}


def attack_kwargs(name: AttackName, s: AttackSuite, generator: NoiseGenerator | None) -> dict[str, Any]:
    """Constructor keyword arguments of attack ``name``: its params.yaml subsection, key for key. The
    generator's recursion (steps K and the step as a fraction of eps) is part of the frozen model: it comes
    from its checkpoint meta."""
    from reproflow.settings import dump

    kw: dict[str, Any] = dict(dump(getattr(s, _SETTINGS[name]))) if name in _SETTINGS else {}
    if name is AttackName.AUTOATTACK:
        kw["sub_attacks"] = tuple(kw["sub_attacks"])
        kw["batch_size"] = s.batch_size
    if name in (AttackName.SPA, AttackName.JOINT_PGD, AttackName.JOINT_APGD, AttackName.GRID_PGD):
        # the attribute-only attack's grid: SPA's and the joint attacks' grid start (each at least as strong as the
        # attribute-only attack, by construction), grid-PGD's PGD at every value (issue 21)
        kw["grid_size"] = s.attribute.grid_size
    if name in NEEDS_GENERATOR:
        assert generator is not None
        kw.update(generator_recursion(generator))
    return kw


def generator_recursion(generator: NoiseGenerator) -> dict[str, Any]:
    """``gen_steps`` and ``gen_step_factor`` from the generator's checkpoint meta (eps, steps, step_size)."""

    meta = getattr(generator, "meta", {}) or {}
    if not {"eps", "steps", "step_size"} <= set(meta) or float(meta["eps"]) <= 0:
        raise UserError("the noise generator checkpoint lacks meta eps/steps/step_size; re-run train_generator")
    return {"gen_steps": int(meta["steps"]), "gen_step_factor": float(meta["step_size"]) / float(meta["eps"])}


def generator_optimizer(generator: NoiseGenerator) -> dict[str, Any]:
    """``adam_beta1``, ``adam_beta2`` and ``grad_clip`` of the generator's own training (checkpoint meta, from
    params.yaml ``pretrain.generator.<dataset>``): a refit continues the generator's training with them."""
    meta = getattr(generator, "meta", {}) or {}
    keys = ("adam_beta1", "adam_beta2", "grad_clip")
    if not set(keys) <= set(meta):
        raise UserError("the noise generator checkpoint lacks meta adam_beta1/adam_beta2/grad_clip; re-run train_generator")
    return {k: float(meta[k]) for k in keys}


EDITORS = ("oracle", "learned")


def resolve_editors(
    editor: str, learned: AttributeManipulator, oracle: AttributeManipulator | None
) -> tuple[AttributeManipulator, AttributeManipulator | None]:
    """(primary editor, learned editor run beside it or None) for ``editor`` in :data:`EDITORS`.

    ``oracle``: the exact rotation is the primary editor of every semantic attack (the claims are judged
    with it) and the learned MSP editor runs beside it; ``learned``: the MSP editor alone (datasets with no
    exact editor, such as CelebA).
    """

    if editor not in EDITORS:
        raise UserError(f"--editor must be one of {', '.join(EDITORS)}, got {editor!r}")
    if editor == "oracle":
        if oracle is None:
            raise UserError("--editor oracle needs --oracle (the rotation oracle of a *_rot dataset)")
        return oracle, learned
    return learned, None


@dataclass
class SuiteOutput:
    """Tidy metric rows, per-sample chosen attributes, SPA results kept for the image grid, and per-sample
    correctness ``{(attack label, eps): bool [N]}`` of every attack and of the reference ensemble, and ``clean``
    bool ``[N]``, the unattacked correctness (the per-image outcomes behind every claim interval, issue 21)."""

    rows: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    spa: dict[float, EvalOutput]
    correct: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)
    clean: np.ndarray | None = None
    # the judge's correctness on each semantic attack's x_sem (bool [N]; only where a judge ran): the learned editor's
    # gate on the edits the attacks chose
    judge: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)


def evaluate_suite(
    split: Split,
    classifier: torch.nn.Module,
    *,
    attacks: tuple[str, ...],
    eps_grid: tuple[float, ...],
    settings: AttackSuite,
    seed: int,
    device: torch.device,
    manipulator: AttributeManipulator | None = None,
    generator: NoiseGenerator | None = None,
    oracle: AttributeManipulator | None = None,
    oracle_attacks: tuple[str, ...] = (),
    learned: AttributeManipulator | None = None,
    learned_attacks: tuple[str, ...] = (),
    learned_generator: NoiseGenerator | None = None,
    judge: torch.nn.Module | None = None,
    crosscheck: bool = False,
    labels: dict[str, Any] | None = None,
) -> SuiteOutput:
    """Run every attack at every eps; rows are ``{**labels, attack, eps, seed, metric, value}``.

    Semantic attacks use ``manipulator``; those in ``oracle_attacks`` run again with ``oracle``
    (label ``<attack>_oracle``); those in ``learned_attacks`` run again with ``learned`` (label
    ``<attack>_learned``: the learned MSP editor beside the exact rotation, when the caller makes the
    rotation the primary ``manipulator``); the generator and SPA among them run with ``learned_generator``, the
    generator trained through the learned editor (issue #11: trained through the editor it is used with).
    ``crosscheck`` adds pyautoattack's APGD-CE alone (label
    ``apgd_ce``) as the library reference for the project's PGD (AutoAttack's own rows when it is
    configured as custom APGD-CE alone). Each attack's seed is
    ``derive_seed(seed, label)``, the same at every eps (common random numbers across the grid).
    """
    labels = dict(labels or {})
    # (label, attack, editor, generator)
    jobs: list[tuple[str, AttackName, AttributeManipulator | None, NoiseGenerator | None]] = []
    for name in attacks:
        key = parse_attack_name(name)
        jobs.append((key.value, key, manipulator, generator))
    for suffix, editor, names, gen, what in ((ORACLE_SUFFIX, oracle, oracle_attacks, generator, "oracle ablation"),
                                             (LEARNED_SUFFIX, learned, learned_attacks, learned_generator,
                                              "learned-editor run")):
        for name in names if editor is not None else ():
            key = parse_attack_name(name)
            if key not in NEEDS_MANIPULATOR:
                raise ValueError(f"{what} of '{key.value}': not a semantic attack")
            if key in NEEDS_GENERATOR and gen is None:
                raise UserError(f"{what} of '{key.value}' needs the noise generator trained through that editor")
            jobs.append((key.value + suffix, key, editor, gen))
    # When AutoAttack itself runs APGD-CE alone, its rows are the cross-check reference: no second run.
    aa_is_apgd_ce = settings.autoattack.version == "custom" and tuple(settings.autoattack.sub_attacks) == ("apgd-ce",)
    reuse_aa = crosscheck and aa_is_apgd_ce and AttackName.AUTOATTACK.value in jobs_labels(jobs)
    if crosscheck and not reuse_aa:
        jobs.append((CROSSCHECK_LABEL, AttackName.AUTOATTACK, None, None))

    out = SuiteOutput([], [], {})
    # the attacks of one classifier scan the same attribute grid (the attribute attack, SPA's and the joint attacks'
    # grid starts): the first scan's passes serve the rest (reproflow.attacks.attribute.shared_scans)
    with shared_scans():
        _run_jobs(out, jobs, split, classifier, eps_grid, settings, seed, device, judge, labels, reuse_aa)
    return out


def _run_jobs(out: SuiteOutput, jobs: list[tuple[str, AttackName, AttributeManipulator | None, NoiseGenerator | None]],
              split: Split, classifier: torch.nn.Module, eps_grid: tuple[float, ...], settings: AttackSuite, seed: int,
              device: torch.device, judge: torch.nn.Module | None, labels: dict[str, Any], reuse_aa: bool) -> None:
    """The attack loop of :func:`evaluate_suite`: every job at every eps, rows and outcomes into ``out``."""
    for eps in eps_grid:
        for label, key, am, gen in jobs:
            kw = attack_kwargs(key, settings, gen)
            if label == CROSSCHECK_LABEL:
                kw = {"version": "custom", "sub_attacks": ("apgd-ce",), "batch_size": settings.batch_size,
                      "apgd_iterations": settings.autoattack.apgd_iterations}
            atk: Attack = build_attack(
                key, classifier, eps, manipulator=am, generator=gen, seed=derive_seed(seed, label),
                device=device, **kw,
            )
            start = time.perf_counter()
            res = run_attack(atk, split, settings.batch_size, judge if atk.semantic else None)
            elapsed = time.perf_counter() - start
            metrics = metrics_of(res, split.labels, atk.semantic, settings.edge_tol)
            # the attack's speed goes to the log, never into the result table (byte-identical reruns)
            log.info("%s eps=%g: accuracy %.3f (clean %.3f), %.1f ms/sample", label, eps, metrics["accuracy"],
                     metrics["clean_accuracy"], 1000 * elapsed / max(1, len(split)))
            copies = [label] + ([CROSSCHECK_LABEL] if reuse_aa and label == AttackName.AUTOATTACK.value else [])
            for lab in copies:
                for metric, value in metrics.items():
                    out.rows.append({**labels, "attack": lab, "eps": eps, "seed": seed, "metric": metric, "value": value})
            if res.attr is not None:
                # the sample's own attribute beside the chosen one: what the attack moved, not the data's spread
                own = split.attributes.tolist()
                for i, v in enumerate(res.attr.tolist()):
                    out.attributes.append({**labels, "attack": label, "eps": eps, "seed": seed, "sample": i, "attr": v,
                                           "own": own[i]})
            if label == AttackName.SPA.value:
                out.spa[eps] = res
            out.correct[(label, eps)] = (res.pred_adv == split.labels).numpy()
            if res.judge_sem is not None:
                out.judge[(label, eps)] = (res.judge_sem == split.labels).numpy()
            clean_correct = (res.pred_clean == split.labels).numpy()
            out.clean = clean_correct
        for suffix in ("", LEARNED_SUFFIX):
            members = [m + suffix for m in settings.reference if (m + suffix, eps) in out.correct]
            if len(members) < 2:
                continue
            correct = np.logical_and.reduce([out.correct[(m, eps)] for m in members])
            lab = REFERENCE_LABEL + suffix
            out.correct[(lab, eps)] = correct
            for metric, value in reference_metrics(correct, clean_correct).items():
                out.rows.append({**labels, "attack": lab, "eps": eps, "seed": seed, "metric": metric, "value": value})
            log.info("%s eps=%g (worst of %s per sample): accuracy %.3f", lab, eps, ", ".join(members), correct.mean())


def reference_metrics(correct: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """Metrics of the per-sample worst case over several attacks (issue 21): ``correct`` bool ``[N]`` is the AND of
    their correctness (a sample counts as robust only if no member fooled it), ``clean`` bool ``[N]`` the
    clean correctness. accuracy, clean_accuracy and success_rate as in :func:`reproflow.attacks.evaluate.metrics_of`;
    the members (params' attack.reference) go to the log."""
    n_correct = int(clean.sum())
    return {
        "accuracy": float(correct.mean()) if correct.size else float("nan"),
        "clean_accuracy": float(clean.mean()) if clean.size else float("nan"),
        "success_rate": float((~correct & clean).sum() / n_correct) if n_correct else float("nan"),
    }


def jobs_labels(jobs: list[tuple[str, AttackName, Any, Any]]) -> set[str]:
    return {job[0] for job in jobs}


@torch.no_grad()
def _predict(model: torch.nn.Module, x: torch.Tensor, device: torch.device) -> np.ndarray:
    return model(x.to(device)).argmax(1).cpu().numpy()


def make_examples(
    split: Split,
    classifier: torch.nn.Module,
    judge: torch.nn.Module,
    manipulator: AttributeManipulator,
    generator: NoiseGenerator,
    spa: EvalOutput | None,
    *,
    eps: float,
    rows: int,
    sweep: int,
    codes: int,
    seed: int,
    device: torch.device,
) -> dict[str, np.ndarray]:
    """Arrays for the image grid of the first ``rows`` samples (float32 images in [0, 1]).

    ``x`` [n,C,H,W]; ``sweep`` [n,k,C,H,W]: AM(x, a, v) for ``k = sweep`` values v in [0, 1]
    (``sweep_values``), ``sweep_judge`` [n,k] the judge's predictions on them; ``noisy`` [n,m,C,H,W]:
    x_a + NG(x_a, z_j) for ``m = codes`` diversity codes at SPA's chosen attribute (the sample's own
    when SPA did not run), ``noisy_pred`` [n,m] the target's predictions; ``spa_adv`` [n,C,H,W]
    SPA's example and ``spa_pred`` [n]; ``labels``, ``attr`` (SPA's a'), ``eps``.
    """
    from reproflow.models.generator import generate_noise

    n = min(rows, len(split))
    x = split.images[:n].to(device)
    y = split.labels[:n].to(device)
    a = split.attributes[:n].to(device)
    values = torch.linspace(0.0, 1.0, sweep, device=device)
    with torch.no_grad():
        sw = torch.stack([manipulator.edit(x, a, torch.full_like(a, float(v))).clamp(0, 1) for v in values], 1)
    attr = spa.attr[:n].to(device) if spa is not None and spa.attr is not None else a
    with torch.no_grad():
        x_a = manipulator.edit(x, a, attr).clamp(0, 1)
    g = torch.Generator().manual_seed(derive_seed(seed, "examples"))
    rec = generator_recursion(generator)
    noisy = []
    for _ in range(codes):
        z = torch.randn(n, generator.z_dim, generator=g).to(device, x.dtype)
        delta = generate_noise(generator, classifier, x_a, y, z, eps, rec["gen_steps"], rec["gen_step_factor"] * eps)
        noisy.append((x_a + delta.detach()).clamp(0, 1))
    noisy_t = torch.stack(noisy, 1)
    spa_adv = spa.x_adv[:n].to(device) if spa is not None else noisy_t[:, 0]
    flat = lambda t: t.flatten(0, 1)  # noqa: E731
    return {
        "x": x.cpu().numpy().astype(np.float32),
        "labels": y.cpu().numpy(),
        "sweep": sw.cpu().numpy().astype(np.float32),
        "sweep_values": values.cpu().numpy(),
        "sweep_judge": _predict(judge, flat(sw), device).reshape(n, sweep),
        "attr": attr.cpu().numpy(),
        "noisy": noisy_t.cpu().numpy().astype(np.float32),
        "noisy_pred": _predict(classifier, flat(noisy_t), device).reshape(n, codes),
        "spa_adv": spa_adv.cpu().numpy().astype(np.float32),
        "spa_pred": _predict(classifier, spa_adv, device),
        "eps": np.array(eps),
    }
