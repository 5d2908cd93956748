#!/usr/bin/env bash
# go mod download, pip download and npm ci through the gateway against the static upstream directly (see Program.cs), in Release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -x /usr/bin/go ] || { echo "/usr/bin/go is missing: sudo apt-get install golang-go" >&2; exit 1; }
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || { echo "pip is missing: sudo apt-get install python3-pip" >&2; exit 1; }
[ -x /usr/bin/npm ] || { echo "/usr/bin/npm is missing: sudo apt-get install npm" >&2; exit 1; }
exec dotnet run -c Release --project bench/gateway_packages -- "$@"
