#!/usr/bin/env bash
# Creates (once) the small virtual environment the scale-out tests use: tritonclient[http] (a real Open Inference
# Protocol client), kubernetes-validate (the official Kubernetes schemas, offline) and kmock (a mock Kubernetes API
# server, for --apply). About 20-30 s and 290 MB the first time; cached under ~/.cache/mlops-studio, keyed by the
# requirements file's hash. Prints its path last.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
req="$here/test/python/scaleout-requirements.txt"
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/scaleout-$(sha256sum "$req" | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv"
