#!/usr/bin/env bash
# Installs and starts the system services the tests talk to (idempotent).
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
# The e2e tier drives code-server with Debian's Chromium; code-server's install needs rg and krb5 headers.
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
# Training jobs run in Debian's Docker engine; busybox-static is the shell of the locally built test images.
command -v dockerd >/dev/null || need+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # Several setups may run at once on one machine: wait for the dpkg lock instead of failing.
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
fi
# No systemd here: start dockerd ourselves. No bridge, no iptables: containers use host networking (loopback only).
if ! docker version >/dev/null 2>&1; then
  if ! pgrep -x dockerd >/dev/null; then
    nohup dockerd --bridge=none --iptables=false --ip-forward=false >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 100); do [ -S /var/run/docker.sock ] && docker version >/dev/null 2>&1 && break; sleep 0.3; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
