#!/usr/bin/env bash
# Packs what test/device/gpu-check.sh needs on a bare GPU machine into .devcheck/bundle.tar.xz: this machine's node,
# the built backend and only the runtime parts of its external modules (x86-64 Linux).
set -eu
cd "$(dirname "$0")/../.."
npm run build >/dev/null
S=$(mktemp -d); mkdir -p "$S/bin" "$S/node_modules" .devcheck
cp "$(command -v node)" "$S/bin/"; mkdir -p "$S/dist"; cp -r dist/backend "$S/dist/"
mods=$(node -e '
const a = require("./package-lock.json").packages, seen = new Set();
const walk = (n) => { if (seen.has(n) || !a["node_modules/" + n]) return; seen.add(n);
  const p = a["node_modules/" + n]; for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) walk(d); };
["better-sqlite3", "onnxruntime-node", "dockerode"].forEach(walk); console.log([...seen].join(" "));')
for p in $mods; do [ -d "node_modules/$p" ] && mkdir -p "$S/node_modules/$(dirname "$p")" && cp -r "node_modules/$p" "$S/node_modules/$p"; done
rm -rf "$S/node_modules/better-sqlite3/"{deps,src} "$S/node_modules/better-sqlite3/build/"{deps,Release/obj*,Release/.deps}
find "$S/node_modules/onnxruntime-node/bin" -mindepth 3 -maxdepth 3 ! -path '*linux/x64' -exec rm -rf {} +
XZ_OPT="-4 -T2" tar -cJf .devcheck/bundle.tar.xz -C "$S" . && rm -rf "$S"
ls -la .devcheck/bundle.tar.xz

# With --serving-bench: also the serving benchmark, its load generator and floor server as single files (no tsx or
# dev dependencies there), and the benchmark's model trained here with the test venv (no mlflow there).
if [ "${1:-}" = "--serving-bench" ]; then
  S=$(mktemp -d); D="$S/test/integration/serving"; mkdir -p "$D" "$S/trained"
  banner="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
  for e in test/bench/serving.bench.ts:serving-bench test/integration/serving/loadgen.ts:loadgen test/integration/serving/http-floor.ts:http-floor; do
    npx esbuild "${e%%:*}" --bundle --platform=node --format=esm --target=node20 --outfile="$D/${e##*:}.mjs" \
      --external:better-sqlite3 --external:onnxruntime-node --external:dockerode --banner:js="$banner" --log-level=warning
  done
  py="$(bash .ci/setup-python.sh | tail -1)/bin/python"
  "$py" test/fixtures/onnx/sklearn_iris.py "$S/trained" | tail -1 | sed "s#$S/trained#@DIR@#g" > "$S/trained/trained.json"
  XZ_OPT="-4 -T2" tar -cJf .devcheck/serving-bench.tar.xz -C "$S" . && rm -rf "$S"
  ls -la .devcheck/serving-bench.tar.xz
fi
