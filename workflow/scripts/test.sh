#!/usr/bin/env bash
# Set up and run the static checks (ruff, snakefmt, mypy) and the test suite (unit, workflow, end-to-end at the
# tiny scale, DVC, SLURM, the smoke scale's plan against the paper's and its whole DAG). The whole smoke DAG
# (tests/e2e/test_smoke_dag.py) runs inside its own wall-clock budget REPROFLOW_SMOKE_TIMEOUT_S, default 1200 s, past
# which it stops and fails with a SMOKE DAG TIMEOUT banner; REPROFLOW_SMOKE_DAG=0 skips it (local iterations only).
# As root it installs Debian's slurm-wlm and munge so the SLURM test runs on a real one-node
# cluster; elsewhere that test is skipped with its reason. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPROFLOW_APT_EXTRA="slurm-wlm munge dataset-fashion-mnist" bash workflow/scripts/setup.sh
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.cache}" DVC_NO_ANALYTICS=1 OMP_NUM_THREADS=1
# static checks first (seconds): ruff on the Python, snakefmt on the workflow (snakemake-workflows' convention)
.venv/bin/ruff check src tests workflow benchmarks
.venv/bin/snakefmt --check Snakefile workflow/rules
# the static type checker on the library and CLIs (settings in pyproject.toml [tool.mypy])
.venv/bin/mypy
set +e
.venv/bin/python -m pytest -n 2 --dist loadfile -q --durations=10 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  # pytest's "no tests collected": never report that as a pass
  echo "[test] pytest collected no tests: the suite is missing or a path/marker filter excluded everything" >&2
  exit 1
fi
exit "$rc"
