#!/usr/bin/env bash
# Installs the npm dependencies (when package-lock.json changed) and builds the bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip npm_config_nodedir=${npm_config_nodedir:-/usr}
stamp=node_modules/.mlops-lock-hash
want=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
node .ci/build.mjs
