#!/usr/bin/env bash
# Builds the built-in offline default guest image: busybox-static plus a minimal FHS skeleton,
# as a sparse 512 MiB ext4 file system (label cleanroom-root).
#
# Usage: scripts/build-base-image.sh OUT.ext4
#
# Outputs:
#   OUT.ext4   the image (sparse; never boot it read-write: use a qcow2 overlay or snapshot=on)
#   OUT.json   {"sha256","size","label","busybox"}
#
# Image layout: /bin/busybox + a symlink per applet in /bin; /sbin -> bin, /usr/bin -> ../bin,
# /usr/sbin -> ../bin; /etc/{passwd,group,hostname,hosts,os-release}; empty /proc /sys /dev /run
# /root(0700) /workspace /mnt /tmp(1777) /var/tmp(1777).
#
# Environment: SOURCE_DATE_EPOCH (default 0) is used for every timestamp; with the fixed UUID and
# hash seed below the image is byte-for-byte reproducible for a given busybox and e2fsprogs.
#
# The image is written to a temp file next to OUT and renamed at the end, so a failure never
# leaves a half-written OUT. Re-runs are no-ops while inputs are unchanged (stamp OUT.stamp).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SIZE=512M
LABEL=cleanroom-root
UUID=6c65616e-726f-4f6d-8000-626173650001 # fixed: reproducible images
HASH_SEED=6c65616e-726f-4f6d-8000-626173650002
BUSYBOX=${BUSYBOX:-/bin/busybox}

[ "$#" -eq 1 ] || die "usage: $0 OUT.ext4"
OUT=$(abspath "$1")
OUTDIR=$(dirname "$OUT")
mkdir -p "$OUTDIR"
JSON="${OUT%.ext4}.json"
[ "$JSON" != "$OUT" ] || JSON="$OUT.json"
STAMP="$OUT.stamp"
EPOCH=${SOURCE_DATE_EPOCH:-0}

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (install busybox-static: scripts/install-host-deps.sh)"
need_cmd mkfs.ext4 debugfs sha256sum file truncate
MKFS_VERSION=$(mkfs.ext4 -V 2>&1 | sed -n 1p)
INPUTS=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "$BUSYBOX" "$MKFS_VERSION" "epoch=$EPOCH")
if stamp_ok "$STAMP" "$INPUTS" "$OUT" "$JSON"; then
  log "base image up to date ($OUT)"
  exit 0
fi

T0=$EPOCHREALTIME
case "$(file -b -L "$BUSYBOX")" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) die "$BUSYBOX is not statically linked (the image has no libc): install busybox-static" ;;
esac

STAGE=$(mktemp -d "$OUTDIR/.base.XXXXXX")
TMP_IMG="$STAGE/image.ext4"
trap 'rm -rf "$STAGE"' EXIT
R="$STAGE/root"

mkdir -p "$R"/{bin,etc,proc,sys,dev,run,tmp,root,workspace,mnt,var/tmp,usr}
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 0700 "$R/root"
ln -s bin "$R/sbin"
ln -s ../bin "$R/usr/bin"
ln -s ../bin "$R/usr/sbin"

install -m 0755 "$BUSYBOX" "$R/bin/busybox"
mapfile -t applets < <("$BUSYBOX" --list | grep -vx -e busybox -e '')
[ "${#applets[@]}" -gt 0 ] || die "'$BUSYBOX --list' printed no applets"
napplets=${#applets[@]}
# One perl process instead of ~270 ln forks (perl-base is Essential on Debian).
perl -e 'my $d = shift; for (@ARGV) { symlink("busybox", "$d/$_") or die "symlink $_: $!\n" }' \
  "$R/bin" "${applets[@]}"
[ -e "$R/bin/sh" ] || die "busybox has no 'sh' applet"

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo cleanroom >"$R/etc/hostname"
cat >"$R/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
EOF
BB_VERSION=$({ "$BUSYBOX" --help 2>&1 || true; } | sed -n -E '1s/^BusyBox v([^ ]+).*/\1/p')
cat >"$R/etc/os-release" <<EOF
NAME="Cleanroom BusyBox"
ID=cleanroom-busybox
PRETTY_NAME="Cleanroom BusyBox base image (busybox ${BB_VERSION:-unknown})"
VERSION_ID=1
EOF
chmod 0644 "$R"/etc/*

# Fixed timestamps everywhere; E2FSPROGS_FAKE_TIME pins the superblock/inode times mkfs writes
# (e2fsprogs 1.47.0 predates SOURCE_DATE_EPOCH support).
find "$R" -exec touch -h -d "@$EPOCH" {} +
# A 0 value means "use the real clock" to e2fsprogs, so use 1 s past the epoch instead.
FAKE_TIME=$EPOCH
[ "$FAKE_TIME" -gt 0 ] || FAKE_TIME=1
truncate -s "$SIZE" "$TMP_IMG" # sparse; also keeps mkfs from announcing "Creating regular file"
E2FSPROGS_FAKE_TIME=$FAKE_TIME mkfs.ext4 -q -F -L "$LABEL" -U "$UUID" -E "hash_seed=$HASH_SEED" \
  -d "$R" "$TMP_IMG" "$SIZE" >&2 || die "mkfs.ext4 failed"
# mkfs copies each inode's ctime from the staging tree (ctime cannot be set with touch): pin it.
(
  cd "$R"
  find . -mindepth 1 -printf 'set_inode_field /%P ctime @'"$EPOCH"'\n'
  echo "set_inode_field / ctime @$EPOCH"
) >"$STAGE/debugfs.cmds"
E2FSPROGS_FAKE_TIME=$FAKE_TIME debugfs -w -f "$STAGE/debugfs.cmds" "$TMP_IMG" >"$STAGE/debugfs.log" 2>&1 ||
  die "debugfs failed: $(tail -n 5 "$STAGE/debugfs.log")"

SHA=$(sha256_file "$TMP_IMG")
BYTES=$(stat -c %s "$TMP_IMG")
printf '{\n  "sha256": "%s",\n  "size": %s,\n  "label": "%s",\n  "busybox": "%s"\n}\n' \
  "$SHA" "$BYTES" "$LABEL" "${BB_VERSION:-unknown}" >"$STAGE/image.json"
mv -f "$TMP_IMG" "$OUT"
mv -f "$STAGE/image.json" "$JSON"
stamp_write "$STAMP" "$INPUTS"
log "base image ready: $OUT ($napplets applets, $((BYTES / 1048576)) MiB sparse, $(du -k "$OUT" | cut -f1) KiB used) in $(elapsed_since "$T0")s"
