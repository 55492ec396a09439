#!/usr/bin/env bash
# Creates (once) the virtual environment the Ray launcher's integration tests start a Ray head from
# (test/python/ray-requirements.txt: ray[default], whose dashboard serves the Jobs REST API). Cached under
# ~/.cache/mlops-studio, keyed by the requirements file's hash. Prints its path last, or nothing on the last line
# when Ray cannot be installed here (the Ray tests then skip and print why; the reason is kept in $venv.failed).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
req="$here/test/python/ray-requirements.txt"
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
venv="$cache/ray-$(sha256sum "$req" | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  mkdir -p "$cache"
  rm -rf "$venv" "$venv.failed"
  start=$(date +%s)
  if python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >"$venv.log" 2>&1 \
    && "$venv/bin/ray" --version >&2; then
    echo "ray venv installed in $(( $(date +%s) - start )) s" >&2
    touch "$venv/.complete"
  else
    tail -5 "$venv.log" >"$venv.failed" 2>/dev/null || echo "python3 -m venv failed" >"$venv.failed"
    echo "ray could not be installed (the Ray tests will skip): $(tail -1 "$venv.failed")" >&2
    rm -rf "$venv"
    echo ""
    exit 0
  fi
fi
echo "$venv"
