#!/usr/bin/env bash
# Runs the whole test suite and prints a plain summary.
#
# Usage: scripts/test.sh [extra `dotnet test` arguments, e.g. --filter Category!=Slow]
#
# 1. scripts/setup.sh (integration tests need .build/assets and .build/bin),
#    scripts/build-debian-image.sh .build/images/debian-bookworm.oci.tar (the image tests import it),
#    scripts/build-toolchain-image.sh .build/images/debian-toolchain.oci.tar (the real package clients in a guest) and
#    scripts/build-conformance-client.sh (tests/conformance's npm packages)
# 2. dotnet test Cleanroom.sln -c Release --logger "trx;LogFilePrefix=cleanroom"
#    with results (and dotnet-test.log, the console output) in .build/test-results/
# 3. parses every .trx there and prints per-project summaries, the failed tests, and as the very
#    last line:  N passed, N failed[, N skipped]
#
# Exit status: 0 only if setup and the build succeeded, at least one test ran and none failed.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

RESULTS="$BUILD_DIR/test-results"
COUNTS="$RESULTS/.counts"
PASSED=0 FAILED=0 SKIPPED=0

# The toolchain image build below runs in its own process group; a failure or an interrupt must not leave it running.
stop_toolchain() {
  if [ -n "${TOOLCHAIN_PID:-}" ] && kill -0 "$TOOLCHAIN_PID" 2>/dev/null; then
    kill -TERM -- "-$TOOLCHAIN_PID" 2>/dev/null || true
    wait "$TOOLCHAIN_PID" 2>/dev/null || true
  fi
}

# The summary line is printed on every exit path, and always last.
finish() {
  local rc=$?
  stop_toolchain
  if [ -f "$COUNTS" ]; then read -r PASSED FAILED SKIPPED <"$COUNTS" || true; fi
  local line="$PASSED passed, $FAILED failed"
  [ "${SKIPPED:-0}" -eq 0 ] || line+=", $SKIPPED skipped"
  printf '%s\n' "$line"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$EPOCHREALTIME
mkdir -p "$BUILD_DIR"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# The same Debian with go, pip, gem, bundler, node and npm for the package clients' tests: the first time, mostly
# debootstrap downloading and unpacking (minutes), so it runs while setup.sh compiles; a no-op afterwards.
TOOLCHAIN_LOG="$RESULTS/toolchain-image.log"
# Host packages first (debootstrap, curl): the build below must not race setup.sh installing them. A no-op when present.
"$SCRIPTS_DIR/install-host-deps.sh" || die "installing host packages failed; no tests were run"
setsid "$SCRIPTS_DIR/build-toolchain-image.sh" "$BUILD_DIR/images/debian-toolchain.oci.tar" >"$TOOLCHAIN_LOG" 2>&1 </dev/null &
TOOLCHAIN_PID=$!
# Waits for that build and shows its log. (The failure paths below just exit: the EXIT trap stops the build.)
toolchain_image() {
  local rc=0
  wait "$TOOLCHAIN_PID" || rc=$?
  cat "$TOOLCHAIN_LOG" >&2
  return "$rc"
}

log "running scripts/setup.sh"
"$SCRIPTS_DIR/setup.sh" || die "setup failed; no tests were run"
# A realistic Debian image for the image tests (about a minute the first time; a no-op afterwards).
"$SCRIPTS_DIR/build-debian-image.sh" "$BUILD_DIR/images/debian-bookworm.oci.tar" ||
  die "building the Debian test image failed; no tests were run"
# The control API's conformance client (npm packages from its lockfile; a no-op afterwards).
"$SCRIPTS_DIR/build-conformance-client.sh" ||
  die "installing the conformance client failed; no tests were run"
toolchain_image || die "building the Debian toolchain test image failed; no tests were run"

SLN=
for s in Cleanroom.sln Cleanroom.slnx; do
  [ -f "$REPO_ROOT/$s" ] && SLN="$REPO_ROOT/$s" && break
done
[ -n "$SLN" ] || die "no Cleanroom.sln (or .slnx) at $REPO_ROOT"
need_cmd dotnet python3

log "dotnet test $(basename "$SLN") -c Release $*"
(
  cd "$REPO_ROOT"
  rc=0
  # A test that runs 10 minutes is hung (the longest take a few): its host is killed and the test named in the
  # results, instead of the run waiting out CI's limit (a gateway test host did once, after its tests had passed).
  # SIGINT and SIGQUIT back to their defaults: a runner that starts this script in the background of a
  # non-interactive shell ignores them, the tests' processes inherit that, and the tests that stop the CLI or the
  # daemon with SIGINT would then wait in vain (.NET leaves a signal ignored at start ignored).
  env --default-signal=INT,QUIT dotnet test "$SLN" -c Release --logger "trx;LogFilePrefix=cleanroom" \
    --blame-hang-timeout 10min --blame-hang-dump-type none \
    --results-directory "$RESULTS" "$@" </dev/null 2>&1 || rc=$?
  echo "$rc" >"$RESULTS/.rc"
) | tee "$RESULTS/dotnet-test.log"
TEST_RC=$(cat "$RESULTS/.rc")

PARSE_RC=0
python3 - "$RESULTS" "$COUNTS" <<'PY' || PARSE_RC=$?
import glob, os, re, sys
import xml.etree.ElementTree as ET

results_dir, counts_file = sys.argv[1], sys.argv[2]
NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
FAILED_OUTCOMES = {"Failed", "Error", "Timeout", "Aborted"}
SKIPPED_OUTCOMES = {"NotExecuted", "Inconclusive", "NotRunnable", "Pending", "Disconnected"}

projects = {}  # (assembly, tfm or "") -> dict
failures = []
problems = []

def bucket(key):
    return projects.setdefault(key, {"passed": 0, "failed": 0, "skipped": 0, "secs": 0.0, "source": "trx"})

def parse_duration(s):
    try:
        h, m, sec = s.split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except Exception:
        return 0.0

for path in sorted(glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True)):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        problems.append(f"cannot parse {os.path.basename(path)}: {e}")
        continue
    code_base = {}
    for ut in root.iterfind("t:TestDefinitions/t:UnitTest", NS):
        tm = ut.find("t:TestMethod", NS)
        cb = (tm.get("codeBase") if tm is not None else None) or ut.get("storage") or ""
        code_base[ut.get("id")] = os.path.basename(cb)
    m = re.match(r".*_(net[^_]*)_\d{14}(?:_\d+)?\.trx$", os.path.basename(path))
    tfm = m.group(1) if m else ""
    for r in root.iterfind("t:Results/t:UnitTestResult", NS):
        asm = code_base.get(r.get("testId"), "") or os.path.basename(path)
        asm = re.sub(r"\.(dll|exe)$", "", asm, flags=re.I)
        b = bucket((asm, tfm))
        outcome = r.get("outcome", "")
        b["secs"] += parse_duration(r.get("duration", "0:0:0"))
        if outcome == "Passed":
            b["passed"] += 1
        elif outcome in SKIPPED_OUTCOMES:
            b["skipped"] += 1
        else:
            b["failed"] += 1
            msg = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=NS).strip()
            first = msg.splitlines()[0] if msg else f"outcome {outcome}"
            # Long enough for a failed launch's console tail (600 characters, escaped): the CI summary may be all
            # that is left of a run.
            failures.append(f"{asm}: {r.get('testName')}: {first[:1500]}")
    summary = root.find("t:ResultSummary", NS)
    if summary is not None and summary.get("outcome") in ("Error", "Aborted"):
        problems.append(f"{os.path.basename(path)}: test run outcome {summary.get('outcome')}")
    # A test host that crashed or hung (VSTest then writes "The active test run was aborted" as a run message) leaves
    # the tests it had not finished without a result: count that as one failure, so the final line cannot read
    # "0 failed" while tests never ran.
    aborted = [ri.findtext("t:Text", default="", namespaces=NS) for ri in root.iterfind("t:ResultSummary/t:RunInfos/t:RunInfo", NS)
               if "test run was aborted" in ri.findtext("t:Text", default="", namespaces=NS)]
    if aborted:
        names = sorted(set(code_base.values()))
        asm = re.sub(r"\.(dll|exe)$", "", names[0], flags=re.I) if names else os.path.basename(path)
        bucket((asm, tfm))["failed"] += 1
        failures.append(f"{asm}: {aborted[0].strip()[:200]} (the tests it was running have no result; see dotnet-test.log)")

