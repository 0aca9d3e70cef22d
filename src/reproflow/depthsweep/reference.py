"""The authors' released Fig. 7 trainability heatmaps (Huang et al., ECAI 2020; vendored under
workflow/resources/huang2020_fig7/ with their provenance) as tidy panel tables, so they run through
the project's own boundary extraction and formula fit as reference rows."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from reproflow.errors import UserError

_FIELD = re.compile(r"(\w+)=([^\s;]+)")
_PANEL = re.compile(r"Fig\.7 panel (\w)")
CLASSES = {"MNIST": 10, "CIFAR10": 10}


def load_reference_panel(path: Path) -> pd.DataFrame:
    """One released heatmap as a tidy table like a project panel's accuracy table.

    File: two comment lines (panel letter and source; rho, weights, steps, dataset, optimiser, sb2),
    then a header ``L, <sw2>...`` and one row per depth of final-step training (mini-batch)
    accuracy. Returns columns ``panel`` (``authors_<letter>``), ``dataset, rho, init, optimizer,
    steps, sb2, classes, sw2, depth, seed (0), metric (train_accuracy), value``.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: reference heatmap not found (depth_sweep.reference_panels in params.yaml)")
    with path.open() as fh:
        head = [fh.readline(), fh.readline()]
    m = _PANEL.search(head[0])
    meta = dict(_FIELD.findall(head[1]))
    if not m or not {"rho", "weights", "steps", "dataset"} <= set(meta):
        raise UserError(f"{path}: first two lines lack the panel letter or rho/weights/steps/dataset")
    wide = pd.read_csv(path, comment="#")
    tidy = wide.melt(id_vars="L", var_name="sw2", value_name="value").rename(columns={"L": "depth"})
    tidy["sw2"] = tidy["sw2"].astype(float).round(10)
    dataset = meta["dataset"]
    return tidy.assign(panel=f"authors_{m.group(1)}", dataset=dataset, rho=float(meta["rho"]),
                       init=meta["weights"], optimizer=meta.get("optimiser", "?").rstrip("?") or "?",
                       steps=int(meta["steps"]), sb2=0.05, classes=CLASSES.get(dataset, 10), seed=0,
                       metric="train_accuracy")
