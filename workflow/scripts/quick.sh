#!/usr/bin/env bash
# Set up and run the whole DAG of both papers at the QUICK scale (CPU, embedded digits, no
# network), then write the HTML report. Extra arguments go to Snakemake.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash workflow/scripts/setup.sh
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}" DVC_NO_ANALYTICS=1
start=$(date +%s)
# after a kill -9 the lock stays behind: clear it only when no Snakemake works in this folder;
# the default profile (workflow/profiles/default) then re-runs incomplete jobs
.venv/bin/python workflow/scripts/clear_stale_lock.py .
.venv/bin/snakemake all --cores "${CORES:-all}" --configfile config/quick.yaml "$@"
.venv/bin/snakemake all --cores 1 --configfile config/quick.yaml --report results/quick/report.html
echo "[quick] finished in $(( $(date +%s) - start )) s"
echo "[quick] report: results/quick/report.html   summary: results/quick/report/summary.md   figures: results/quick/*/**.png"
