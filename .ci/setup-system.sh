#!/usr/bin/env bash
# Installs and starts the system services the tests talk to (idempotent).
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
# The e2e tier drives code-server with Debian's Chromium; code-server's install needs rg and krb5 headers.
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
