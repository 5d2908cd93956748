#!/usr/bin/env bash
# git clone through the gateway against a direct clone (see Program.cs), in Release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v git >/dev/null || { echo "git is missing: sudo apt-get install git" >&2; exit 1; }
exec dotnet run -c Release --project bench/gateway_git -- "$@"
