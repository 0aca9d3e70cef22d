#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment in .venv with the package and its tools.
# Idempotent: re-running only installs what is missing. As root on Debian it also installs
# graphviz (for `snakemake --dag`) and Debian's Fashion-MNIST files; failure there is not fatal.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
fresh=0
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
  fresh=1
fi
echo "[setup] installing reproflow and its dependencies (torch 2.14.1, snakemake, dvc, ...)"
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
# pip byte-compiles the ~15 000 installed modules on one core (about 39 s on a 2-core machine); compileall does
# the same files on every core (about 20 s), which matters in the quick scale's 8-minute budget (issue 24).
# Its exit status is ignored as pip ignores it: torch ships a test module in Python 3.12 syntax.
.venv/bin/python -m pip install --quiet --no-compile -e '.[test]'
if [ "$fresh" = 1 ]; then
  echo "[setup] byte-compiling the installed packages on every core"
  .venv/bin/python -m compileall -qq -j 0 "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || true
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  command -v dot >/dev/null || missing="$missing graphviz"
  [ -n "${REPROFLOW_APT_EXTRA:-}" ] && missing="$missing $REPROFLOW_APT_EXTRA"
  if [ -n "$missing" ]; then
    echo "[setup] apt-get install$missing"
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 \
      || (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1)) \
      || echo "[setup] warning: could not install$missing (optional)"
  fi
fi
echo "[setup] done: $(.venv/bin/python -c 'import torch, snakemake, dvc; print("torch", torch.__version__, "snakemake", snakemake.__version__, "dvc", dvc.__version__)')"
