#!/usr/bin/env bash
# Builds a realistic Debian base image (bash, coreutils, git, curl, ca-certificates, iproute2) with debootstrap
# from Debian's archive and packs it as an OCI image layout tarball that `cleanroom image import`
# reads. For tests and for users without registry access:
#
#   scripts/build-debian-image.sh .build/images/debian-bookworm.oci.tar
#   cleanroom image import debian-base:bookworm .build/images/debian-bookworm.oci.tar
#
# Usage: scripts/build-debian-image.sh OUT.tar
#
# Environment:
#   SUITE     Debian suite (default bookworm)
#   MIRROR    archive URL (default: the first deb URI in /etc/apt/sources.list(.d), else deb.debian.org)
#   PACKAGES  extra comma-separated packages on top of the default set
#   REF       the layout's image name (default debian-base:<suite>)
#   NODOCS    1: leave out /usr/share/{doc,man,info} except the copyright files (smaller images)
#   ROOTFS_HOOK  an executable run as `ROOTFS_HOOK ROOTFS` after debootstrap, before packing, to add files
#             (scripts/build-toolchain-image.sh puts npm in this way); its content is an input of the stamp
#   HOOK_INPUTS  space-separated files or strings the hook reads (hashed into the stamp)
#   IMAGE_ENV space-separated KEY=VALUE entries added to the image's Env
#   SOURCE_DATE_EPOCH  timestamp for the config and the clamped file mtimes (default 0)
#
# The image: one gzip layer (sorted, numeric owners, mtimes clamped), config Env PATH/LANG (and IMAGE_ENV), Cmd
# ["bash"], WorkingDir /workspace; the layout's index.json names it REF.
# Needs root (debootstrap). Written to a temp name and renamed; re-runs are no-ops while inputs are
# unchanged (OUT.stamp).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[ "$#" -eq 1 ] || die "usage: $0 OUT.tar"
need_root "debootstrap"
need_cmd debootstrap tar gzip python3
OUT=$(abspath "$1")
OUTDIR=$(dirname "$OUT")
mkdir -p "$OUTDIR"
SUITE=${SUITE:-bookworm}
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -v security | head -n1 | awk '{print ($1=="deb") ? $2 : $2}' || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
INCLUDE="bash,coreutils,git,curl,ca-certificates,iproute2${PACKAGES:+,$PACKAGES}"
EPOCH=${SOURCE_DATE_EPOCH:-0}
REF=${REF:-debian-base:$SUITE}
NODOCS=${NODOCS:-0}
HOOK=${ROOTFS_HOOK:-}
[ -z "$HOOK" ] || [ -x "$HOOK" ] || die "ROOTFS_HOOK $HOOK is not an executable file"
STAMP="$OUT.stamp"
# shellcheck disable=SC2086 # HOOK_INPUTS is a list
INPUTS=$(hash_inputs "$0" "$SUITE" "$MIRROR" "$INCLUDE" "epoch=$EPOCH" "ref=$REF" "nodocs=$NODOCS" "env=${IMAGE_ENV:-}" "hook:" ${HOOK:+"$HOOK"} ${HOOK_INPUTS:-})
if stamp_ok "$STAMP" "$INPUTS" "$OUT"; then
  log "debian image $REF up to date ($OUT)"
  exit 0
fi

T0=$EPOCHREALTIME
STAGE=$(mktemp -d "$OUTDIR/.debian.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/rootfs"
log "debootstrap $SUITE ($INCLUDE) from $MIRROR"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT" "$MIRROR" >"$STAGE/debootstrap.log" 2>&1 ||
  die "debootstrap failed; last lines:
$(tail -n 20 "$STAGE/debootstrap.log")"

# Caches and logs are not part of an image; /workspace is where jobs run.
rm -rf "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/var/log/* "$ROOT"/tmp/* "$ROOT"/root/.cache
if [ "$NODOCS" = 1 ]; then
  find "$ROOT/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$ROOT/usr/share/man" "$ROOT/usr/share/info"
fi
mkdir -p "$ROOT/workspace"
echo cleanroom >"$ROOT/etc/hostname"
if [ -n "$HOOK" ]; then
  log "running $HOOK"
  "$HOOK" "$ROOT" || die "ROOTFS_HOOK $HOOK failed"
fi

LAYOUT="$STAGE/layout"
mkdir -p "$LAYOUT/blobs/sha256"
tar --sort=name --numeric-owner --xattrs --mtime="@$EPOCH" --clamp-mtime -C "$ROOT" -cf "$STAGE/layer.tar" .
python3 - "$STAGE" "$LAYOUT" "$SUITE" "$EPOCH" "$REF" "${IMAGE_ENV:-}" <<'PY'
import gzip, hashlib, json, os, shutil, sys, datetime
stage, layout, suite, epoch, ref = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
extra_env = sys.argv[6].split()
blobs = os.path.join(layout, "blobs", "sha256")

def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}

tar = os.path.join(stage, "layer.tar")
diff_id = sha_file(tar)
gz = os.path.join(stage, "layer.tar.gz")
with open(tar, "rb") as src, gzip.GzipFile(gz, "wb", compresslevel=6, mtime=0) as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
layer_digest = sha_file(gz)
os.rename(gz, os.path.join(blobs, layer_digest))
created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
config = {
    "created": created, "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"] + extra_env,
               "Cmd": ["bash"], "WorkingDir": "/workspace"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": created, "created_by": "scripts/build-debian-image.sh (debootstrap " + suite + ")"}],
}
config_desc = put(json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + layer_digest, "size": os.path.getsize(os.path.join(blobs, layer_digest))}]}
manifest_desc = put(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                        "platform": {"architecture": "amd64", "os": "linux"},
                        "annotations": {"org.opencontainers.image.ref.name": ref}}]}
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f, sort_keys=True, separators=(",", ":"))
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print(manifest_desc["digest"])
PY
tar --sort=name --numeric-owner --mtime="@$EPOCH" -C "$LAYOUT" -cf "$STAGE/image.tar" .
mv -f "$STAGE/image.tar" "$OUT"
stamp_write "$STAMP" "$INPUTS"
log "debian image $REF: $OUT ($(du -h "$OUT" | cut -f1)) in $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}') s"
