#!/usr/bin/env bash
# Installs the control API's conformance client's packages (tests/conformance: connect-node and buf, exactly as its
# lockfile pins them) into .build/conformance/node_modules, so that NodeConformanceTests runs without reaching any
# registry and the checkout's tests/conformance stays as committed (no node_modules in it, owned by whoever ran this).
# The first run fetches the packages from the npm registry; re-runs are no-ops while the lockfile and node's version
# are unchanged (.build/conformance.stamp). Without node and npm it does nothing: the test then skips and says why.
#
# Usage: scripts/build-conformance-client.sh
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DIR="$REPO_ROOT/tests/conformance"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node or npm is missing; the conformance client is not installed (NodeConformanceTests will skip)"
  exit 0
fi

OUT="$BUILD_DIR/conformance"
mkdir -p "$OUT"
STAMP="$BUILD_DIR/conformance.stamp"
INPUTS=$(hash_inputs "$DIR/package.json" "$DIR/package-lock.json" "node=$(node --version)")
if stamp_ok "$STAMP" "$INPUTS" "$OUT/node_modules"; then
  log "conformance client up to date"
  exit 0
fi

log "npm ci for tests/conformance in .build/conformance"
cp "$DIR/package.json" "$DIR/package-lock.json" "$OUT/"
(cd "$OUT" && npm ci --no-audit --no-fund --prefer-offline) >"$BUILD_DIR/conformance-npm.log" 2>&1 ||
  die "npm ci for tests/conformance failed; last lines:
$(tail -n 20 "$BUILD_DIR/conformance-npm.log")"
stamp_write "$STAMP" "$INPUTS"
