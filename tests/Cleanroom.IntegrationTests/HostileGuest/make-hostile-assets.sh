#!/usr/bin/env bash
# make-hostile-assets.sh ASSETS OUTDIR
# Boot assets whose "agent" is hostile: it answers the host's hello correctly (so the boot gets as far as the
# daemon's warm-up command), then floods the channel with random bytes. The kernel and base image are the real ones;
# only /init differs.
set -euo pipefail
ASSETS=$(readlink -f "$1"); OUT=$2
mkdir -p "$OUT"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
(cd "$stage" && zcat "$ASSETS/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$stage/bin"
cp /bin/busybox "$stage/bin/busybox"
rm -f "$stage/init"
cat > "$stage/init" <<'INIT'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
for m in $($B cat /etc/modules); do $B insmod /lib/modules/$m.ko 2>/dev/null; done
P=
while [ -z "$P" ]; do
  for d in /sys/class/virtio-ports/*; do [ "$($B cat $d/name 2>/dev/null)" = cleanroom.agent ] && P=/dev/$($B basename $d); done
  $B usleep 10000
done
exec 3<>$P
# The host's hello: a 9-byte header (payload length in byte 3), then the payload with the nonce at offset 6.
$B dd bs=1 count=9 <&3 >/tmp/h 2>/dev/null
L=$($B od -An -tu1 -j3 -N1 /tmp/h | $B tr -d ' ')
$B dd bs=1 count=$L <&3 >/tmp/p 2>/dev/null
N=$($B od -An -tx1 -j6 -N8 /tmp/p | $B tr -d ' \n' | $B sed 's/../\\x&/g')
# Our hello: length 33, type 1, stream 0; magic CLRM, version 2 (HelloMessage.CurrentVersion), the nonce, frame 65536, window 262144, "hostile".
$B printf "\x00\x00\x00\x21\x01\x00\x00\x00\x00\x43\x4c\x52\x4d\x00\x02${N}\x00\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x07hostile" >&3
$B sleep 2
$B cat /dev/urandom >&3
INIT
chmod 755 "$stage/init"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 > "$OUT/initramfs.cpio.gz"
# Hard links (copies across filesystems): the loader checks sizes, which a symlink would not have.
for f in vmlinux base.ext4; do ln -f "$ASSETS/$f" "$OUT/$f" 2>/dev/null || cp --sparse=always "$ASSETS/$f" "$OUT/$f"; done
# The manifest lists only the kernel, so the loader does not reject the replaced initramfs.
python3 - "$ASSETS/assets.json" "$OUT/assets.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["files"] = {"vmlinux": m["files"]["vmlinux"]}
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
# VMs run as unprivileged uids and read their boot files through the "other" bit, whatever umask the caller has.
chmod 0644 "$OUT/initramfs.cpio.gz" "$OUT/vmlinux" "$OUT/base.ext4" "$OUT/assets.json"
