# shellcheck shell=bash
# scripts/engines/registries.sh — the two local registries (with and without auth)
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# ---------------------------------------------------------------------------------------------
# Registries (Debian's docker-registry, i.e. distribution 2.8)
# ---------------------------------------------------------------------------------------------

registry_dir() { printf '%s/registry-%s' "$ROOT" "$1"; }
registry_port() { case $1 in auth) echo "$REGISTRY_PORT" ;; noauth) echo "$REGISTRY_NOAUTH_PORT" ;; esac; }
# What /v2/ answers when the registry is up: 401 asks for credentials, 200 is anonymous.
registry_expect() { case $1 in auth) echo 401 ;; noauth) echo 200 ;; esac; }
# The port a running registry was started with (status/stop must not depend on today's env).
registry_running_port() { sed -n 's/^  addr: 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$(registry_dir "$1")/config.yml" 2>/dev/null || true; }

write_registry_config() {
  local kind=$1 d port out
  d=$(registry_dir "$kind")
  port=$(registry_port "$kind")
  out=$2
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $d/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    # A fixed secret only silences the "generated random secret" warning (single instance).
    echo "  secret: effect-docker-test-registry"
    if [[ $kind == auth ]]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: effect-docker-test"
      echo "    path: $d/htpasswd"
    fi
  } >"$out"
}

launch_registry() {
  local kind=$1 d port code
  d=$(registry_dir "$kind")
  port=$(registry_port "$kind")
  mkdir -p "$d/data"
  if [[ $kind == auth && ! -s $d/htpasswd ]]; then
    htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$d/htpasswd"
  fi
  write_registry_config "$kind" "$d/config.yml.new"
  if alive "$d/pid" docker-registry; then
    # Reuse only if it runs with today's configuration (e.g. the same port).
    if cmp -s "$d/config.yml.new" "$d/config.yml"; then
      rm -f "$d/config.yml.new"
      log "registry $kind: reusing running docker-registry (pid $(pid_of "$d/pid")) on 127.0.0.1:$port"
      return 0
    fi
    log "registry $kind: configuration changed; restarting"
    stop_pid "$d/pid" docker-registry 10
  fi
  rm -f "$d/pid"
  # The port must be free: otherwise we would "find" somebody else's server (e.g. the system
  # docker-registry service, which listens on :5000) and tests would talk to it.
  code=$(http_code "http://127.0.0.1:$port/v2/")
  if [[ $code != 000 ]]; then
    die "registry $kind: 127.0.0.1:$port is already in use by a process this script did not start (HTTP $code); free it or set $(registry_port_var "$kind")"
  fi
  mv -f "$d/config.yml.new" "$d/config.yml"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "registry $kind: starting docker-registry on 127.0.0.1:$port"
  spawn "$d/pid" "$d/log" "$BASE_PATH" /usr/bin/docker-registry serve "$d/config.yml"
}

registry_port_var() { case $1 in auth) echo EFFECT_DOCKER_REGISTRY_PORT ;; noauth) echo EFFECT_DOCKER_REGISTRY_NOAUTH_PORT ;; esac; }

wait_registry() {
  local kind=$1 d port want deadline code
  d=$(registry_dir "$kind")
  port=$(registry_port "$kind")
  want=$(registry_expect "$kind")
  deadline=$((SECONDS + TIMEOUT))
  while :; do
    code=$(http_code "http://127.0.0.1:$port/v2/")
    [[ $code == "$want" ]] && return 0
    if ! alive "$d/pid" docker-registry; then
      log_tail "$d/log"
      die "registry $kind: docker-registry exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "registry $kind: 127.0.0.1:$port/v2/ answers '$code', expected $want after ${TIMEOUT}s"
    fi
    sleep 0.1
  done
}

# status_registry KIND: one status line; returns 1 if the registry is not up.
status_registry() {
  local k=$1 d port want code pid
  d=$(registry_dir "$k")
  port=$(registry_running_port "$k")
  port=${port:-$(registry_port "$k")}
  want=$(registry_expect "$k")
  pid=$(pid_of "$d/pid")
  if alive "$d/pid" docker-registry; then
    code=$(http_code "http://127.0.0.1:$port/v2/")
    if [[ $code == "$want" ]]; then
      printf 'registry %-9s up    127.0.0.1:%s, pid %s\n' "$k" "$port" "$pid"
    else
      printf 'registry %-9s DOWN  pid %s runs but 127.0.0.1:%s/v2/ answers %s (expected %s)\n' "$k" "$pid" "$port" "$code" "$want"
      return 1
    fi
  else
    printf 'registry %-9s DOWN  not running\n' "$k"
    return 1
  fi
}

stop_registry() {
  local k=$1
  if alive "$(registry_dir "$k")/pid" docker-registry; then log "registry $k: stopping"; fi
  stop_pid "$(registry_dir "$k")/pid" docker-registry 10
}
