"""Rule measure_training_speed: steps to a target test accuracy for every learning rate
eta_i = 10^(-1 - i/10) at one depth, all learning rates trained as one stack (Fig. 6)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from reproflow.cli._base import exit_with, main_entry
from reproflow.depthsweep.batched import INITS
from reproflow.io import write_table
from reproflow.runinfo import write_sidecar


@dataclass(frozen=True)
class Config:
    """Measure training speed against the learning rate at one depth."""

    train: Path = field(metadata={"help": "training split (.pt)"})
    test: Path = field(metadata={"help": "test split (.pt)"})
    output: Path = field(metadata={"help": "steps table (CSV)"})
    dataset: str = field(metadata={"help": "dataset name (recorded)"})
    depth: int = field(metadata={"help": "number of weight layers L"})
    lr_exponents: tuple[float, ...] = field(metadata={"help": "i in eta = 10^(-1 - i/10)"})
    seeds: tuple[int, ...] = field(metadata={"help": "seeds"})
    sw2: float = field(metadata={"help": "weight variance"})
    sb2: float = field(metadata={"help": "bias variance"})
    rho: float = field(metadata={"help": "keep probability"})
    init: str = field(metadata={"help": "gaussian | orthogonal"})
    width: int = field(metadata={"help": "hidden width"})
    batch: int = field(metadata={"help": "mini-batch size"})
    max_steps: int = field(metadata={"help": "give up after this many steps"})
    eval_every: int = field(metadata={"help": "test-accuracy check interval (steps)"})
    fine_eval_steps: int = field(metadata={"help": "check the test accuracy at every step up to this one"})
    target_accuracy: float = field(metadata={"help": "target test accuracy"})
    train_size: int = field(metadata={"help": "training images used, 0 = all"})
    test_size: int = field(metadata={"help": "test images evaluated, 0 = all"})
    device: str = field(metadata={"help": "auto | cpu | cuda[:N]"})

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"--init must be one of {INITS}")


def run(cfg: Config) -> None:
    from reproflow.depthsweep.speed import measure_speed
    from reproflow.depthsweep.train import load_data
    from reproflow.device import describe_device, resolve_device
    from reproflow.seeding import seed_everything

    started = time.time()
    seed_everything(cfg.seeds[0])
    device = resolve_device(cfg.device)
    data = load_data(cfg.train, cfg.test, cfg.train_size, cfg.test_size, device)
    df = measure_speed(
        data, depth=cfg.depth, width=cfg.width, sw2=cfg.sw2, sb2=cfg.sb2, rho=cfg.rho, init=cfg.init,
        lr_exponents=cfg.lr_exponents, seeds=cfg.seeds, batch=cfg.batch, max_steps=cfg.max_steps,
        eval_every=cfg.eval_every, fine_eval_steps=cfg.fine_eval_steps, target_accuracy=cfg.target_accuracy,
        device=device,
    )
    df.insert(0, "dataset", cfg.dataset)
    df.insert(0, "phase", "depth_sweep")
    df["rho"] = cfg.rho
    write_table(cfg.output, df)
    write_sidecar(cfg.output, cfg, cfg.seeds[0], describe_device(device), started)


main = main_entry(Config, run)

if __name__ == "__main__":
    exit_with(main)
