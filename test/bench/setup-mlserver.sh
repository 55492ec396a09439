#!/usr/bin/env bash
# Creates (once) the benchmark-only venv with Seldon's MLServer and its scikit-learn runtime from PyPI, for the
# Open Inference Protocol comparison (test/bench/oip.bench.ts). Not part of CI. Prints the venv's path last.
set -euo pipefail
# uvloop < 0.22: MLServer 1.7.1's inference workers call asyncio.get_event_loop(), which newer uvloop refuses.
pkgs=(mlserver==1.7.1 mlserver-sklearn==1.7.1 'uvloop<0.22' scikit-learn joblib)
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/bench-mlserver-$(echo "${pkgs[*]}" | sha256sum | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${pkgs[@]}" >&2
  touch "$venv/.complete"
fi
echo "$venv"
