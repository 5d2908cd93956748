# shellcheck shell=bash
# Shared helpers for the Cleanroom host scripts. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Conventions:
#   * progress and errors go to stderr, prefixed with the script name;
#   * every build step keeps a "stamp" file holding the hash of its inputs, and
#     skips the work when the stamp matches and the outputs exist.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
SCRIPTS_DIR="$REPO_ROOT/scripts"
# shellcheck disable=SC2034
BUILD_DIR="$REPO_ROOT/.build"
_CR_NAME="$(basename "${0:-cleanroom}")"

export LC_ALL=C
# Boot assets are read by the VMs' unprivileged uids through the "other" bit: build them readable whatever the
# caller's umask (the daemon's own state directory is what keeps other users out).
umask 022
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false

log() { printf '%s: %s\n' "$_CR_NAME" "$*" >&2; }
warn() { printf '%s: WARNING: %s\n' "$_CR_NAME" "$*" >&2; }
die() {
  printf '%s: ERROR: %s\n' "$_CR_NAME" "$*" >&2
  exit 1
}

# Any unexpected failure (set -e) names the command and line instead of exiting silently.
_cr_on_err() {
  printf '%s: ERROR: command failed (exit %s) at %s line %s: %s\n' "$_CR_NAME" "$1" "${BASH_SOURCE[1]:-?}" "$2" "$3" >&2
}
set -E
trap '_cr_on_err $? $LINENO "$BASH_COMMAND"' ERR

# Loud multi-line banner for things a human must notice.
loud() {
  local line='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  {
    printf '%s\n' "$line"
    printf '!!! %s\n' "$@"
    printf '%s\n' "$line"
  } >&2
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 ||
      die "required command '$c' not found (run scripts/install-host-deps.sh as root)"
  done
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (re-run with sudo)"
}

# Absolute path of $1 (which need not exist yet; its parent must).
abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

# coreutils sha256sum has no SHA-NI path (~170 MB/s here); OpenSSL's is ~5x faster, which matters
# for the 512 MiB base image and the 50 MiB vmlinux.
sha256_file() {
  if [ -n "${_CR_OPENSSL:-}" ] && [ "$(stat -c %s "$1")" -gt 8388608 ]; then
    local out
    out=$("$_CR_OPENSSL" dgst -sha256 -r "$1") || return 1
    printf '%s\n' "${out%% *}"
  else
    sha256sum "$1" | cut -d' ' -f1
  fi
}
_CR_OPENSSL=$(command -v openssl 2>/dev/null || true)
sha256_str() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# hash_inputs ARG...  prints one sha256 over all arguments, in order.
#   an existing directory -> every file below it (bin/ obj/ .build/ .git/ node_modules/ skipped),
#                            by relative path + content, plus symlink targets
#   an existing file      -> its path and content hash
#   anything else         -> the literal string (versions, option values, "missing:" markers)
hash_inputs() {
  local a r
  for a in "$@"; do
    # Name inputs relative to the repo, so moving the checkout or calling a script by another
    # path does not invalidate stamps.
    r=$a
    if [ -e "$a" ]; then
      r=$(realpath -s "$a")
      case "$r" in "$REPO_ROOT"/*) r=${r#"$REPO_ROOT"/} ;; esac
    fi
    if [ -d "$a" ]; then
      printf 'dir %s\n' "$r"
      (
        cd "$a" || exit 1
        find . \( -name bin -o -name obj -o -name .build -o -name .git -o -name node_modules \) -prune \
          -o -type f -print0 | sort -z | xargs -0 -r sha256sum
        find . \( -name bin -o -name obj -o -name .build -o -name .git -o -name node_modules \) -prune \
          -o -type l -printf 'link %p -> %l\n' | sort
      )
    elif [ -f "$a" ]; then
      printf 'file %s %s\n' "$r" "$(sha256_file "$a")"
    else
      printf 'str %s\n' "$a"
    fi
  done | sha256sum | cut -d' ' -f1
}

# stamp_ok STAMPFILE HASH OUTPUT...  true when the stamp holds HASH and every OUTPUT exists.
stamp_ok() {
  local stamp=$1 hash=$2 o
  shift 2
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] || return 1
  for o in "$@"; do [ -e "$o" ] || return 1; done
  return 0
}

stamp_write() { printf '%s\n' "$2" >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"; }

# json_str VALUE -> a JSON string literal (handles \ " and control characters we may meet in paths).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# json_get FILE KEY -> the value of a flat top-level "KEY": "string" or number (no nested objects).
json_get() {
  sed -n -E 's/.*"'"$2"'"[[:space:]]*:[[:space:]]*"?([^",}]*)"?.*/\1/p' "$1" | sed -n 1p
}

