#!/usr/bin/env bash
# Builds the relay's memory-release addon (C++ against Node's own headers) into $1. Without a C++
# compiler or the headers the relay builds anyway and simply keeps what V8 holds until V8 itself
# lets it go.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?output directory}"
mkdir -p "$out"
node_inc="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
if ! command -v c++ >/dev/null 2>&1 || [ ! -f "$node_inc/node.h" ]; then
  echo "memory-release addon not built: missing a C++ compiler (g++) or Node.js headers ($node_inc)" >&2
  rm -f "$out/memory.node"
  exit 0
fi
set -e
c++ -O2 -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-cast-function-type -shared -fPIC -fvisibility=hidden -I"$node_inc" -o "$out/memory.node" "$here/memory.cc"
