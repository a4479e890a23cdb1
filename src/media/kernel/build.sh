#!/usr/bin/env bash
# Builds the kernel fast path (tc program + its loader) into $1 (dist/kernel). Needs clang and
# libbpf-dev at build time only; without them the relay builds anyway and runs in userspace.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?output directory}"
mkdir -p "$out"
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "kernel fast path not built: missing ${missing[*]} (apt-get install -y ${missing[*]}); the relay will run in userspace" >&2
  rm -f "$out/fastpath.bpf.o" "$out/ngrelay-kernel"
  exit 0
fi
arch_inc="/usr/include/$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
set -e
clang -O2 -g -Wall -target bpf -I"$arch_inc" -c "$here/fastpath.bpf.c" -o "$out/fastpath.bpf.o"
cc -O2 -Wall -Wextra -o "$out/ngrelay-kernel" "$here/helper.c" -lbpf