# Cross-check with the console summaries: VSTest names prefixed TRX files by the second, so two
# projects finishing in the same second overwrite each other's file. Fill such gaps from the
# console line ("Passed!  - Failed: 0, Passed: 2, Skipped: 1, Total: 3, Duration: 1 s - X.dll (net10.0)").
log_path = os.path.join(results_dir, "dotnet-test.log")
console_re = re.compile(r"^\s*(?:Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+),"
                        r"\s+Total:\s+(\d+).*?-\s+(\S+?)\.(?:dll|exe)\s+\(([^)]+)\)")
if os.path.exists(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = console_re.match(line)
            if not m:
                continue
            failed, passed, skipped = int(m.group(1)), int(m.group(2)), int(m.group(3))
            asm, tfm = m.group(5), m.group(6)
            if any(a == asm for (a, _t) in projects):
                continue
            b = bucket((asm, tfm))
            b.update(passed=passed, failed=failed, skipped=skipped, source="console")
            problems.append(f"{asm}: no .trx found (overwritten?); counts taken from the console summary")
            if failed:
                failures.append(f"{asm}: {failed} failed test(s); see dotnet-test.log")

out = sys.stdout
if projects:
    out.write("\nTest results by project:\n")
    width = max(len(a) for (a, _t) in projects)
    for (asm, tfm) in sorted(projects):
        b = projects[(asm, tfm)]
        status = "FAIL" if b["failed"] else "ok  "
        extra = f", {b['skipped']} skipped" if b["skipped"] else ""
        secs = f" ({b['secs']:.1f} s in tests)" if b["source"] == "trx" else " (from console)"
        out.write(f"  {status} {asm:<{width}} {tfm:<9} {b['passed']} passed, {b['failed']} failed{extra}{secs}\n")
if failures:
    out.write("\nFailed tests:\n")
    for f_ in failures:
        out.write(f"  {f_}\n")
for p in problems:
    sys.stderr.write(f"test.sh: WARNING: {p}\n")

tp = sum(b["passed"] for b in projects.values())
tf = sum(b["failed"] for b in projects.values())
ts = sum(b["skipped"] for b in projects.values())
with open(counts_file, "w") as f:
    f.write(f"{tp} {tf} {ts}\n")
sys.exit(0)
PY
[ "$PARSE_RC" -eq 0 ] || die "could not parse the test results in $RESULTS"
read -r PASSED FAILED SKIPPED <"$COUNTS"

RC=0
if [ "$TEST_RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
  log "ERROR: dotnet test exited with $TEST_RC but no test failed: a build error or an aborted test run (see $RESULTS/dotnet-test.log)"
  RC=1
fi
if [ "$FAILED" -gt 0 ]; then
  log "$FAILED test(s) failed"
  RC=1
fi
if [ $((PASSED + FAILED)) -eq 0 ]; then
  log "ERROR: no tests ran"
  RC=1
fi
log "test run finished in $(elapsed_since "$T0")s (results: $RESULTS)"
exit "$RC"
