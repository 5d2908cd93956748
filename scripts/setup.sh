#!/usr/bin/env bash
# One-stop host setup: installs host packages, fetches the kernel, builds the guest agent, the
# initramfs and the base image, assembles .build/assets/, and publishes the `cleanroom` CLI.
# Every step is skipped when its inputs are unchanged, so a warm run takes a fraction of a second.
#
# Usage: scripts/setup.sh [--no-cli]
#   --no-cli    do not publish the CLI (src/Cleanroom.Cli) to .build/bin
#
# Environment:
#   CLEANROOM_AGENT=/path/agent    use this prebuilt static agent instead of building
#                                  src/Cleanroom.GuestAgent (stand-ins, debugging)
#   CLEANROOM_KERNEL, CLEANROOM_KERNEL_MODULES   see scripts/fetch-kernel.sh
#
# Outputs (all under .build/, which is gitignored):
#   kernel/            scripts/fetch-kernel.sh output (vmlinux, modules/, kernel.json)
#   guest/             published guest agent
#   initramfs/initramfs.cpio.gz
#   image/base.ext4, image/base.json
#   assets/            vmlinux, initramfs.cpio.gz, base.ext4 (hard links, or a symlink for a
#                      configured kernel) and assets.json:
#                      {"schema":1,"files":{"<name>":{"sha256","size"}...},"agent_sha256","kernel":{kernel.json}}
#   bin/               `dotnet publish` of src/Cleanroom.Cli (the `cleanroom` executable), the daemon
#                      (`cleanroom-daemon`) and the QEMU launcher (`cleanroom-jail`)
#   logs/              build logs
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BUILD_CLI=1
for arg in "$@"; do
  case "$arg" in
    --no-cli) BUILD_CLI=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$arg' (usage: $0 [--no-cli])" ;;
  esac
done

T_ALL=$EPOCHREALTIME
mkdir -p "$BUILD_DIR"
# Serialize concurrent setups (two `./cleanroom` invocations, a test run...).
exec 9>"$BUILD_DIR/setup.lock"
if ! flock -n 9; then
  log "another setup is running; waiting for it"
  flock 9
fi

# Children must not inherit the lock (fd 9): a long-lived helper such as the Roslyn compiler
# server (VBCSCompiler, idles ~10 min) would otherwise keep every later setup waiting.
step() { # step NAME CMD... ; runs CMD and reports how long it took
  local name=$1 t=$EPOCHREALTIME
  shift
  "$@" 9>&- || die "step '$name' failed"
  log "[$name] $(elapsed_since "$t")s"
}

step host-deps "$SCRIPTS_DIR/install-host-deps.sh"
step kernel "$SCRIPTS_DIR/fetch-kernel.sh" "$BUILD_DIR/kernel"

if [ -n "${CLEANROOM_AGENT:-}" ]; then
  AGENT=$(realpath -e "$CLEANROOM_AGENT" 2>/dev/null) || die "CLEANROOM_AGENT=$CLEANROOM_AGENT does not exist"
  log "[guest-agent] using prebuilt CLEANROOM_AGENT=$AGENT"
else
  t=$EPOCHREALTIME
  AGENT=$("$SCRIPTS_DIR/build-guest-agent.sh" "$BUILD_DIR/guest" 9>&-) || die "step 'guest-agent' failed"
  log "[guest-agent] $(elapsed_since "$t")s"
fi

step initramfs "$SCRIPTS_DIR/build-initramfs.sh" "$AGENT" "$BUILD_DIR/kernel" "$BUILD_DIR/initramfs/initramfs.cpio.gz"
step base-image "$SCRIPTS_DIR/build-base-image.sh" "$BUILD_DIR/image/base.ext4"

