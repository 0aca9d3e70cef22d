# Helpers shared by every phase: config validation, paths, CLI argument formatting.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from reproflow.cli._base import format_flags as cli_args  # kwargs -> "--flag value ..." (used by every rule)
from reproflow.config import validate_config
from reproflow.errors import UserError

try:
    validate_config(config, Path(workflow.basedir).joinpath("workflow", "schemas"))
except UserError as _exc:
    raise WorkflowError(f"invalid config: {_exc}") from None

# Jobs run `python -m reproflow.cli...`: make that the interpreter that runs Snakemake (the
# project's .venv), whatever PATH the user's shell has.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

# Every output lives under the scale's results root (paper: results/, quick: results/quick/, ...)
R = config["results_root"]
DEVICE = config["device"]
# GPUs requested from a scheduler by the heavy (GPU-capable) rules; 0 at the CPU scales.
GPUS = config["gpus_per_job"]


def log_path(phase, name):
    return f"{R}/logs/{phase}/{name}.log"


def bench_path(phase, name):
    return f"{R}/benchmarks/{phase}/{name}.tsv"
