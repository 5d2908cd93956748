#!/usr/bin/env bash
# Fetches the guest kernel: Debian's cloud kernel, pinned, downloaded with `apt-get download`
# (no internet needed beyond the Debian mirror), unpacked without installing it.
#
# Usage: scripts/fetch-kernel.sh [OUTDIR]            (default OUTDIR: .build/kernel)
#
# Outputs:
#   OUTDIR/vmlinux       uncompressed ELF kernel with the PVH note (QEMU boots it with -kernel)
#   OUTDIR/modules/      a module *root*: OUTDIR/modules/lib/modules/<kver>/{kernel/,modules.dep,...}
#                        i.e. use it as `modprobe -d OUTDIR/modules -S <kver>` / `depmod -b`.
#   OUTDIR/kernel.json   {"package","version","kver","deb_sha256","vmlinux_sha256","hz"}
#                        hz: the kernel's CONFIG_HZ from the package's boot/config (the daemon derives the
#                        guest's loops-per-jiffy from it and the TSC rate); null when unknown.
#   OUTDIR/debs/         the downloaded .deb (kept so a re-run never downloads again)
#
# Environment:
#   CLEANROOM_KERNEL=/path/vmlinux   use this kernel instead: nothing is copied; OUTDIR/vmlinux
#                                    becomes a symlink to it and kernel.json records it
#                                    (package/version/deb_sha256/hz are null, "vmlinux" holds the path).
#   CLEANROOM_KERNEL_MODULES=DIR     modules for that kernel: a module root (DIR/lib/modules/<kver>)
#                                    or the <kver> directory itself. Without it the kernel must
#                                    have the virtio drivers built in.
#
# Re-runs are no-ops (stamp OUTDIR/.stamp = hash of this script + pin + configuration).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PIN_PACKAGE=linux-image-6.1.0-56-cloud-amd64
PIN_VERSION=6.1.192-2
PIN_SHA256=e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee
META_PACKAGE=linux-image-cloud-amd64 # fallback: whatever this depends on

OUTDIR=$(abspath "${1:-$BUILD_DIR/kernel}")
mkdir -p "$OUTDIR"
STAMP="$OUTDIR/.stamp"

# ---------------------------------------------------------------------------------------------
# Helpers

