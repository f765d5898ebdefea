#!/usr/bin/env bash
# The README's first command: gets Node >= 22.19 and the dependencies, then runs the tour
# (examples/tour.ts) against the local Docker engine: $DOCKER_HOST, else /var/run/docker.sock.
# With neither reachable, it starts the project's test engine when run as root on Debian, and
# otherwise says how to get one.
set -euo pipefail
source "$(dirname "$0")/lib/deps.sh"
ed_setup

reachable() { # $1 = unix socket path
  [ -S "$1" ] && curl -sf --max-time 5 --unix-socket "$1" http://docker/_ping >/dev/null 2>&1
}
if [ -z "${DOCKER_HOST:-}" ] && ! reachable /var/run/docker.sock; then
  if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
    echo "effect-docker: no engine at /var/run/docker.sock; starting the project's test engines" >&2
    bash scripts/engines.sh start >&2
    DOCKER_HOST=$(sed -n 's/^EFFECT_DOCKER_ENGINE_DOCKER_LATEST=//p' "${EFFECT_DOCKER_ENGINES_DIR:-/tmp/effect-docker}/engines.env")
    export DOCKER_HOST
  else
    cat >&2 <<'MSG'
effect-docker: no Docker engine is reachable (DOCKER_HOST is unset and /var/run/docker.sock does not answer).
  - Start Docker (e.g. `sudo systemctl start docker`), or
  - point DOCKER_HOST at a daemon (DOCKER_HOST=unix:///path/to/docker.sock), or
  - on Debian as root, run `bash scripts/engines.sh start` and use the engine it prints.
MSG
    exit 1
  fi
fi
exec npx tsx examples/tour.ts
