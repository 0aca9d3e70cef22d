#!/usr/bin/env bash
# Run one phase's Snakemake target for a DVC stage: `bash workflow/scripts/dvc_phase.sh <phase>_all`.
# DVC decides what is stale; Snakemake only fills missing outputs (mtime triggers), so a stage
# never re-runs an upstream stage's outputs. Extra arguments go to Snakemake.
set -euo pipefail
target="$1"; shift
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}"
export DVC_NO_ANALYTICS=1
exec snakemake --cores "${DVC_CORES:-all}" --rerun-triggers mtime --rerun-incomplete "$target" "$@"