# extract_vmlinux BZIMAGE OUT: find a compressed payload by its magic, decompress it, and keep
# the first candidate that is a complete x86-64 ELF.
extract_vmlinux() {
  local in=$1 out=$2 magic tool pos
  local -a formats=(
    '\x02\x21\x4C\x18|lz4 -dc'                # LZ4 legacy frame (Debian cloud kernel)
    '\xFD\x37\x7A\x58\x5A\x00|xz -dc'         # XZ (Debian generic kernel)
    '\x28\xB5\x2F\xFD|zstd -dc'               # zstd
    '\x1F\x8B\x08|gzip -dc'                   # gzip
  )
  for f in "${formats[@]}"; do
    magic=${f%%|*}
    tool=${f#*|}
    command -v "${tool%% *}" >/dev/null 2>&1 || continue
    while read -r pos; do
      # The decompressor stops with an error on the bytes that follow the payload (the kernel
      # appends its relocation table and size); that is expected, so judge by the result.
      tail -c "+$((pos + 1))" "$in" | $tool >"$out" 2>/dev/null || true
      if elf_complete "$out"; then
        log "vmlinux payload: ${tool%% *} at offset $pos of $(basename "$in")"
        return 0
      fi
    done < <({ grep -obUaP "$magic" "$in" || true; } | cut -d: -f1)
  done
  return 1
}

# elf_complete FILE: an x86-64 ELF executable whose section header table lies inside the file
# (catches truncated decompression).
elf_complete() {
  local f=$1 hdr shoff shsize shnum size
  [ -s "$f" ] || return 1
  hdr=$(readelf -h "$f" 2>/dev/null) || return 1
  grep -q 'Machine:.*X86-64' <<<"$hdr" || return 1
  shoff=$(sed -n -E 's/.*Start of section headers:[[:space:]]*([0-9]+).*/\1/p' <<<"$hdr")
  shsize=$(sed -n -E 's/.*Size of section headers:[[:space:]]*([0-9]+).*/\1/p' <<<"$hdr")
  shnum=$(sed -n -E 's/.*Number of section headers:[[:space:]]*([0-9]+).*/\1/p' <<<"$hdr")
  size=$(stat -c %s "$f")
  [ -n "$shoff" ] && [ -n "$shsize" ] && [ -n "$shnum" ] || return 1
  [ "$size" -ge $((shoff + shsize * shnum)) ]
}

# has_pvh_note VMLINUX: the Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (type 0x12) QEMU needs for PVH.
has_pvh_note() {
  local notes
  notes=$(readelf -n "$1" 2>/dev/null) || return 1
  grep -Eq '^[[:space:]]*Xen[[:space:]].*(\(0x00000012\)|PHYS32_ENTRY)' <<<"$notes"
}

kernel_release_of() { # the "Linux version X" string inside a vmlinux
  grep -aoE -m1 'Linux version [^ ]+' "$1" | sed -n 1p | cut -d' ' -f3
}

write_json() { # write_json FILE key value ... ; values already JSON-encoded
  local file=$1 tmp first=1
  shift
  tmp="$file.tmp.$$"
  {
    printf '{'
    while [ "$#" -gt 0 ]; do
      [ "$first" = 1 ] || printf ','
      first=0
      printf '\n  "%s": %s' "$1" "$2"
      shift 2
    done
    printf '\n}\n'
  } >"$tmp"
  mv -f "$tmp" "$file"
}

apt_updated=0
apt_update_once() {
  [ "$apt_updated" = 1 ] && return 0
  apt_updated=1
  [ "$(id -u)" -eq 0 ] || { warn "not root: cannot run apt-get update"; return 0; }
  log "apt-get update (package lists missing or stale)"
  apt-get update -qq >&2 || warn "apt-get update failed"
}

apt_known() { apt-cache show --no-all-versions "$1" >/dev/null 2>&1; }

# apt_download PKG=VER DESTDIR -> prints the path of the .deb
apt_download() {
  local spec=$1 dest=$2 tmp deb
  tmp=$(mktemp -d "$OUTDIR/.dl.XXXXXX")
  # apt drops privileges to _apt for downloads; give it the directory so it does not warn.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
  if ! (cd "$tmp" && apt-get download -q "$spec" >&2); then
    rm -rf "$tmp"
    return 1
  fi
  deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | sed -n 1p)
  [ -n "$deb" ] || { rm -rf "$tmp"; return 1; }
  mkdir -p "$dest"
  mv -f "$deb" "$dest/"
  rm -rf "$tmp"
  printf '%s/%s\n' "$dest" "$(basename "$deb")"
}

# ---------------------------------------------------------------------------------------------
# Configured kernel: record it, copy nothing.

if [ -n "${CLEANROOM_KERNEL:-}" ]; then
  KPATH=$(realpath -e "$CLEANROOM_KERNEL" 2>/dev/null) || die "CLEANROOM_KERNEL=$CLEANROOM_KERNEL does not exist"
  [ -f "$KPATH" ] || die "CLEANROOM_KERNEL=$CLEANROOM_KERNEL is not a file"
  MODS=${CLEANROOM_KERNEL_MODULES:-}
  INPUTS=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "configured" "$KPATH" \
    "$(stat -c '%s %Y' "$KPATH")" "mods=$MODS")
  if stamp_ok "$STAMP" "$INPUTS" "$OUTDIR/vmlinux" "$OUTDIR/kernel.json"; then
    log "kernel up to date (configured: $KPATH)"
    exit 0
  fi
  need_cmd readelf sha256sum
  elf_complete "$KPATH" || die "CLEANROOM_KERNEL=$KPATH is not a complete x86-64 ELF vmlinux (a bzImage must be extracted first)"
  has_pvh_note "$KPATH" || warn "$KPATH has no PVH ELF note; QEMU -kernel will not boot it via PVH"
  KVER=$(kernel_release_of "$KPATH")
  [ -n "$KVER" ] || die "cannot find the 'Linux version' string in $KPATH"
  rm -rf "$OUTDIR/vmlinux" "$OUTDIR/modules"
  ln -s "$KPATH" "$OUTDIR/vmlinux"
  if [ -n "$MODS" ]; then
    MODS=$(realpath -e "$MODS") || die "CLEANROOM_KERNEL_MODULES=$CLEANROOM_KERNEL_MODULES does not exist"
    if [ -d "$MODS/lib/modules/$KVER" ]; then
      ln -s "$MODS" "$OUTDIR/modules"
      MODDIR="$MODS/lib/modules/$KVER"
    else
      mkdir -p "$OUTDIR/modules/lib/modules"
      ln -s "$MODS" "$OUTDIR/modules/lib/modules/$KVER"
      MODDIR=$MODS
    fi
    if [ ! -f "$MODDIR/modules.dep" ]; then
      need_cmd depmod
      log "depmod for $KVER (modules.dep missing)"
      depmod -b "$OUTDIR/modules" "$KVER"
    fi
  else
    warn "CLEANROOM_KERNEL_MODULES not set: assuming $KVER has the virtio drivers built in"
  fi
  write_json "$OUTDIR/kernel.json" package null version null kver "$(json_str "$KVER")" \
    deb_sha256 null vmlinux_sha256 "$(json_str "$(sha256_file "$KPATH")")" vmlinux "$(json_str "$KPATH")" hz null
  stamp_write "$STAMP" "$INPUTS"
  log "recorded configured kernel $KPATH ($KVER)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Debian cloud kernel.

