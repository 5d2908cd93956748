#!/usr/bin/env bash
# Builds the Debian toolchain test image: scripts/build-debian-image.sh's Debian plus go (golang-go), pip
# (python3-pip), gem and bundler (ruby, bundler) and node (Debian's nodejs), with npm from the npm registry (Debian's
# npm package drags in hundreds of node-* packages whose configuration did not finish under debootstrap). The
# integration tests run the real clients in a guest booted from it (tests/.../Network/ToolchainClientsTests.cs).
#
#   scripts/build-toolchain-image.sh .build/images/debian-toolchain.oci.tar
#   cleanroom image import debian-toolchain:bookworm .build/images/debian-toolchain.oci.tar
#
# Usage: scripts/build-toolchain-image.sh OUT.tar
#
# Environment:
#   NPM_VERSION, NPM_INTEGRITY  the npm release put in /usr/local/lib/node_modules/npm and the npm registry's
#               dist.integrity for it (sha512); the tarball is cached in .build/cache/npm/ and checked on every use
#   NPM_REGISTRY  where that tarball is fetched from (default https://registry.npmjs.org)
#   SUITE, MIRROR, SOURCE_DATE_EPOCH  as for scripts/build-debian-image.sh
#
# Needs root (debootstrap). Re-runs are no-ops while the inputs are unchanged (OUT.stamp, kept by
# build-debian-image.sh, which hashes this script's npm pin and the rootfs hook too).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[ "$#" -eq 1 ] || die "usage: $0 OUT.tar"
need_cmd curl openssl base64
# 10.x is the last npm line that runs on bookworm's node 18 (npm 11 needs node 20).
NPM_VERSION=${NPM_VERSION:-10.9.2}
NPM_INTEGRITY=${NPM_INTEGRITY:-sha512-iriPEPIkoMYUy3F6f3wwSZAU93E0Eg6cHwIR6jzzOXWSy+SD/rOODEs74cVONHKSx2obXtuUoyidVEhISrisgQ==}
# The host's npm registry setting (a mirror, say) when npm is installed, else the public registry.
if [ -z "${NPM_REGISTRY:-}" ] && command -v npm >/dev/null 2>&1; then
  NPM_REGISTRY=$(npm config get registry 2>/dev/null || true)
fi
NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}
NPM_REGISTRY=${NPM_REGISTRY%/}
case "$NPM_INTEGRITY" in sha512-*) ;; *) die "NPM_INTEGRITY must be a sha512- integrity string" ;; esac

# sha512 integrity ("sha512-" + base64) of a file.
integrity_of() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

CACHE="$BUILD_DIR/cache/npm"
TARBALL="$CACHE/npm-$NPM_VERSION.tgz"
mkdir -p "$CACHE"
if [ ! -f "$TARBALL" ] || [ "$(integrity_of "$TARBALL")" != "$NPM_INTEGRITY" ]; then
  log "fetching npm $NPM_VERSION from $NPM_REGISTRY"
  trap 'rm -f "$TARBALL.part"' EXIT
  curl -fsSL --retry 3 -m 120 -o "$TARBALL.part" "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" ||
    die "could not fetch npm $NPM_VERSION from $NPM_REGISTRY"
  GOT=$(integrity_of "$TARBALL.part")
  if [ "$GOT" != "$NPM_INTEGRITY" ]; then
    rm -f "$TARBALL.part"
    die "npm-$NPM_VERSION.tgz has integrity $GOT, expected $NPM_INTEGRITY"
  fi
  mv -f "$TARBALL.part" "$TARBALL"
fi

# The image has no C compiler and (see the hook) no precompiled standard library, so go 1.19 would try to build
# runtime/cgo with gcc for any program using net or os/user: CGO_ENABLED=0 is what go 1.20 and later choose by
# themselves when there is no C compiler.
export NPM_TARBALL="$TARBALL"
SUITE=${SUITE:-bookworm}
REF="debian-toolchain:$SUITE" \
  PACKAGES=golang-go,python3-pip,ruby,bundler,nodejs \
  NODOCS=1 \
  ROOTFS_HOOK="$SCRIPTS_DIR/lib/toolchain-rootfs-hook.sh" \
  HOOK_INPUTS="npm=$NPM_VERSION integrity=$NPM_INTEGRITY" \
  IMAGE_ENV=CGO_ENABLED=0 \
  SUITE="$SUITE" \
  exec "$SCRIPTS_DIR/build-debian-image.sh" "$1"
