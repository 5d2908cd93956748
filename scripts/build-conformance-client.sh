#!/usr/bin/env bash
# Installs the control API's conformance client (tests/conformance: connect-node and buf, exactly as its lockfile
# pins them) so that NodeConformanceTests runs without reaching any registry. The first run fetches the packages from
# the npm registry; re-runs are no-ops while the lockfile and node's version are unchanged (.build/conformance.stamp).
# Without node and npm it does nothing: the test then skips and says why.
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

mkdir -p "$BUILD_DIR"
STAMP="$BUILD_DIR/conformance.stamp"
INPUTS=$(hash_inputs "$DIR/package.json" "$DIR/package-lock.json" "node=$(node --version)")
if stamp_ok "$STAMP" "$INPUTS" "$DIR/node_modules"; then
  log "conformance client up to date"
  exit 0
fi

log "npm ci in tests/conformance"
(cd "$DIR" && npm ci --no-audit --no-fund --prefer-offline) >"$BUILD_DIR/conformance-npm.log" 2>&1 ||
  die "npm ci in tests/conformance failed; last lines:
$(tail -n 20 "$BUILD_DIR/conformance-npm.log")"
stamp_write "$STAMP" "$INPUTS"
