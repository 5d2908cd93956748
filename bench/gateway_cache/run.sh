#!/usr/bin/env bash
# Gateway cache hits against nginx (see Program.cs). Installs nginx-light when it is missing, without starting its
# service (policy-rc.d refuses), then runs the bench in Release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ ! -x /usr/sbin/nginx ]; then
  [ "$(id -u)" -eq 0 ] || { echo "nginx is missing: sudo apt-get install nginx-light" >&2; exit 1; }
  policy=/usr/sbin/policy-rc.d
  created=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >&2
  [ -z "$created" ] || rm -f "$policy"
fi
exec dotnet run -c Release --project bench/gateway_cache -- "$@"
