#!/usr/bin/env bash
# Builds the relay's codec bindings (N-API addons against the system's codec libraries) into $1:
# opus.node (libopus-dev), g729.node (libbcg729-dev), gsm.node (libgsm1-dev), speex.node
# (libspeex-dev) and cng.node (libavcodec-dev). Needs a C compiler and Node's headers at build
# time; a binding whose library is missing is not built, and the relay then refuses transcoding
# to or from that codec (G.711 and G.722 are pure TypeScript).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?output directory}"
mkdir -p "$out"
node_inc="$(node -p "require('path').resolve(process.execPath, '../../include/node')")"
common=()
command -v cc >/dev/null 2>&1 || common+=(gcc)
[ -f "$node_inc/node_api.h" ] || common+=("Node.js headers ($node_inc)")

# build NAME HEADER PACKAGE LIBS...
build() {
  local name=$1 header=$2 package=$3
  shift 3
  local missing=("${common[@]}")
  [ -f "$header" ] || missing+=("$package")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$name codec not built: missing ${missing[*]}; the relay will not transcode $name" >&2
    rm -f "$out/$name.node"
    return 0
  fi
  cc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -I"$node_inc" -I"$here/../../../runtime/native" \
    -o "$out/$name.node" "$here/$name.c" "$@"
}

set -e
build opus /usr/include/opus/opus.h libopus-dev -lopus
build g729 /usr/include/bcg729/encoder.h libbcg729-dev -lbcg729
build gsm /usr/include/gsm.h libgsm1-dev -lgsm
build speex /usr/include/speex/speex.h libspeex-dev -lspeex
# libspandsp's DTMF receiver: in-band digits become RFC 4733 events on converted streams.
if [ -f /usr/include/spandsp/dtmf.h ]; then
  build dtmf_rx /usr/include/spandsp/dtmf.h libspandsp-dev -lspandsp
else
  echo "DTMF receiver not built: missing libspandsp-dev; in-band digits on converted streams stay audio" >&2
  rm -f "$out/dtmf_rx.node"
fi
# libavcodec's comfort-noise decoder (the one rtpengine uses): CN towards a party without CN.
avcodec_h=/usr/include/$(cc -dumpmachine 2>/dev/null)/libavcodec/avcodec.h
[ -f "$avcodec_h" ] || avcodec_h=/usr/include/libavcodec/avcodec.h
if [ -f "$avcodec_h" ]; then
  build cng "$avcodec_h" libavcodec-dev -lavcodec -lavutil
else
  echo "comfort-noise decoder not built: missing libavcodec-dev; CN towards a party without CN is dropped" >&2
  rm -f "$out/cng.node"
fi
