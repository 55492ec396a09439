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
tar -cJf .devcheck/bundle.tar.xz -C "$S" . && rm -rf "$S"
ls -la .devcheck/bundle.tar.xz
