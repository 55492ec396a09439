#!/usr/bin/env bash
# Builds the images the job tests run, locally and without a registry (see shared/docs/docker-offline.md).
#   mlops-test/busybox:1   busybox-static only (sh, sleep, head...): lifecycle, cancel, timeout, OOM.
#   mlops-test/pyhost:1    busybox plus the host libraries that Python and the test venv link against. The
#                          Python install and the venv are bind-mounted read-only at their host paths by the
#                          job, so the image stays ~30 MB and builds in seconds instead of a 6-minute debootstrap.
# Usage: build-test-images.sh VENV   (idempotent: an image whose inputs did not change is kept).
# Prints the Python root to mount on its last line.
set -euo pipefail
venv=${1:?usage: build-test-images.sh VENV}
py=$(readlink -f "$venv/bin/python3")
pyroot=$(cd "$(dirname "$py")/.." && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export DOCKER_BUILDKIT=0

stamp_of() { { cat "$here/build-test-images.sh"; echo "$@"; } | sha256sum | cut -c1-16; }
have() { [ "$(docker image inspect -f '{{index .Config.Labels "mlops.stamp"}}' "$1" 2>/dev/null)" = "$2" ]; }

base_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,lib64,lib/x86_64-linux-gnu,proc,sys,dev,root}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list | grep -vx busybox); do ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
}

build() {
  local tag=$1 stamp=$2 ctx=$3
  printf 'FROM scratch\nADD rootfs.tar /\nENV PATH=/bin LANG=C.UTF-8 HOME=/tmp PYTHONUNBUFFERED=1\nLABEL mlops.stamp=%s\nCMD ["/bin/sh"]\n' "$stamp" >"$ctx/Dockerfile"
  tar -C "$ctx/rootfs" -cf "$ctx/rootfs.tar" .
  docker build -q -t "$tag" "$ctx" >/dev/null
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stamp=$(stamp_of busybox "$(sha256sum /bin/busybox)")
if ! have mlops-test/busybox:1 "$stamp"; then
  base_rootfs "$work/bb/rootfs"
  build mlops-test/busybox:1 "$stamp" "$work/bb"
fi

stamp=$(stamp_of pyhost "$py" "$venv" "$(sha256sum "$py")")
if ! have mlops-test/pyhost:1 "$stamp"; then
  base_rootfs "$work/py/rootfs"
  # Only system libraries go into the image; those the wheels bundle (numpy.libs...) come with the venv mount.
  { ldd "$py"; find "$pyroot/lib" "$venv/lib" -name '*.so*' -type f -print0 | xargs -0 -P2 -n64 ldd 2>/dev/null || true; } |
    grep -o '=> /[^ ]*' | cut -c4- | grep -E '^/(usr/)?lib' | sort -u >"$work/libs"
  while read -r lib; do cp -L "$lib" "$work/py/rootfs/lib/x86_64-linux-gnu/"; done <"$work/libs"
  cp -L /lib64/ld-linux-x86-64.so.2 "$work/py/rootfs/lib64/"
  build mlops-test/pyhost:1 "$stamp" "$work/py"
fi
echo "$pyroot"