INPUTS=$(hash_inputs "$0" "$SCRIPTS_DIR/lib/common.sh" "$PIN_PACKAGE=$PIN_VERSION" "$PIN_SHA256" "mods=")
if stamp_ok "$STAMP" "$INPUTS" "$OUTDIR/vmlinux" "$OUTDIR/kernel.json" "$OUTDIR/modules"; then
  v=$(json_get "$OUTDIR/kernel.json" version)
  log "kernel up to date ($(json_get "$OUTDIR/kernel.json" package) $v)"
  [ "$v" = "$PIN_VERSION" ] || warn "using fallback kernel version $v, not the pinned $PIN_VERSION"
  exit 0
fi

need_cmd apt-get apt-cache dpkg-deb depmod readelf sha256sum grep tail
T0=$EPOCHREALTIME
DEBDIR="$OUTDIR/debs"
PACKAGE=$PIN_PACKAGE
VERSION=$PIN_VERSION
EXPECT_SHA=$PIN_SHA256
PINNED=1
DEB="$DEBDIR/${PIN_PACKAGE}_${PIN_VERSION}_amd64.deb"

if [ -f "$DEB" ] && [ "$(sha256_file "$DEB")" = "$PIN_SHA256" ]; then
  log "using cached $(basename "$DEB")"
else
  rm -f "$DEB"
  apt_known "$PIN_PACKAGE=$PIN_VERSION" || apt_update_once
  log "downloading $PIN_PACKAGE=$PIN_VERSION"
  if ! DEB=$(apt_download "$PIN_PACKAGE=$PIN_VERSION" "$DEBDIR"); then
    # The index may be stale (old version rotated out of the mirror): refresh once and retry.
    apt_update_once
    DEB=$(apt_download "$PIN_PACKAGE=$PIN_VERSION" "$DEBDIR") || DEB=
  fi
  if [ -z "$DEB" ]; then
    PINNED=0
    apt_known "$META_PACKAGE" || apt_update_once
    PACKAGE=$(apt-cache depends "$META_PACKAGE" 2>/dev/null | sed -n -E 's/^[[:space:]]*Depends:[[:space:]]*(linux-image-[^[:space:]]+).*/\1/p' | sed -n 1p)
    [ -n "$PACKAGE" ] || die "pinned kernel $PIN_PACKAGE=$PIN_VERSION is not available and '$META_PACKAGE' cannot be resolved (apt sources?)"
    VERSION=$(apt-cache show --no-all-versions "$PACKAGE" | sed -n 's/^Version: //p' | sed -n 1p)
    EXPECT_SHA=$(apt-cache show --no-all-versions "$PACKAGE" | sed -n 's/^SHA256: //p' | sed -n 1p)
    log "downloading fallback $PACKAGE=$VERSION"
    DEB=$(apt_download "$PACKAGE=$VERSION" "$DEBDIR") || die "apt-get download $PACKAGE=$VERSION failed"
  fi
