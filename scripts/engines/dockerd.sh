# shellcheck shell=bash
# scripts/engines/dockerd.sh — containerd + dockerd, one private pair per engine
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# ---------------------------------------------------------------------------------------------
# containerd, one private instance per engine
# ---------------------------------------------------------------------------------------------
#
# Why not let dockerd start its "managed" containerd: dockerd only does that when
# /run/containerd/containerd.sock does not exist. On a machine where the system containerd runs
# (any systemd host after installing docker.io), both engines would silently attach to that
# shared containerd (same "moby" namespace, and docker-latest would not use unstable's containerd).
# So each engine gets its own containerd with its own sockets and state, and dockerd is pointed
# at it with --containerd.

containerd_dir() { printf '%s/containerd' "$(engine_dir "$1")"; }
containerd_sock() { printf '%s/containerd.sock' "$(containerd_dir "$1")"; }

write_containerd_config() {
  local e=$1 d ver version disabled
  d=$(containerd_dir "$e")
  # containerd 1.x (docker-20.10) reads config version 2; containerd 2.x (docker-latest) wants version 3
  # (it would migrate a version 2 file, with a warning, on every start).
  ver=$("$(engine_containerd "$e")" --version | awk '{print $3}')
  # Disabled: the CRI plugins (Kubernetes only; they watch /etc/cni, start a streaming server and
  # are never used by dockerd) and NRI (containerd 2.x may enable it with a fixed host-wide
  # socket, /var/run/nri/nri.sock, which two instances would fight over). With CRI off,
  # containerd 2.x logs one harmless warning: "failed to load plugin ... sandbox-controllers".
  if [[ ${ver#v} == 1.* ]]; then
    version=2
    disabled='"io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"'
  else
    version=3
    disabled='"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.nri.v1.nri"'
  fi
  # The "opt" plugin would otherwise create /opt/containerd on the host.
  cat >"$d/config.toml" <<EOF
version = $version
root = "$d/root"
state = "$d/state"
disabled_plugins = [$disabled]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = "$d/debug.sock"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$d/opt"
EOF
}

# launch_containerd E: make sure engine E's containerd runs (reuse a live one).
launch_containerd() {
  local e=$1 d sock
  d=$(containerd_dir "$e")
  sock=$(containerd_sock "$e")
  mkdir -p "$d"
  if alive "$d/pid" containerd && [[ -S $sock ]]; then
    return 0
  fi
  stop_pid "$d/pid" containerd 10 # a live containerd without its socket is useless
  rm -f "$sock" "$sock.ttrpc" "$d/debug.sock"
  write_containerd_config "$e"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  spawn "$d/pid" "$d/log" "$(engine_path "$e")" "$(engine_containerd "$e")" --config "$d/config.toml"
  local deadline=$((SECONDS + TIMEOUT))
  until [[ -S $sock ]]; do
    if ! alive "$d/pid" containerd; then
      log_tail "$d/log"
      die "containerd of engine $e exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "containerd of engine $e not ready after ${TIMEOUT}s"
    fi
    sleep 0.1
  done
}

# Containers whose shim outlived its containerd (only possible after dockerd had to be killed):
# their shims carry "-address <this engine's containerd socket>" on the command line, which
# identifies them exactly. Killing the container's init (the shim's child) ends its whole pid
# namespace; then the shim goes.
kill_leftover_shims() {
  local sock=$1 f pid cmd child
  # One grep over all command lines (cheap), then an exact check of each candidate.
  for f in $(grep -lsaF -e "$sock" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
    [[ $cmd == *containerd-shim* && $cmd == *" -address $sock "* ]] || continue
    for child in $(awk -v p="$pid" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null || true); do
      kill -KILL "$child" 2>/dev/null || true
    done
    log "killing leftover shim $pid"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# ---------------------------------------------------------------------------------------------
# dockerd
# ---------------------------------------------------------------------------------------------

# dockerd_args E: engine E's dockerd command line (into DOCKERD_ARGS) and its extra environment
# (into DOCKERD_ENV, from ENGINE_ENV). It is also the engine's
# "configuration": a running dockerd started with other arguments (or other TLS material) is
# restarted by docker_launch.
# --bridge=<its own interface> --iptables=false --ip6tables=false: a default bridge network as real
# installs have (engine_bridge_up), but no NAT rules: nothing touches the host's firewall; ports
# published on 127.0.0.1 go through docker-proxy. dockerd writes $d/pid itself (--pidfile). The TCP listener is
# 127.0.0.1 only and always --tlsverify: it accepts only clients with a certificate of our test CA.
dockerd_args() {
  local e=$1 d
  d=$(engine_dir "$e")
  DOCKERD_ARGS=(
    "$(engine_dockerd "$e")"
    --config-file "$d/daemon.json"
    --data-root "$d/data"
    --exec-root "$d/run"
    --pidfile "$d/pid"
    -H "unix://$(engine_sock "$e")"
    -H "tcp://127.0.0.1:$(engine_tls_port "$e")"
    --tlsverify --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem"
    --containerd "$(containerd_sock "$e")"
    --bridge="$(engine_bridge "$e")" --iptables=false --ip6tables=false
    --default-address-pool "$(engine_pool "$e")"
  )
  read -ra DOCKERD_ENV <<<"${ENGINE_ENV[$e]:-}"
}

# engine_bridge E: the name of engine E's default-bridge interface, from its gateway address
# (10.231.0.1/24 -> ed231b0): distinct subnets give distinct names, within IFNAMSIZ (15).
engine_bridge() {
  local a b c _
  IFS=./ read -r a b c _ <<<"${ENGINE_BRIDGE[$1]}"
  printf 'ed%sb%s' "$b" "$c"
}

# engine_bridge_up E: the interface dockerd's --bridge takes over (dockerd does not create it when
# it is named); idempotent. engine_bridge_down E removes it once dockerd is gone.
engine_bridge_up() {
  local name
  name=$(engine_bridge "$1")
  if ! ip link show "$name" >/dev/null 2>&1; then
    ip link add "$name" type bridge || die "engine $1: cannot create bridge $name"
    ip addr add "${ENGINE_BRIDGE[$1]}" dev "$name" || die "engine $1: cannot address bridge $name"
  fi
  ip link set "$name" up
}
engine_bridge_down() { ip link del "$(engine_bridge "$1")" 2>/dev/null || true; }

# The launch signature: the arguments, plus the server certificate's fingerprint (dockerd reads its
# TLS files once, at start).
engine_signature() {
  dockerd_args "$1"
  printf '%s\n' "${DOCKERD_ARGS[@]}"
  # Nothing (not even an empty line) for an engine without extra environment.
  ((${#DOCKERD_ENV[@]} == 0)) || printf 'env %s\n' "${DOCKERD_ENV[@]}"
  openssl x509 -noout -fingerprint -sha256 -in "$TLS_DIR/server-cert.pem" 2>/dev/null || echo no-server-cert
}

# port_in_use PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Separate default address pools: without them both engines hand out 172.18.0.0/16, ... to
# user-defined networks, and two host bridges with the same subnet confuse the host's routing
# (and docker-proxy) — and may collide with a system Docker's networks (or with a second copy of
# these engines under another runtime root: move the pools with EFFECT_DOCKER_ENGINE_<ID>_POOL).
engine_pool() { printf 'base=%s,size=24' "${ENGINE_POOL[$1]}"; }

# docker_launch E: start engine E's dockerd unless a live one answers (or is still starting) with
# today's arguments. Returns without waiting for readiness, so both engines and the registries
# start in parallel.
docker_launch() {
  local e=$1 d sock port
  d=$(engine_dir "$e")
  sock=$(engine_sock "$e")
  port=$(engine_tls_port "$e")
  mkdir -p "$d"
  engine_signature "$e" >"$d/args.new"
  if alive "$d/pid" dockerd || alive "$d/launch.pid" dockerd; then
    if cmp -s "$d/args.new" "$d/args"; then
      rm -f "$d/args.new"
      if ping_engine "$e"; then
        log "engine $e: reusing running dockerd (pid $(pid_of "$d/pid"))"
      else
        log "engine $e: dockerd (pid $(pid_of "$d/pid")) runs but does not answer yet; waiting for it"
      fi
      # A running dockerd needs its containerd; if containerd died, dockerd can't run containers.
      alive "$(containerd_dir "$e")/pid" containerd ||
        die "engine $e: dockerd runs but its containerd does not; run '$0 stop' then '$0 start'"
      return 0
    fi
    log "engine $e: dockerd runs with other arguments (or TLS material); restarting it"
    docker_stop "$e"
  fi
  # Stale state from a crash or reboot: dockerd refuses to start over a live-looking pidfile,
  # and a leftover socket would make readiness checks lie. Data dirs are kept (images survive).
  rm -f "$d/pid" "$sock" "$d/launch.pid"
  # The TLS port must be free: otherwise readiness checks would find somebody else's server.
  if port_in_use "$port"; then
    rm -f "$d/args.new"
    die "engine $e: 127.0.0.1:$port is already in use by a process this script did not start; free it or set $(engine_key "$e")_TLS_PORT"
  fi
  mkdir -p "$d/data" "$d/run"
  # Our own (empty) daemon.json so a system /etc/docker/daemon.json (hosts, data-root, ...) is
  # never read by our engines.
  [[ -f $d/daemon.json ]] || echo '{}' >"$d/daemon.json"
  launch_containerd "$e"
  engine_bridge_up "$e"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "engine $e: starting $(engine_dockerd "$e") (TLS on 127.0.0.1:$port)"
  mv -f "$d/args.new" "$d/args"
  dockerd_args "$e"
  local SPAWN_ENV=("${DOCKERD_ENV[@]}")
  # The wrapper's pid goes to launch.pid (same process as dockerd) so an early crash is noticed
  # before dockerd wrote its pidfile.
  spawn "$d/launch.pid" "$d/log" "$(engine_path "$e")" "${DOCKERD_ARGS[@]}"
}

docker_wait() {
  local e=$1 d deadline
  d=$(engine_dir "$e")
  deadline=$((SECONDS + TIMEOUT))
  until ping_engine "$e"; do
    if ! alive "$d/pid" dockerd && ! alive "$d/launch.pid" dockerd; then
      log_tail "$d/log"
      die "engine $e: dockerd exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "engine $e: dockerd not ready after ${TIMEOUT}s (log: $d/log)"
    fi
    sleep 0.2
  done
  until ping_engine_tls "$e"; do
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "engine $e: answers on its socket but not over TLS on 127.0.0.1:$(engine_tls_port "$e") after ${TIMEOUT}s (log: $d/log)"
    fi
    sleep 0.2
  done
  rm -f "$d/launch.pid"
}

docker_stop() {
  local e=$1 d
  d=$(engine_dir "$e")
  if alive "$d/pid" dockerd || alive "$d/launch.pid" dockerd; then
    log "engine $e: stopping dockerd"
  fi
  # dockerd stops its containers (10 s default grace each, in parallel) before exiting: allow 60 s.
  alive "$d/pid" dockerd || cp -f "$d/launch.pid" "$d/pid" 2>/dev/null || true
  stop_pid "$d/pid" dockerd 60
  rm -f "$d/launch.pid"
  # Only after dockerd is gone: it needs containerd to stop its containers cleanly.
  stop_pid "$(containerd_dir "$e")/pid" containerd 20
  kill_leftover_shims "$(containerd_sock "$e")"
  engine_bridge_down "$e"
  rm -f "$(engine_sock "$e")" "$(containerd_sock "$e")" "$(containerd_sock "$e").ttrpc" "$(containerd_dir "$e")/debug.sock"
}

# engine_version E -> "VERSION API MIN_API" from GET /version. The top-level fields are the
# only place where "Version", "ApiVersion" and "MinAPIVersion" follow each other in this order
# (component details are alphabetical maps), so this needs no JSON tool.
engine_version() {
  local json
  json=$(curl -sf --max-time 10 --unix-socket "$(engine_sock "$1")" http://x/version) || return 1
  sed -n 's/.*"Version":"\([^"]*\)","ApiVersion":"\([^"]*\)","MinAPIVersion":"\([^"]*\)".*/\1 \2 \3/p' <<<"$json"
}

docker_alive() { alive "$(engine_dir "$1")/pid" dockerd; }

# docker_status E: one status line for engine E's dockerd and one for its TLS listener; returns 1
# if either is not up.
docker_status() {
  local e=$1 d v api port
  d=$(engine_dir "$e")
  if alive "$d/pid" dockerd && ping_engine "$e"; then
    read -r v api _ <<<"$(engine_version "$e")" || true
    printf '%-18s up    Docker %s, API %s, pid %s, unix://%s\n' "$e" "${v:-?}" "${api:-?}" "$(pid_of "$d/pid")" "$(engine_sock "$e")"
    port=$(sed -n 's|^tcp://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$d/args" 2>/dev/null || true)
    if [[ -n $port ]] && ping_engine_tls "$e" "$port"; then
      printf '%-18s up    tcp://127.0.0.1:%s (--tlsverify)\n' "$e TLS" "$port"
    else
      printf '%-18s DOWN  no TLS answer on tcp://127.0.0.1:%s\n' "$e TLS" "${port:-?}"
      return 1
    fi
  elif alive "$d/pid" dockerd && [[ -S $(engine_sock "$e") && ! -w $(engine_sock "$e") ]]; then
    printf '%-18s ?     dockerd pid %s runs, but this user may not use %s (root or group docker needed)\n' "$e" "$(pid_of "$d/pid")" "$(engine_sock "$e")"
    return 1
  elif alive "$d/pid" dockerd; then
    printf '%-18s DOWN  dockerd pid %s runs but does not answer on %s (log: %s/log)\n' "$e" "$(pid_of "$d/pid")" "$(engine_sock "$e")" "$d"
    return 1
  else
    printf '%-18s DOWN  not running\n' "$e"
    return 1
  fi
}
