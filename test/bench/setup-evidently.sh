#!/usr/bin/env bash
# Creates (once) the benchmark-only venv with Evidently from PyPI, for the drift performance comparison
# (test/bench/stats-evidently.bench.ts). Not part of CI. Prints the venv's path on its last line.
set -euo pipefail
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/bench-evidently-0.7"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'evidently>=0.7,<0.8' pandas numpy scipy >&2
  touch "$venv/.complete"
fi
echo "$venv"
