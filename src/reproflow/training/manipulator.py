"""Training and evaluation of the MSP attribute manipulator (spec spa.md section 2).

Loss per batch (x, attribute a, label y; h = E(x)):
  recon  = sum-over-pixels squared error of D(h) against x, averaged over the batch
  msp    = ||M h - a||^2 + ||a M - h||^2 (MSP, Li et al. 2020), batch mean
  label  = CE(f(D(h)), y) + CE(f(D(h')), y) with the frozen clean classifier f (label preservation)
  edit   = (ours, rotation sets only) squared error of D(h') against the oracle rotation of the
           upright original to the target attribute a_t ~ U(0, 1), where h' = edit(h, a_t)
  loss   = recon + msp_weight * msp + label_weight * label + edit_weight * edit
The edit term uses the unrotated originals the data phase keeps: the paper is silent on it; it makes
the manipulator learn rotation as a continuous edit from a small training set (edit_weight 0 = MSP only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reproflow.data.store import Split
from reproflow.device import take_batch, to_device_once
from reproflow.logs import progress
from reproflow.models.manipulator import MSPManipulator, RotationOracle
from reproflow.settings.sections import PretrainManipulator
from reproflow.training.loop import (
    EpochHook,
    ResumableTraining,
    curve_rows,
    epoch_generator,
    minibatches,
    ssim,
)

log = logging.getLogger(__name__)


# Hyper-parameters of the MSP manipulator: params.yaml ``pretrain.manipulator.<dataset>``.
ManipulatorSettings = PretrainManipulator


def oracle_for(split: Split) -> RotationOracle | None:
    """The rotation oracle of a rotated split (``meta['attribute_range']`` in degrees), else None."""
    rng = split.meta.get("attribute_range")
    if split.originals is None or rng is None:
        return None
    return RotationOracle(tuple(rng))


def upright_attribute(oracle: RotationOracle) -> float:
    """The normalised attribute of a 0-degree rotation: (0 - lo) / (hi - lo)."""
    lo, hi = oracle.angle_range
    return (0.0 - lo) / (hi - lo)


def train_manipulator(
    train: Split, test: Split, classifier: nn.Module, settings: ManipulatorSettings, seed: int,
    device: torch.device, checkpoint: str | Path | None, dataset: str,
    eval_batch_size: int, on_epoch_end: EpochHook | None = None,
) -> tuple[MSPManipulator, list[dict[str, Any]], dict[str, float]]:
    """Train an :class:`MSPManipulator` on ``train`` (attributes from the data phase); returns
    (manipulator in eval mode, curve rows, test metrics from :func:`evaluate_manipulator`)."""
    c, size = train.images.shape[1], train.images.shape[-1]
    m = MSPManipulator(c, size, settings.latent_dim, settings.width).to(device)
    opt = torch.optim.Adam(m.parameters(), lr=settings.lr)
    oracle = oracle_for(train)
    use_edit = oracle is not None and settings.edit_weight > 0
    a0 = upright_attribute(oracle) if oracle is not None else 0.0
    state = ResumableTraining(checkpoint, {"model": m, "opt": opt}, settings.epochs)
    start = state.start()
    n = len(train)
    # the data set moves to the device once per job; each step indexes its batch there
    images, labels, attrs = to_device_once(train.images, train.labels, train.attributes, device=device)
    for epoch in range(start, settings.epochs):
        gen = epoch_generator(seed, "manipulator", epoch)
        m.train()
        sums = {"loss": 0.0, "recon": 0.0, "msp": 0.0, "label": 0.0, "edit": 0.0}
        batches = state.batches(epoch, list(minibatches(n, settings.batch_size, gen)), gen, sums)
        for idx in progress(batches, desc=f"manipulator epoch {epoch + 1}"):
            x, y, a = take_batch(images, idx), take_batch(labels, idx), take_batch(attrs, idx)
            a_t = torch.rand(len(idx), generator=gen).to(device)
            h = m.encode(x)
            rec = m.decode(h)
            h_t = m.edit_latent(h, a_t)
            x_t = m.decode(h_t)
            recon = (rec - x).pow(2).flatten(1).sum(1).mean()
            msp = (m.attributes_of(h)[:, 0] - a).pow(2).mean() + (a[:, None] * m.M[0][None, :] - h).pow(2).sum(1).mean()
            label = F.cross_entropy(classifier(rec), y) + F.cross_entropy(classifier(x_t), y)
            loss = recon + settings.msp_weight * msp + settings.label_weight * label
            edit = torch.zeros((), device=device)
            if use_edit:
                # use_edit implies the exact oracle, which exists only on rotated splits (they keep the originals)
                assert oracle is not None and train.originals is not None
                with torch.no_grad():
                    target = oracle.edit(train.originals[idx].to(device), torch.full_like(a_t, a0), a_t)
                edit = (x_t - target).pow(2).flatten(1).sum(1).mean()
                loss = loss + settings.edit_weight * edit
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for k, v in (("loss", loss), ("recon", recon), ("msp", msp), ("label", label), ("edit", edit)):
                sums[k] += float(v.detach()) * len(idx)
        values = {f"train_{k}": v / n for k, v in sums.items()}
        m.eval()
        values["test_recon_mse"] = recon_mse(m, test.images, eval_batch_size, device)
        log.info("manipulator epoch %d/%d: %s", epoch + 1, settings.epochs, {k: round(v, 4) for k, v in values.items()})
        state.end_epoch(epoch + 1, curve_rows(dataset, "manipulator", epoch + 1, seed, values))
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    m.eval()
    metrics = evaluate_manipulator(m, classifier, test, seed, device, eval_batch_size)
    return m, state.rows, metrics


@torch.no_grad()
def recon_mse(m: MSPManipulator, images: torch.Tensor, batch_size: int, device: torch.device) -> float:
    """Mean per-pixel squared reconstruction error."""
    tot = 0.0
    for s in range(0, len(images), batch_size):
        x = images[s : s + batch_size].to(device)
        tot += float((m.reconstruct(x) - x).pow(2).mean(dim=(1, 2, 3)).sum())
    return tot / max(1, len(images))


@torch.no_grad()
def evaluate_manipulator(
    m: MSPManipulator, classifier: nn.Module, test: Split, seed: int, device: torch.device, batch_size: int = 512,
) -> dict[str, float]:
    """Test metrics of a trained manipulator.

    recon_mse: per-pixel MSE of reconstructions; attribute_mae: mean |M h - a| (normalised units;
    ``attribute_mae_deg`` in degrees for rotation); label_preservation: clean accuracy on edits to random
    targets a_t ~ U(0, 1) (``recon_accuracy`` on reconstructions, ``clean_accuracy`` on the inputs);
    rotation sets also get edit_ssim / edit_mse: SSIM and MSE of the learned edit against the oracle
    rotation of the same input to the same target, and ``oracle_label_preservation``.
    """
    gen = torch.Generator().manual_seed(seed)
    oracle = oracle_for(test)
    n = len(test)
    a_t_all = torch.rand(n, generator=gen)
    sums: dict[str, float] = {}

    def add(k: str, v: torch.Tensor) -> None:
        sums[k] = sums.get(k, 0.0) + float(v.sum())

    for s in range(0, n, batch_size):
        x, y = test.images[s : s + batch_size].to(device), test.labels[s : s + batch_size].to(device)
        a, a_t = test.attributes[s : s + batch_size].to(device), a_t_all[s : s + batch_size].to(device)
        h = m.encode(x)
        rec = m.decode(h)
        x_t = m.decode(m.edit_latent(h, a_t))
        add("recon_mse", (rec - x).pow(2).mean(dim=(1, 2, 3)))
        add("attribute_mae", (m.attributes_of(h)[:, 0] - a).abs())
        add("clean_accuracy", (classifier(x).argmax(1) == y).float())
        add("recon_accuracy", (classifier(rec).argmax(1) == y).float())
        add("label_preservation", (classifier(x_t).argmax(1) == y).float())
        if oracle is not None:
            x_o = oracle.edit(x, a, a_t)
            add("edit_ssim", ssim(x_t, x_o))
            add("edit_mse", (x_t - x_o).pow(2).mean(dim=(1, 2, 3)))
            add("oracle_label_preservation", (classifier(x_o).argmax(1) == y).float())
    out = {k: v / max(1, n) for k, v in sums.items()}
    if oracle is not None:
        lo, hi = oracle.angle_range
        out["attribute_mae_deg"] = out["attribute_mae"] * (hi - lo)
    return out
