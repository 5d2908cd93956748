#!/usr/bin/env bash
# build-debian-image.sh's ROOTFS_HOOK for scripts/build-toolchain-image.sh: unpacks the npm tarball NPM_TARBALL
# (already checked against its pinned integrity) as /usr/local/lib/node_modules/npm in ROOTFS, with npm and npx in
# /usr/local/bin, the layout `npm install -g npm` leaves; and leaves out what go does not need.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$#" -eq 1 ] || die "usage: $0 ROOTFS"
ROOT=$1
[ -f "${NPM_TARBALL:-}" ] || die "NPM_TARBALL is not set to the npm tarball"
[ -x "$ROOT/usr/bin/node" ] || die "$ROOT has no /usr/bin/node (is nodejs in PACKAGES?)"
DEST="$ROOT/usr/local/lib/node_modules/npm"
rm -rf "$DEST"
mkdir -p "$DEST" "$ROOT/usr/local/bin"
# npm's tarball holds package/...; owners and modes from the host's view of it are not wanted in an image.
tar -xzf "$NPM_TARBALL" -C "$DEST" --strip-components=1 --no-same-owner --no-same-permissions
chmod -R u=rwX,go=rX "$DEST"
chmod 755 "$DEST/bin/npm-cli.js" "$DEST/bin/npx-cli.js"
ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
# npm's builtin config (the layer under the user's and the environment's): global installs go to /usr/local as this
# npm does, and no update check, funding message or audit call goes to registry.npmjs.org behind a job's back.
printf 'prefix=/usr/local\nupdate-notifier=false\nfund=false\naudit=false\n' >"$DEST/npmrc"

# Go 1.19 ships its standard library precompiled, plain and for -race (240 MB, a third of the image); without those
# archives go compiles the packages a build needs into its build cache, as go 1.20 and later always do. Go's own
# test suite is not needed either.
rm -rf "$ROOT"/usr/lib/go-*/pkg/linux_amd64 "$ROOT"/usr/lib/go-*/pkg/linux_amd64_race "$ROOT"/usr/share/go-*/test
