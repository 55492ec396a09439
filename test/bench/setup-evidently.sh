#!/usr/bin/env bash
# Creates (once) the benchmark-only venv with Evidently from PyPI, for the drift performance comparison
# (test/bench/stats-perf.bench.ts). Not part of CI. Prints the venv's path on its last line.
# pandas < 3: Evidently 0.7 imports a pandas internal that pandas 3 removed.
set -euo pipefail
pkgs=('evidently>=0.7,<0.8' 'pandas<3' numpy scipy)
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/bench-evidently-$(echo "${pkgs[*]}" | sha256sum | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${pkgs[@]}" >&2
  touch "$venv/.complete"
fi
echo "$venv"
