#!/usr/bin/env bash
# Builds the guest agent as a static, non-PIE NativeAOT executable (it runs as /init inside the
# initramfs, where there is no libc and no loader; non-PIE avoids relocation processing, which is
# very slow under TCG). The linker is pinned to gcc (+ ld.bfd) so the result does not depend on
# whether clang happens to be installed.
#
# Usage: scripts/build-guest-agent.sh [OUTDIR]        (default OUTDIR: .build/guest)
#
# Output: the `dotnet publish` directory OUTDIR (the agent binary plus its .dbg symbols).
#         The absolute path of the agent binary is printed on stdout (the only stdout output).
#
# The build properties are passed as global properties (-p:), so the project and everything it
# references see them during evaluation, e.g. a csproj may test '$(StaticExecutable)' == 'true'.
# Re-runs are no-ops while the project, its ProjectReferences, the Directory.*.props/targets,
# global.json/NuGet.config, the SDK version and this script are unchanged (stamp OUTDIR/.stamp).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PROJECT_DIR="$REPO_ROOT/src/Cleanroom.GuestAgent"
PROJECT="$PROJECT_DIR/Cleanroom.GuestAgent.csproj"
PUBLISH_PROPS=(
  -p:PublishAot=true
  -p:StaticExecutable=true
  -p:PositionIndependentExecutable=false
  -p:CppCompilerAndLinker=gcc
  -p:InvariantGlobalization=true
)

OUTDIR=$(abspath "${1:-$BUILD_DIR/guest}")
STAMP="$OUTDIR/.stamp"

[ -f "$PROJECT" ] || die "guest agent project not found: $PROJECT"
need_cmd dotnet

# The agent binary inside a publish dir: the project's AssemblyName if it sets one, else the
# project name; as a last resort the only ELF executable that is not a .dbg file.
find_binary() {
  local dir=$1 name cands=()
  name=$(sed -n -E 's:.*<AssemblyName>[[:space:]]*([^<[:space:]]+)[[:space:]]*</AssemblyName>.*:\1:p' "$PROJECT" | sed -n 1p)
  [ -n "$name" ] && [[ "$name" != *'$('* ]] || name=Cleanroom.GuestAgent
  if [ -f "$dir/$name" ]; then
    printf '%s\n' "$dir/$name"
    return 0
  fi
  local f
  for f in "$dir"/*; do
    [ -f "$f" ] && [ -x "$f" ] && [[ "$f" != *.dbg ]] || continue
    [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && cands+=("$f")
  done
  [ "${#cands[@]}" -eq 1 ] || return 1
  printf '%s\n' "${cands[0]}"
}

mapfile -t INPUT_PATHS < <(dotnet_project_inputs "$PROJECT")
INPUTS=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "${INPUT_PATHS[@]}" \
  "sdk=$(dotnet_sdk_version)" "${PUBLISH_PROPS[*]}")
if stamp_ok "$STAMP" "$INPUTS" && BIN=$(find_binary "$OUTDIR"); then
  log "guest agent up to date ($BIN)"
  printf '%s\n' "$BIN"
  exit 0
fi

need_cmd gcc file
T0=$EPOCHREALTIME
LOGF="$BUILD_DIR/logs/guest-agent-publish.log"
NEW="$OUTDIR.new"
rm -rf "$NEW"
log "dotnet publish $(realpath --relative-to="$REPO_ROOT" "$PROJECT") (NativeAOT, static, non-PIE; log: $LOGF)"
run_logged "$LOGF" dotnet publish "$PROJECT" -c Release -r linux-x64 "${PUBLISH_PROPS[@]}" -o "$NEW" ||
  die "guest agent publish failed (full log: $LOGF)"

BIN=$(find_binary "$NEW") || die "cannot identify the agent executable in $NEW: $(ls "$NEW" | tr '\n' ' ')"
desc=$(file -b "$BIN")
case "$desc" in
  *"statically linked"*) ;;
  *) die "$BIN is not statically linked (file: $desc); check that the project does not override StaticExecutable" ;;
esac
case "$desc" in
  *"pie executable"* | *"static-pie"*) warn "$BIN is position independent (slow to start under TCG)" ;;
esac

rm -rf "$OUTDIR"
mv "$NEW" "$OUTDIR"
BIN="$OUTDIR/$(basename "$BIN")"
stamp_write "$STAMP" "$INPUTS"
log "guest agent ready: $BIN ($(stat -c %s "$BIN") bytes, static non-PIE) in $(elapsed_since "$T0")s"
printf '%s\n' "$BIN"