# The files a .NET project's build depends on: its own dir, every ProjectReference (recursively),
# and the Directory.*.props/targets, global.json and NuGet.config files that MSBuild/SDK pick up
# walking up from each project to the repo root. Prints one path per line, sorted, unique.
dotnet_project_inputs() {
  local -a queue=("$(abspath "$1")")
  local -A seen=()
  local proj dir ref d f
  {
    while [ "${#queue[@]}" -gt 0 ]; do
      proj=$(realpath -m "${queue[0]}")
      queue=("${queue[@]:1}")
      [ -n "${seen[$proj]:-}" ] && continue
      seen[$proj]=1
      dir=$(dirname "$proj")
      printf '%s\n' "$dir"
      [ -f "$proj" ] || continue
      while IFS= read -r ref; do
        ref=${ref//\\//}
        queue+=("$dir/$ref")
      done < <({ grep -o '<ProjectReference[^>]*Include="[^"]*"' "$proj" || true; } | sed -E 's/.*Include="([^"]*)"/\1/')
      d=$dir
      while :; do
        for f in Directory.Build.props Directory.Build.targets Directory.Packages.props global.json NuGet.config nuget.config NuGet.Config; do
          [ -f "$d/$f" ] && printf '%s\n' "$d/$f"
        done
        [ "$d" = "$REPO_ROOT" ] || [ "$d" = / ] && break
        d=$(dirname "$d")
      done
    done
  } | sort -u
}

# A cheap fingerprint of the installed .NET SDKs (which one global.json picks can only change when
# this list changes). `dotnet --version` would cost ~0.2 s per call. Cached per process tree.
dotnet_sdk_version() {
  if [ -z "${_CR_SDK_VERSION:-}" ]; then
    local dn root
    dn=$(command -v dotnet) || die "dotnet not found: install the .NET 10 SDK"
    root=$(dirname "$(readlink -f "$dn")")
    if [ -d "$root/sdk" ]; then
      _CR_SDK_VERSION=$(ls "$root/sdk" | tr '\n' ' ')
    else
      _CR_SDK_VERSION=$(cd "$REPO_ROOT" && dotnet --version 2>/dev/null) || die "'dotnet --version' failed: is the .NET 10 SDK installed?"
    fi
    export _CR_SDK_VERSION
  fi
  printf '%s\n' "$_CR_SDK_VERSION"
}

# run_logged LOGFILE CMD...  runs CMD with stdout+stderr in LOGFILE; on failure prints the last lines.
# The log file (not our stdout) is what any long-lived helper (MSBuild nodes, compiler server)
# inherits, so a CI harness reading our stdout is never kept waiting by them.
run_logged() {
  local logf=$1 rc=0
  shift
  mkdir -p "$(dirname "$logf")"
  "$@" >"$logf" 2>&1 </dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s: command failed (exit %d): %s\n' "$_CR_NAME" "$rc" "$*" >&2
    printf '%s: ---- last 40 lines of %s ----\n' "$_CR_NAME" "$logf" >&2
    tail -n 40 "$logf" >&2
    printf '%s: ---- end of log ----\n' "$_CR_NAME" >&2
  fi
  return "$rc"
}

# Seconds since $1 (a value of $EPOCHREALTIME), with 2 decimals.
elapsed_since() {
  local now=${EPOCHREALTIME/./} start=${1/./}
  local us=$((now - start))
  printf '%d.%02d' $((us / 1000000)) $(((us % 1000000) / 10000))
}
