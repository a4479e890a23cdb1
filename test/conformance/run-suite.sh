#!/bin/bash
# Runs rtpengine's own daemon tests (tag mr10.5.3.5) against the built relay and records the
# per-file counts and failure categories in docs/conformance.md (section LABEL, with the date
# and the commit). Not part of `npm test`: it needs root (a network namespace) and a few minutes.
#
#   sudo test/conformance/run-suite.sh [--label NAME] [--relay ours|rtpengine] [FILES...]
#
# Env: SUITE (the harness, default ../shared/conformance/rtpengine-suite next to the checkout),
#      OUT (its output directory, default a fresh temp dir), DOC (default docs/conformance.md).
set -eu
cd "$(dirname "$0")/../.."
PROJ=$PWD
LABEL=current
RELAY=ours
while [ $# -gt 0 ]; do
	case "$1" in
		--label) LABEL=$2; shift 2 ;;
		--relay) RELAY=$2; shift 2 ;;
		*) break ;;
	esac
done
SUITE=${SUITE:-$PROJ/../shared/conformance/rtpengine-suite}
DOC=${DOC:-$PROJ/docs/conformance.md}
[ -x "$SUITE/run.sh" ] || { echo "no harness at $SUITE/run.sh (set SUITE)" >&2; exit 2; }
[ -f dist/test/conformance/report.js ] || { echo "build first: npm run build" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/ngrelay-conformance.XXXXXX)}
COMMIT=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src || COMMIT="$COMMIT+changes"
# The harness names its namespace rts-suite-<its pid>: runs side by side do not collide.
OUT=$OUT PROJ=$PROJ RELAY=$RELAY "$SUITE/run.sh" "$@"
node dist/test/conformance/report.js "$OUT" "$LABEL" "$COMMIT" "$DOC"
echo "raw results in $OUT"
