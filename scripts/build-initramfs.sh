#!/usr/bin/env bash
# Builds the guest initramfs: a newc cpio (gzip -1) whose /init IS the static guest agent.
# There is no shell and no busybox inside; the agent loads the modules itself.
#
# Usage: scripts/build-initramfs.sh AGENT_BINARY KERNEL_DIR OUT.cpio.gz
#   AGENT_BINARY  statically linked guest agent (becomes /init)
#   KERNEL_DIR    output of scripts/fetch-kernel.sh (kernel.json, modules/lib/modules/<kver>/)
#
# Archive contents:
#   /init                          the agent (0755)
#   /lib/modules/<name>.ko         the modules below plus every dependency (builtins skipped);
#                                  <name> is the module's file name without .ko (e.g. virtio-rng)
#   /etc/modules                   those names, one per line, in load order (dependencies first)
#   /dev/console                   char device 5,1 (the kernel opens it for /init's stdio)
#   /dev /proc /sys /run /tmp /mnt /newroot /etc   empty directories (/tmp is 1777)
#
# Environment:
#   CLEANROOM_INITRAMFS_MODULES   modules to include (default below; space separated)
#   SOURCE_DATE_EPOCH             mtime of every entry (default 0) -> reproducible archive
#
# Output is deterministic: sorted entries, fixed mtimes/owners, device-independent inode numbers,
# gzip without name/time. Re-runs are no-ops while inputs are unchanged (stamp OUT.stamp).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Both backends put every device on virtio-mmio (QEMU's microvm has no PCI bus, nor has Firecracker): no virtio_pci,
# whose three modules cost about 10 ms of every cold boot under TCG for a bus that is never there.
DEFAULT_MODULES="virtio_mmio virtio_blk virtio_console virtio_net virtio_rng overlay"

[ "$#" -eq 3 ] || die "usage: $0 AGENT_BINARY KERNEL_DIR OUT.cpio.gz"
AGENT=$(abspath "$1")
KDIR=$(abspath "$2")
OUT=$(abspath "$3")
MODULES=${CLEANROOM_INITRAMFS_MODULES:-$DEFAULT_MODULES}
EPOCH=${SOURCE_DATE_EPOCH:-0}

[ -f "$AGENT" ] || die "agent binary $AGENT does not exist (build it with scripts/build-guest-agent.sh)"
[ -f "$KDIR/kernel.json" ] || die "$KDIR/kernel.json missing (run scripts/fetch-kernel.sh $KDIR)"
KVER=$(json_get "$KDIR/kernel.json" kver)
[ -n "$KVER" ] || die "no kver in $KDIR/kernel.json"
mkdir -p "$(dirname "$OUT")"
STAMP="$OUT.stamp"

MODROOT="$KDIR/modules"
MODDEP="$MODROOT/lib/modules/$KVER/modules.dep"
INPUTS=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "$AGENT" "$KDIR/kernel.json" \
  "$([ -f "$MODDEP" ] && sha256_file "$MODDEP" || echo no-modules)" "modules=$MODULES" "epoch=$EPOCH")
if stamp_ok "$STAMP" "$INPUTS" "$OUT"; then
  log "initramfs up to date ($OUT)"
  exit 0
fi

need_cmd cpio gzip file find sort
[ "$(id -u)" -eq 0 ] || die "needs root to create the /dev/console device node (mknod)"
T0=$EPOCHREALTIME

desc=$(file -b "$AGENT")
case "$desc" in
  *ELF*"statically linked"* | *ELF*"static-pie linked"*) ;;
  *) die "$AGENT must be a statically linked ELF executable (it runs as /init with no libc in the initramfs); file says: $desc" ;;
esac

STAGE=$(mktemp -d "$(dirname "$OUT")/.initramfs.XXXXXX")
trap 'rm -rf "$STAGE" "$OUT.tmp.$$"' EXIT
R="$STAGE/root"
mkdir -p "$R"/{dev,proc,sys,run,tmp,mnt,newroot,etc,lib/modules}
chmod 1777 "$R/tmp"
mknod -m 600 "$R/dev/console" c 5 1
install -m 0755 "$AGENT" "$R/init"

# Resolve modules (dependencies first) and copy them flat into /lib/modules.
: >"$R/etc/modules"
if [ -f "$MODDEP" ]; then
  need_cmd modprobe
  declare -A have=()
  count=0
  for m in $MODULES; do
    deps=$(modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" 2>&1) ||
      die "module '$m' not found for kernel $KVER: $deps"
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue # "builtin <name>" lines: nothing to load
      base=$(basename "$path")
      case "$base" in
        *.ko) name=${base%.ko} dec=cat ;;
        *.ko.xz) name=${base%.ko.xz} dec="xz -dc" ;;
        *.ko.zst) name=${base%.ko.zst} dec="zstd -dcq" ;;
        *.ko.gz) name=${base%.ko.gz} dec="gzip -dc" ;;
        *) die "unexpected module file $path" ;;
      esac
      [ -n "${have[$name]:-}" ] && continue
      have[$name]=1
      $dec <"$path" >"$R/lib/modules/$name.ko" # the guest gets plain .ko files
      chmod 0644 "$R/lib/modules/$name.ko"
      printf '%s\n' "$name" >>"$R/etc/modules"
      count=$((count + 1))
    done <<<"$deps"
  done
  log "modules ($count, load order): $(tr '\n' ' ' <"$R/etc/modules")"
else
  warn "no modules for $KVER in $MODROOT: /etc/modules is empty (kernel must have virtio built in)"
fi

# Fixed metadata, sorted names, device-independent inode numbers -> byte-identical output.
find "$R" -exec touch -h -d "@$EPOCH" {} +
TMP_OUT="$OUT.tmp.$$"
(
  cd "$R"
  find . -mindepth 1 -printf '%P\n' | sort | cpio -o -H newc -R 0:0 --reproducible --quiet
) | gzip -n -1 >"$TMP_OUT"
mv -f "$TMP_OUT" "$OUT"
stamp_write "$STAMP" "$INPUTS"
log "initramfs ready: $OUT ($(stat -c %s "$OUT") bytes) in $(elapsed_since "$T0")s"
