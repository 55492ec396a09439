#!/usr/bin/env bash
# Creates (once) the Python virtual environment the tests use: the real mlflow client and server from PyPI.
# It lives outside the checkout, keyed by the requirements file's hash, so CI and later runs reuse it.
# Prints the venv's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
req="$here/test/python/requirements.txt"
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/venv-$(sha256sum "$req" | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv"
