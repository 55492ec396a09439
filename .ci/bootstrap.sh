#!/usr/bin/env bash
# Installs the npm dependencies (when package-lock.json changed) and builds the bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip npm_config_nodedir=${npm_config_nodedir:-/usr}
stamp=node_modules/.mlops-lock-hash
want=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # A fresh checkout gets exactly the lock file; an existing node_modules is updated in place (npm ci would
  # delete it first, under anyone else using it).
  if [ -d node_modules ]; then npm install --no-audit --no-fund --loglevel=error; else npm ci --no-audit --no-fund --loglevel=error; fi
  echo "$want" > "$stamp"
fi
node .ci/build.mjs
