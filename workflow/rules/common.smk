# Helpers shared by every phase: config validation, paths, CLI argument formatting.
import shlex
from pathlib import Path

from snakemake.exceptions import WorkflowError

from reproflow.config import validate_config
from reproflow.errors import UserError

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas")
except UserError as _exc:
    raise WorkflowError(f"invalid config: {_exc}") from None

# Every output lives under the scale's results root (paper: results/, quick: results/quick/, ...)
R = config["results_root"]
DEVICE = config["device"]
# GPUs requested from a scheduler by the heavy (GPU-capable) rules; 0 at the CPU scales.
GPUS = config["gpus_per_job"]


def cli_args(**kwargs):
    """Format keyword arguments as CLI flags: sw2_grid=[1, 2] -> --sw2-grid 1 2.

    Values come from the config, so a rule's params change (and Snakemake re-runs the job)
    exactly when the config value changes.
    """
    parts = []
    for key, value in kwargs.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, (list, tuple)):
            if len(value) == 0:
                raise WorkflowError(f"empty list passed for {flag}")
            parts.append(flag + " " + " ".join(shlex.quote(_fmt(v)) for v in value))
        else:
            parts.append(flag + " " + shlex.quote(_fmt(value)))
    return " ".join(parts)


def _fmt(v):
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def log_path(phase, name):
    return f"{R}/logs/{phase}/{name}.log"


def bench_path(phase, name):
    return f"{R}/benchmarks/{phase}/{name}.tsv"
