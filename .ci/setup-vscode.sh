#!/usr/bin/env bash
# Installs code-server (a real VS Code workbench with a Node extension host) for the e2e tier, offline-safe.
# Cached under ~/.cache/mlops-studio/code-server-<version>; prints the path of its bin/code-server on the last line.
# Needs the apt packages chromium and ripgrep (from setup-system.sh). See ../shared/docs/vscode-e2e.md for why.
set -euo pipefail
VERSION=4.100.3      # last code-server on Node 20 (4.103+ needs Node 22+)
RG_CACHE_VER=1.15.11 # @vscode/ripgrep version code-server 4.100.3 depends on
dir="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-studio/code-server-$VERSION"
bin="$dir/node_modules/.bin/code-server"
if [ -f "$dir/.complete" ] && [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v rg >/dev/null || { echo "setup-vscode: ripgrep (rg) is missing; run .ci/setup-system.sh" >&2; exit 1; }
rm -rf "$dir"; mkdir -p "$dir"
# @vscode/ripgrep's postinstall downloads rg from GitHub; it first looks in this cache, so seed it with Debian's rg.
tmp="$dir/.tmp"; mkdir -p "$tmp/vscode-ripgrep-cache-$RG_CACHE_VER"
tar czf "$tmp/vscode-ripgrep-cache-$RG_CACHE_VER/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
cd "$dir"
echo '{"name":"mlops-code-server","private":true}' > package.json
# unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty's postinstall runs npx node-gyp.
TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir="${npm_config_nodedir:-/usr}" \
  npm install --no-audit --no-fund --loglevel=error "code-server@$VERSION" >&2
rm -rf "$tmp"
touch .complete
echo "$bin"
