#!/usr/bin/env bash
# CI: the arm64 prebuild runs the kernel-facing part of the suite on an arm64 Node under qemu-user
# (issue 18; scripts/test-arm64.mjs). Debian's qemu-user, its binfmt_misc entry and the arm64 cross
# compiler and libc are installed here when missing; the arm64 Node and the glibc 2.17 sysroot come
# from npm at the versions pinned in scripts/toolchain.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
test -e /usr/lib/binfmt.d/qemu-aarch64.conf || need+=(qemu-user-binfmt)
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"
fi

npm run test:arm64
