"""Run an attack over a prepared split and compute its metrics (accuracy, success rate, semantic checks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from reproflow.attacks.base import Attack
from reproflow.attacks.semantic import edge_fraction, ssim
from reproflow.data.store import Split
from reproflow.logs import progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalOutput:
    """Per-sample outputs of one attack over a split (CPU tensors).

    x_adv, x_sem: ``[N, C, H, W]``; attr: ``[N]`` or None; pred_clean, pred_adv, pred_sem: int64 ``[N]``
    (target classifier on x, x_adv, x_sem); judge_sem: int64 ``[N]`` or None (judge classifier on x_sem).
    """

    x_adv: torch.Tensor
    x_sem: torch.Tensor
    attr: torch.Tensor | None
    pred_clean: torch.Tensor
    pred_adv: torch.Tensor
    pred_sem: torch.Tensor
    judge_sem: torch.Tensor | None


@torch.no_grad()
def _predict(model: torch.nn.Module, x: torch.Tensor, device: torch.device, batch_size: int) -> torch.Tensor:
    was = model.training
    model.eval()
    out = [model(x[s : s + batch_size].to(device)).argmax(1).cpu() for s in range(0, x.shape[0], batch_size)]
    model.train(was)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


def run_attack(attack: Attack, split: Split, batch_size: int, judge: torch.nn.Module | None = None) -> EvalOutput:
    """Attack every sample of ``split`` in batches of ``batch_size`` (sample index = random key)."""
    n = len(split)
    xs_adv, xs_sem, attrs = [], [], []
    starts = range(0, n, batch_size)
    for s in progress(starts, total=len(starts), desc=f"{attack.name} eps={attack.eps:g}"):
        sl = slice(s, min(s + batch_size, n))
        res = attack.attack(split.images[sl], split.labels[sl], split.attributes[sl], keys=torch.arange(sl.start, sl.stop))
        xs_adv.append(res.x_adv.cpu())
        xs_sem.append(res.x_sem.cpu())
        if res.attr is not None:
            attrs.append(res.attr.cpu())
    x_adv, x_sem = torch.cat(xs_adv), torch.cat(xs_sem)
    f, dev = attack.classifier, attack.device
    return EvalOutput(
        x_adv=x_adv,
        x_sem=x_sem,
        attr=torch.cat(attrs) if attrs else None,
        pred_clean=_predict(f, split.images, dev, batch_size),
        pred_adv=_predict(f, x_adv, dev, batch_size),
        pred_sem=_predict(f, x_sem, dev, batch_size),
        judge_sem=None if judge is None else _predict(judge, x_sem, dev, batch_size),
    )


def metrics_of(out: EvalOutput, labels: torch.Tensor, semantic: bool, edge_tol: float = 0.02) -> dict[str, float]:
    """Metrics of one attack run.

    accuracy: share of samples still classified correctly on x_adv (robust accuracy);
    clean_accuracy: on the unattacked x; success_rate: share of the originally correct samples the
    attack turns wrong (NaN when none is correct); linf: max ||x_adv - x_sem||_inf.
    Semantic attacks add: sem_accuracy (target on x_sem alone), judge_sem_accuracy (judge on x_sem
    alone: does the attribute edit keep the class?), ssim_adv_sem (mean SSIM(x_adv, x_sem)),
    attr_mean, attr_std, attr_edge_fraction (chosen a' within ``edge_tol`` of 0 or 1).
    """
    correct_clean = out.pred_clean == labels
    correct_adv = out.pred_adv == labels
    n_correct = int(correct_clean.sum())
    m = {
        "accuracy": float(correct_adv.float().mean()),
        "clean_accuracy": float(correct_clean.float().mean()),
        "success_rate": float((~correct_adv & correct_clean).sum() / n_correct) if n_correct else float("nan"),
        "linf": float((out.x_adv - out.x_sem).abs().flatten(1).max(1).values.max()) if len(labels) else 0.0,
    }
    if semantic:
        m["sem_accuracy"] = float((out.pred_sem == labels).float().mean())
        if out.judge_sem is not None:
            m["judge_sem_accuracy"] = float((out.judge_sem == labels).float().mean())
        m["ssim_adv_sem"] = float(ssim(out.x_adv, out.x_sem).mean())
        if out.attr is not None:
            m["attr_mean"] = float(out.attr.mean())
            m["attr_std"] = float(out.attr.std()) if out.attr.numel() > 1 else 0.0
            m["attr_edge_fraction"] = edge_fraction(out.attr, edge_tol)
    return m


def evaluate(
    attack: Attack, split: Split, batch_size: int, judge: torch.nn.Module | None = None, edge_tol: float = 0.02
) -> dict[str, float]:
    """Attack ``split`` and return :func:`metrics_of` (see there for the metric names)."""
    out = run_attack(attack, split, batch_size, judge)
    return metrics_of(out, split.labels, attack.semantic, edge_tol)
