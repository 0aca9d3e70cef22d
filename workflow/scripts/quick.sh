#!/usr/bin/env bash
# Set up and run the whole DAG of both papers at the QUICK scale (CPU, embedded digits, no network), then
# write the HTML report. SCALE=cpu runs the cpu scale instead (real Fashion-MNIST from Debian's
# dataset-fashion-mnist package, about an hour on 2 cores); SCALE=smoke runs the PAPER configuration with
# only sizes cut on small fixture files in each paper dataset's real format (written first by
# workflow/scripts/make_fixtures.py into data/smoke). Extra arguments go to Snakemake.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${SCALE:-quick}"
case "$scale" in
  quick|cpu|tiny|smoke) ;;
  *) echo "[run] SCALE must be quick, cpu, tiny or smoke (the paper scale runs with plain snakemake on a GPU machine), got '$scale'" >&2; exit 2 ;;
esac
if [ "$scale" = cpu ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  export REPROFLOW_APT_EXTRA="${REPROFLOW_APT_EXTRA:-} dataset-fashion-mnist"  # the real Fashion-MNIST files, offline
fi
bash workflow/scripts/setup.sh
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}" DVC_NO_ANALYTICS=1
start=$(date +%s)
# after a kill -9 the lock stays behind: clear it only when no Snakemake works in this folder;
# the default profile (workflow/profiles/default) then re-runs incomplete jobs
.venv/bin/python workflow/scripts/clear_stale_lock.py .
if [ "$scale" = smoke ]; then
  .venv/bin/python workflow/scripts/make_fixtures.py data/smoke  # config/smoke.yaml's data_root
fi
.venv/bin/snakemake all --cores "${CORES:-all}" --configfile "config/$scale.yaml" "$@"
.venv/bin/snakemake all --cores 1 --configfile "config/$scale.yaml" --report "results/$scale/report.html"
echo "[$scale] finished in $(( $(date +%s) - start )) s"
echo "[$scale] report: results/$scale/report.html   summary: results/$scale/report/summary.md   figures: results/$scale/*/**.png"