fi

DEB_SHA=$(sha256_file "$DEB")
if [ "$PINNED" = 1 ]; then
  [ "$DEB_SHA" = "$PIN_SHA256" ] || {
    rm -f "$DEB"
    die "sha256 mismatch for $PIN_PACKAGE=$PIN_VERSION: got $DEB_SHA, pinned $PIN_SHA256 (file deleted)"
  }
  log "verified sha256 of $(basename "$DEB")"
else
  # apt already verified the download against the signed Release file; this double-checks
  # that the file is the one the index describes.
  [ -z "$EXPECT_SHA" ] || [ "$DEB_SHA" = "$EXPECT_SHA" ] ||
    die "sha256 of $(basename "$DEB") ($DEB_SHA) differs from the apt index ($EXPECT_SHA)"
  loud "PINNED KERNEL $PIN_PACKAGE=$PIN_VERSION IS NO LONGER SERVED BY THE MIRROR." \
    "USING FALLBACK $PACKAGE=$VERSION (what $META_PACKAGE depends on)." \
    "deb sha256: $DEB_SHA" \
    "Update PIN_* in scripts/fetch-kernel.sh to make this reproducible."
fi

# Unpack into a scratch dir next to the outputs, then move into place.
WORK=$(mktemp -d "$OUTDIR/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "unpacking $(basename "$DEB")"
dpkg-deb -x "$DEB" "$WORK/root"
MODROOT_SRC=
for d in "$WORK/root/lib/modules" "$WORK/root/usr/lib/modules"; do
  [ -d "$d" ] && MODROOT_SRC=$d && break
done
[ -n "$MODROOT_SRC" ] || die "no lib/modules in $(basename "$DEB")"
KVER=$(find "$MODROOT_SRC" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sed -n 1p)
[ -n "$KVER" ] || die "no kernel module directory in $(basename "$DEB")"
BZIMAGE="$WORK/root/boot/vmlinuz-$KVER"
[ -f "$BZIMAGE" ] || die "no boot/vmlinuz-$KVER in $(basename "$DEB")"

mkdir -p "$WORK/modules/lib/modules"
mv "$MODROOT_SRC/$KVER" "$WORK/modules/lib/modules/$KVER"
log "depmod $KVER"
depmod -b "$WORK/modules" "$KVER" # the .deb ships no modules.dep (postinst normally makes it)
[ -s "$WORK/modules/lib/modules/$KVER/modules.dep" ] || die "depmod produced no modules.dep"

HZ=$(sed -n -E 's/^CONFIG_HZ=([0-9]+)$/\1/p' "$WORK/root/boot/config-$KVER" 2>/dev/null | sed -n 1p)
[ -n "$HZ" ] || warn "no CONFIG_HZ in boot/config-$KVER: guests will calibrate each CPU's delay loop at boot"

log "extracting vmlinux from $(basename "$BZIMAGE")"
extract_vmlinux "$BZIMAGE" "$WORK/vmlinux" || die "no decompressible ELF payload found in $BZIMAGE"
has_pvh_note "$WORK/vmlinux" || die "extracted vmlinux has no PVH ELF note (Xen note type 0x12); QEMU cannot boot it with -kernel"
VMLINUX_SHA=$(sha256_file "$WORK/vmlinux")

rm -rf "$OUTDIR/modules" "$OUTDIR/vmlinux"
mv "$WORK/modules" "$OUTDIR/modules"
mv "$WORK/vmlinux" "$OUTDIR/vmlinux"
write_json "$OUTDIR/kernel.json" package "$(json_str "$PACKAGE")" version "$(json_str "$VERSION")" \
  kver "$(json_str "$KVER")" deb_sha256 "$(json_str "$DEB_SHA")" vmlinux_sha256 "$(json_str "$VMLINUX_SHA")" hz "${HZ:-null}"
stamp_write "$STAMP" "$INPUTS"
log "kernel ready: $OUTDIR/vmlinux ($KVER, $(($(stat -c %s "$OUTDIR/vmlinux") / 1048576)) MiB) in $(elapsed_since "$T0")s"
