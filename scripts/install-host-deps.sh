#!/usr/bin/env bash
# Installs the Debian packages Cleanroom needs on the host (QEMU, image tools, kernel-module
# tooling, the C toolchain NativeAOT links with, ...). Idempotent: when everything is already
# installed it only runs one dpkg-query (well under a second) and never touches apt.
#
# Usage: scripts/install-host-deps.sh        (root needed only when something is missing)
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PACKAGES=(
  qemu-system-x86 qemu-system-data qemu-utils # the VMM, microvm firmware, qemu-img
  busybox-static e2fsprogs cpio kmod          # base image, initramfs, depmod/modprobe
  gcc libc6-dev zlib1g-dev binutils           # NativeAOT static link (gcc + ld.bfd), readelf
  xz-utils lz4 file                           # kernel payload extraction and checks
  socat sqlite3                               # socket probing, state inspection
  curl openssl                                # the toolchain image fetches npm (integrity-checked); tests call the API with curl
  python3                                     # scripts/test.sh parses .trx results with it
  docker-registry                             # the real OCI registry the image tests pull from
  skopeo umoci                                # benchmark baseline (skopeo copy + umoci unpack); skopeo is the gateway registry route's real client
  debootstrap                                 # scripts/build-debian-image.sh
  nftables conntrack                          # the per-sandbox egress firewall (nft); conntrack(8) fills and reads the tests' tables
  golang-go                                   # the gateway /goproxy/ tests run the real go command
  dnsmasq-base                                # the network tests' upstream DNS server (no service)
  python3-pip                                 # the gateway's /pypi/ tests run the real pip
  ruby bundler                                # the gateway's /rubygems/ tests run the real gem and bundle
)
# The real npm client the gateway's /npm/ tests run: Debian's npm package (it brings nodejs), unless an npm is
# already installed (NodeSource's nodejs package ships its own, and Debian's npm would conflict with it).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# One dpkg-query for all packages (fast). Packages dpkg has never heard of are simply absent
# from its output (it then exits non-zero, which is fine) and count as missing.
declare -A status=()
while read -r pkg st; do
  status[$pkg]=$st
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
  [ "${status[$p]:-}" = installed ] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "host dependencies present (${#PACKAGES[@]} packages)"
  exit 0
fi

log "missing packages: ${missing[*]}"
[ "$(id -u)" -eq 0 ] || die "installing packages needs root; run: sudo $0   (or: sudo apt-get install --no-install-recommends ${missing[*]})"
need_cmd apt-get

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq || die "apt-get update failed (is a Debian mirror reachable?)"
log "apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
  die "apt-get install failed for: ${missing[*]}"
log "installed ${#missing[@]} package(s)"
