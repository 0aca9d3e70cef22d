#!/usr/bin/env bash
# The prepared GPU check (issue 25): on a CUDA machine, in under 8 minutes on one H100-class GPU,
#   1. the smoke scale (config/smoke.yaml: the paper DAG, sizes cut, fixture data in the real formats) on the GPU;
#   2. one paper-size unit of each heavy rule, bounded steps (benchmarks/gpu_check.py) -> a CSV of seconds per
#      epoch / eps / cell-step / draw and the device-hour estimate per phase.
#   bash benchmarks/gpu_check.sh [OUT]          # default OUT: results/gpu_check
# Without CUDA it runs its CPU path: the smoke scale as a dry run only (-n) and the timings with small bounds,
# labelled device cpu, so the script itself is exercised anywhere; those numbers are not GPU estimates.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/gpu_check}"
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}" DVC_NO_ANALYTICS=1
py=.venv/bin/python
[ -x "$py" ] || py=python
mkdir -p "$out"
device=$("$py" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
echo "[gpu_check] device: $device  ($("$py" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA: CPU path')"))"
"$py" workflow/scripts/make_fixtures.py "$out/data"
start=$(date +%s)
smoke=(all --configfile config/smoke.yaml --config "results_root=$out/smoke" "data_root=$out/data" "device=$device")
if [ "$device" = cuda ]; then
  timeout 360 "$py" -m snakemake "${smoke[@]}" --cores "$(nproc)" --resources gpu=1 > "$out/smoke.log" 2>&1 \
    || { echo "[gpu_check] smoke scale failed or passed 6 min: $out/smoke.log" >&2; tail -20 "$out/smoke.log" >&2; exit 1; }
  steps=10 extra=()
else
  "$py" -m snakemake "${smoke[@]}" --cores 1 -n --quiet rules > "$out/smoke.log" 2>&1
  steps=1 extra=(--max-batch 4 --depth-nets 2 --depth-depth 10 --mf-width 100 --mf-depth 10)
fi
smoke_s=$(( $(date +%s) - start ))
jobs=$(grep -Eo "([0-9]+) of \1 steps|^total +[0-9]+" "$out/smoke.log" | tail -1 | grep -Eo "[0-9]+$" || true)
echo "[gpu_check] smoke scale ($([ "$device" = cuda ] && echo run || echo 'dry run')): ${jobs:-?} jobs, ${smoke_s} s"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$py" benchmarks/gpu_check.py --device "$device" --steps "$steps" "${extra[@]}" --out "$out/gpu_check.csv"
# rule,what,unit,seconds_per_unit,units,hours,how,device
echo "smoke,$([ "$device" = cuda ] && echo run || echo dry-run) of config/smoke.yaml,dag,$smoke_s,${jobs:-},,wall seconds of the whole smoke DAG (units: its jobs),$device" >> "$out/gpu_check.csv"
echo "[gpu_check] done in $(( $(date +%s) - start )) s: $out/gpu_check.csv"