# ---------------------------------------------------------------------------------------------
# Assemble .build/assets (regenerated when any piece changed; pieces are linked, not copied).
assemble_assets() {
  local A="$BUILD_DIR/assets" K="$BUILD_DIR/kernel" IR="$BUILD_DIR/initramfs/initramfs.cpio.gz"
  local IMG="$BUILD_DIR/image/base.ext4" IMGJSON="$BUILD_DIR/image/base.json"
  local inputs
  inputs=$(hash_inputs "$0" "$K/.stamp" "$K/kernel.json" "$IR.stamp" "$IMG.stamp" "$IMGJSON" "agent=$AGENT")
  if stamp_ok "$A/.stamp" "$inputs" "$A/vmlinux" "$A/initramfs.cpio.gz" "$A/base.ext4" "$A/assets.json"; then
    log "assets up to date ($A)"
    return 0
  fi
  mkdir -p "$A"
  rm -f "$A/.stamp"
  link_into() { # link_into SRC DEST: hard link (same file system), else copy; symlinks stay symlinks
    if [ -L "$1" ]; then
      ln -sfn "$(readlink -f "$1")" "$2"
    else
      ln -f "$1" "$2" 2>/dev/null || cp -f --sparse=always "$1" "$2"
    fi
  }
  link_into "$K/vmlinux" "$A/vmlinux"
  link_into "$IR" "$A/initramfs.cpio.gz"
  link_into "$IMG" "$A/base.ext4"

  local vm_sha ir_sha img_sha agent_sha
  vm_sha=$(json_get "$K/kernel.json" vmlinux_sha256)
  ir_sha=$(sha256_file "$IR")
  img_sha=$(json_get "$IMGJSON" sha256)
  agent_sha=$(sha256_file "$AGENT")
  {
    printf '{\n  "schema": 1,\n  "files": {\n'
    printf '    "vmlinux": {"sha256": "%s", "size": %s},\n' "$vm_sha" "$(stat -L -c %s "$A/vmlinux")"
    printf '    "initramfs.cpio.gz": {"sha256": "%s", "size": %s},\n' "$ir_sha" "$(stat -c %s "$IR")"
    printf '    "base.ext4": {"sha256": "%s", "size": %s}\n' "$img_sha" "$(stat -c %s "$IMG")"
    printf '  },\n  "agent_sha256": "%s",\n  "kernel": ' "$agent_sha"
    sed -e '1!s/^/  /' "$K/kernel.json" | sed -e '$s/$/\n}/'
  } >"$A/assets.json.tmp"
  mv -f "$A/assets.json.tmp" "$A/assets.json"
  stamp_write "$A/.stamp" "$inputs"
  log "assets assembled in $A"
}
step assets assemble_assets

# ---------------------------------------------------------------------------------------------
# The CLI (a NativeAOT executable, linker pinned to gcc like the guest agent) and beside it the
# daemon (`cleanroom-daemon`, framework-dependent, ReadyToRun), which `cleanroom serve` runs, and the
# QEMU launcher (`cleanroom-jail`, NativeAOT), which the daemon starts every VM through.
# Published to a fresh directory and swapped in, so a running daemon keeps its (now unlinked)
# files instead of having them rewritten under it.
publish_cli() {
  local proj="$REPO_ROOT/src/Cleanroom.Cli/Cleanroom.Cli.csproj" out="$BUILD_DIR/bin" inputs
  local daemon="$REPO_ROOT/src/Cleanroom.Daemon/Cleanroom.Daemon.csproj"
  local jail="$REPO_ROOT/src/Cleanroom.Jail/Cleanroom.Jail.csproj"
  [ -f "$proj" ] || die "CLI project not found: $proj (use --no-cli to skip it)"
  mapfile -t paths < <(dotnet_project_inputs "$proj"; dotnet_project_inputs "$daemon"; dotnet_project_inputs "$jail")
  inputs=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "${paths[@]}" "sdk=$(dotnet_sdk_version)")
  if stamp_ok "$out/.stamp" "$inputs" "$out/cleanroom" && [ -x "$out/cleanroom-daemon" ] && [ -x "$out/cleanroom-jail" ]; then
    log "CLI up to date ($out/cleanroom)"
    return 0
  fi
  local logf="$BUILD_DIR/logs/cli-publish.log"
  log "dotnet publish src/Cleanroom.Cli (log: $logf)"
  rm -rf "$out.new"
  run_logged "$BUILD_DIR/logs/daemon-publish.log" dotnet publish "$daemon" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$out.new" || die "daemon publish failed (full log: $BUILD_DIR/logs/daemon-publish.log)"
  run_logged "$logf" dotnet publish "$proj" -c Release -r linux-x64 -p:CppCompilerAndLinker=gcc -o "$out.new" ||
    die "CLI publish failed (full log: $logf)"
  # The launcher every QEMU starts through (builds its jail, then execs QEMU), found beside the daemon.
  run_logged "$BUILD_DIR/logs/jail-publish.log" dotnet publish "$jail" -c Release -r linux-x64 -p:CppCompilerAndLinker=gcc -o "$out.new" ||
    die "launcher publish failed (full log: $BUILD_DIR/logs/jail-publish.log)"
  [ -x "$out.new/cleanroom-jail" ] || die "publish produced no '$out.new/cleanroom-jail' launcher"
  rm -f "$out.new"/*.dbg
  [ -x "$out.new/cleanroom" ] ||
    die "publish produced no '$out.new/cleanroom' executable: Cleanroom.Cli.csproj must set <AssemblyName>cleanroom</AssemblyName>"
  rm -rf "$out.old"
  [ ! -e "$out" ] || mv "$out" "$out.old"
  mv "$out.new" "$out"
  rm -rf "$out.old"
  stamp_write "$out/.stamp" "$inputs"
  log "CLI ready: $out/cleanroom"
}
if [ "$BUILD_CLI" = 1 ]; then
  step cli publish_cli
fi

log "setup complete in $(elapsed_since "$T_ALL")s (assets: $BUILD_DIR/assets)"
