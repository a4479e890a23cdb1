#!/usr/bin/env bash
# Builds the relay's SRTP packet crypto (an N-API addon in C) into $1. It needs a C compiler and
# Node's headers only: OpenSSL's headers come with Node's, and its functions are Node's own,
# found in the running node binary when the addon loads. The relay cannot relay SRTP without it,
# so a build that cannot make it fails.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?output directory}"
mkdir -p "$out"
node_inc="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -f "$node_inc/node_api.h" ] || missing+=("Node.js headers ($node_inc)")
[ -f "$node_inc/openssl/evp.h" ] || missing+=("Node.js's OpenSSL headers ($node_inc/openssl)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "SRTP addon not built: missing ${missing[*]}; the relay needs it for SRTP" >&2
  rm -f "$out/srtp.node"
  exit 1
fi
set -e
cc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -I"$node_inc" -I"$here/../../../runtime/native" -o "$out/srtp.node" "$here/srtp.c"
