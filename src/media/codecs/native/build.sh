#!/usr/bin/env bash
# Builds the relay's opus binding (an N-API addon against the system's libopus) into $1.
# Needs a C compiler, libopus-dev and Node's headers at build time; without them the relay builds
# anyway and refuses transcoding to or from opus (the other codecs are pure TypeScript).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?output directory}"
mkdir -p "$out"
node_inc="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/opus/opus.h ] || missing+=(libopus-dev)
[ -f "$node_inc/node_api.h" ] || missing+=("Node.js headers ($node_inc)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "opus codec not built: missing ${missing[*]}; the relay will not transcode opus" >&2
  rm -f "$out/opus.node"
  exit 0
fi
set -e
cc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -I"$node_inc" -I"$here/../../../runtime/native" -o "$out/opus.node" "$here/opus.c" -lopus
