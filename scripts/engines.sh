#!/usr/bin/env bash
# scripts/engines.sh — real Docker engines (and registries) for effect-docker's integration tests.
#
#   scripts/engines.sh start    install what is missing, start everything (idempotent), print where it is
#   scripts/engines.sh stop     stop everything this script started; keep installs, caches and data
#   scripts/engines.sh status   say what runs; exit 1 if something is not up
#   scripts/engines.sh env      print the env file written by `start`
#   scripts/engines.sh reset    stop, then delete the runtime root entirely
#
# What `start` provides (this automates the team's verified "test-engines" recipe):
#   engine A  Docker 20.10 from Debian 12's docker.io (API 1.41)          unix://$ROOT/a/docker.sock
#   engine B  newest docker.io + containerd of Debian unstable, unpacked   unix://$ROOT/b/docker.sock
#   registry  docker-registry with basic auth (testuser/testpass)           127.0.0.1:5000
#   registry  docker-registry without auth                                   127.0.0.1:5001
#   image     busybox:local on both engines, built from busybox-static (no network pulls, ever)
#   TLS       each engine also listens on tcp://127.0.0.1:<port> with --tlsverify (A 23760, B 23761),
#             with a test CA, a server and a client certificate generated under $ROOT/tls/
#   ssh       one sshd per engine on 127.0.0.1 (A 22220, B 22221), key-only root login, whose
#             sessions get DOCKER_HOST=<that engine's socket> (for ssh://…  `docker system dial-stdio`)
#   env file  $ROOT/engines.env (KEY=VALUE lines: sockets, registries, versions, API versions,
#             TLS and ssh endpoints with the client material to use them)
#
# Isolation: nothing here uses /var/run/docker.sock, /var/lib/docker, /etc/docker/daemon.json,
# /run/containerd/containerd.sock or the system's services. Each engine runs its own dockerd AND
# its own containerd (see launch_containerd for why); every daemon keeps its state under $ROOT,
# is started in its own session (setsid) so it outlives this script, and is stopped by pidfile
# only. Host paths the daemons still touch by design: /etc/docker/key.json (dockerd 20.10 creates
# its identity key there if missing), /run/docker/plugins (plugin discovery, empty) and
# /run/containerd/s (shim sockets, named by a hash of the containerd address, so no clashes),
# and /run/sshd (sshd's privilege separation directory, which sshd insists on).
#
# Layout under $ROOT:  a/, b/  (docker.sock, pid, log, daemon.json, data/, run/ = exec-root,
#                               containerd/ {containerd.sock, pid, log, config.toml, root/, state/})
#                      registry-auth/, registry-noauth/  (config.yml, htpasswd, data/, pid, log)
#                      tls/ (ca.pem, server-{cert,key}.pem, other-ca.pem, client/{ca,cert,key}.pem)
#                      ssh/ (host key, client key id_ed25519, authorized_keys, known_hosts,
#                            ssh_config for `ssh -F`, a/ and b/ = sshd_config, pid, log)
#                      busybox-rootfs.tar, engines.env
#
# Environment (all optional):
#   EFFECT_DOCKER_ENGINES_DIR            runtime root (default /tmp/effect-docker; keep it short:
#                                        unix socket paths must stay <= 107 bytes)
#   EFFECT_DOCKER_ENGINES_CACHE          where unstable's packages are unpacked (default /opt/effect-docker/engines)
#   EFFECT_DOCKER_REGISTRY_PORT          port of the registry with auth (default 5000)
#   EFFECT_DOCKER_REGISTRY_NOAUTH_PORT   port of the registry without auth (default 5001)
#   EFFECT_DOCKER_ENGINE_A_TLS_PORT      TLS listener of engine A on 127.0.0.1 (default 23760)
#   EFFECT_DOCKER_ENGINE_B_TLS_PORT      TLS listener of engine B on 127.0.0.1 (default 23761)
#   EFFECT_DOCKER_ENGINE_A_SSH_PORT      sshd leading to engine A, on 127.0.0.1 (default 22220)
#   EFFECT_DOCKER_ENGINE_B_SSH_PORT      sshd leading to engine B, on 127.0.0.1 (default 22221)
#   EFFECT_DOCKER_ENGINES_TIMEOUT        seconds to wait for a daemon to become ready (default 60)
#   EFFECT_DOCKER_DEBIAN_MIRROR          Debian mirror URI for unstable (default: the one apt already uses)

set -euo pipefail

# Stable, parseable output from the tools we call (apt, sort, ...), whatever the caller's locale.
export LC_ALL=C

ROOT=${EFFECT_DOCKER_ENGINES_DIR:-/tmp/effect-docker}
CACHE=${EFFECT_DOCKER_ENGINES_CACHE:-/opt/effect-docker/engines}
NEWEST=$CACHE/newest
REGISTRY_PORT=${EFFECT_DOCKER_REGISTRY_PORT:-5000}
REGISTRY_NOAUTH_PORT=${EFFECT_DOCKER_REGISTRY_NOAUTH_PORT:-5001}
TIMEOUT=${EFFECT_DOCKER_ENGINES_TIMEOUT:-60}
TLS_PORT_A=${EFFECT_DOCKER_ENGINE_A_TLS_PORT:-23760}
TLS_PORT_B=${EFFECT_DOCKER_ENGINE_B_TLS_PORT:-23761}
SSH_PORT_A=${EFFECT_DOCKER_ENGINE_A_SSH_PORT:-22220}
SSH_PORT_B=${EFFECT_DOCKER_ENGINE_B_SSH_PORT:-22221}
TLS_DIR=$ROOT/tls
SSH_DIR=$ROOT/ssh

ENV_FILE=$ROOT/engines.env
ROOTFS_TAR=$ROOT/busybox-rootfs.tar
# The lock lives next to $ROOT, not inside it, so that `reset` (which deletes $ROOT) and a
# concurrent `start` still serialise on the same file.
LOCK_FILE=$ROOT.lock
# Written into $ROOT at start; `reset` refuses to delete a directory that lacks it, so a mistyped
# EFFECT_DOCKER_ENGINES_DIR can never make us `rm -rf` somebody else's directory.
MARKER=$ROOT/.effect-docker-engines

TEST_IMAGE_REPO=busybox
TEST_IMAGE_TAG=local
REGISTRY_USER=testuser
REGISTRY_PASSWORD=testpass
# openssh-server: for the ssh:// transport tests. Its postinst may start the system's sshd service
# (port 22) where a service manager runs; ours are private instances on 127.0.0.1 only.
PACKAGES=(docker.io busybox-static docker-registry apache2-utils curl openssl openssh-server)

# Applets linked into the test image (the busybox-static binary provides them all; shell builtins
# such as `trap` need no link). Anything the installed busybox lacks is skipped with a warning.
APPLETS=(sh echo sleep cat ls true false env printf head yes wc tail
  kill id touch rm mkdir tr rev seq grep sed dd od uname hostname date stat base64
  md5sum sha256sum ps top sync test '[' tee xargs find which chmod ln mv cp du)

# A minimal PATH for the daemons: the OS directories only, so that a stray binary in /usr/local
# (e.g. another Docker installation) can never be picked up as containerd, a shim or runc.
BASE_PATH=/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'engines: %s\n' "$*" >&2; }
die() { printf 'engines: error: %s\n' "$*" >&2; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Exit code 2 = "cannot do this without root" (distinct from 1 = "something is broken/not up").
need_root() {
  is_root && return 0
  printf 'engines: error: %s needs root (run as root, e.g. with sudo).\n' "$*" >&2
  exit 2
}

validate_config() {
  [[ $ROOT == /* && $ROOT != / ]] || die "EFFECT_DOCKER_ENGINES_DIR must be an absolute path other than / (got '$ROOT')"
  [[ $CACHE == /* && $CACHE != / ]] || die "EFFECT_DOCKER_ENGINES_CACHE must be an absolute path other than / (got '$CACHE')"
  local v
  for v in REGISTRY_PORT REGISTRY_NOAUTH_PORT TIMEOUT TLS_PORT_A TLS_PORT_B SSH_PORT_A SSH_PORT_B; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
  done
  [[ $REGISTRY_PORT != "$REGISTRY_NOAUTH_PORT" ]] || die "the two registries need different ports"
  local ports
  ports=$(printf '%s\n' "$REGISTRY_PORT" "$REGISTRY_NOAUTH_PORT" "$TLS_PORT_A" "$TLS_PORT_B" "$SSH_PORT_A" "$SSH_PORT_B")
  [[ -z $(sort <<<"$ports" | uniq -d) ]] || die "registry, TLS and ssh ports must all differ (got $(tr '\n' ' ' <<<"$ports"))"
}

# ---------------------------------------------------------------------------------------------
# Per-engine layout. Two engines: a = Debian 12's docker.io, b = Debian unstable's, unpacked.
# ---------------------------------------------------------------------------------------------

engine_dir() { printf '%s/%s' "$ROOT" "$1"; }
engine_sock() { printf '%s/%s/docker.sock' "$ROOT" "$1"; }
engine_label() { case $1 in a) echo A ;; b) echo B ;; esac; }
engine_tls_port() { case $1 in a) echo "$TLS_PORT_A" ;; b) echo "$TLS_PORT_B" ;; esac; }
engine_ssh_port() { case $1 in a) echo "$SSH_PORT_A" ;; b) echo "$SSH_PORT_B" ;; esac; }

# The engine's own binaries come first on PATH: dockerd finds containerd, containerd-shim-runc-v2,
# docker-proxy and docker-init through PATH. Engine B's unpacked tree has no runc (deleted on
# unpack, it needs a newer glibc), so the lookup falls through to the OS runc.
engine_path() {
  case $1 in
    a) printf '%s' "$BASE_PATH" ;;
    b) printf '%s' "$NEWEST/usr/sbin:$NEWEST/usr/bin:$BASE_PATH" ;;
  esac
}
engine_dockerd() {
  case $1 in
    a) printf /usr/sbin/dockerd ;;
    b) printf '%s' "$NEWEST/usr/sbin/dockerd" ;;
  esac
}
engine_containerd() {
  case $1 in
    a) printf /usr/bin/containerd ;;
    b) printf '%s' "$NEWEST/usr/bin/containerd" ;;
  esac
}
# Separate default address pools: without them both engines hand out 172.18.0.0/16, ... to
# user-defined networks, and two host bridges with the same subnet confuse the host's routing
# (and docker-proxy) — and may collide with a system Docker's networks.
engine_pool() {
  case $1 in
    a) printf 'base=10.201.0.0/16,size=24' ;;
    b) printf 'base=10.202.0.0/16,size=24' ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Process helpers (pidfile based; never match processes by name alone).
# ---------------------------------------------------------------------------------------------

# alive PIDFILE COMM: the pidfile names a live (non-zombie) process whose name is COMM.
# Checking the name protects against pid reuse after a reboot or a crash.
alive() {
  local pid stat state
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${stat##*) }
  [[ ${state%% *} != Z ]]
}

pid_of() { cat "$1" 2>/dev/null || true; }

# spawn PIDFILE LOGFILE PATH CMD...: start CMD detached from this script (new session, no
# controlling terminal, stdin from /dev/null) so it survives the script's exit and any
# process-group kill aimed at the caller. The wrapper shell writes its own pid and then execs
# CMD, so the pidfile is exact even if setsid had to fork.
spawn() {
  local pidfile=$1 logfile=$2 path=$3
  shift 3
  rm -f "$pidfile"
  # 8>&- 9>&-: the daemon must not inherit our lock files' descriptors, or it would hold the
  # locks for its whole life and every later start/stop would wait for it.
  # shellcheck disable=SC2016  # $$ and "$@" are meant for the inner shell
  setsid env PATH="$path" bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
  # Wait (briefly) until the pidfile is written and the wrapper has exec'ed CMD, so that callers
  # checking the process by name (see `alive`) never mistake the wrapper for a dead daemon.
  local i pid=
  for ((i = 0; i < 100; i++)); do
    [[ -z $pid ]] && pid=$(cat "$pidfile" 2>/dev/null || true)
    if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null || echo gone) != bash ]]; then
      return 0
    fi
    sleep 0.05
  done
  die "could not start $1 (pidfile $pidfile)"
}

# stop_pid PIDFILE COMM TIMEOUT: SIGTERM, wait up to TIMEOUT seconds, then SIGKILL.
stop_pid() {
  local pidfile=$1 comm=$2 timeout=$3 pid deadline
  if ! alive "$pidfile" "$comm"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(pid_of "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while alive "$pidfile" "$comm" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pidfile" "$comm"; then
    log "$comm (pid $pid) did not exit within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while alive "$pidfile" "$comm" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  rm -f "$pidfile"
}

log_tail() {
  local f=$1
  [[ -f $f ]] || return 0
  printf -- '----- last lines of %s -----\n' "$f" >&2
  tail -n 40 "$f" >&2 || true
  printf -- '-----\n' >&2
}

ping_engine() { curl -sf --max-time 5 --unix-socket "$(engine_sock "$1")" http://x/_ping >/dev/null 2>&1; }

# ping_engine_tls E [PORT]: engine E answers /_ping over TLS, with our client certificate.
ping_engine_tls() {
  curl -sf --max-time 5 --cacert "$TLS_DIR/ca.pem" --cert "$TLS_DIR/client/cert.pem" --key "$TLS_DIR/client/key.pem" \
    "https://127.0.0.1:${2:-$(engine_tls_port "$1")}/_ping" >/dev/null 2>&1
}

http_code() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------------------------

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || echo "$p"
  done
}

newest_present() { [[ -x $NEWEST/usr/sbin/dockerd && -x $NEWEST/usr/bin/containerd && -f $NEWEST/.versions ]]; }

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]})) || return 0
  need_root "installing ${missing[*]}"
  local logf=$ROOT/install.log
  log "installing ${missing[*]} with apt (log: $logf)"
  # `apt-get update` only when we actually install something: it is slow and not needed otherwise.
  # docker.io's and docker-registry's postinst may try to start their system services; we neither
  # prevent nor rely on that: our daemons use their own sockets, state and ports.
  # DPkg::Lock::Timeout waits for e.g. unattended-upgrades instead of failing a fresh CI machine.
  if ! { apt-get -q -o DPkg::Lock::Timeout=300 update &&
    DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
      -o DPkg::Lock::Timeout=300 install "${missing[@]}"; } </dev/null >"$logf" 2>&1; then
    log_tail "$logf"
    die "apt-get failed installing ${missing[*]}"
  fi
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) || die "still not installed after apt-get: ${missing[*]}"
}

# Mirror for unstable: reuse the URI the system's apt already uses (the machine may only reach
# that mirror), read from the deb822 sources file Debian 12 ships, else from a one-line sources.list.
debian_mirror() {
  local uri=${EFFECT_DOCKER_DEBIAN_MIRROR:-}
  if [[ -z $uri && -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
  fi
  [[ -n $uri ]] || die "cannot find a Debian mirror URI in /etc/apt (set EFFECT_DOCKER_DEBIAN_MIRROR)"
  printf '%s' "$uri"
}

# Engine B: Debian unstable's docker.io and containerd, downloaded with a PRIVATE apt
# configuration (own sources list, lists dir, cache dir, empty dpkg status and no pinning) so
# the system's apt sources and package state are never touched, then unpacked (not installed)
# into $NEWEST. Reused as long as it is there; delete $NEWEST to fetch today's versions.
fetch_newest() {
  newest_present && return 0
  need_root "downloading Debian unstable's docker.io into $CACHE"
  mkdir -p "$CACHE"
  # Two concurrent first starts (e.g. with different runtime roots) share this cache.
  exec 8>"$CACHE/.lock"
  flock -w 600 8 || die "timed out waiting for $CACHE/.lock"
  if newest_present; then exec 8>&-; return 0; fi

  local uri aptd logf dl tmp f
  uri=$(debian_mirror)
  aptd=$CACHE/apt
  logf=$CACHE/fetch.log
  mkdir -p "$aptd/lists/partial" "$aptd/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri sid main" >"$aptd/sources.list"
  local opts=(
    -o "Dir::Etc::SourceList=$aptd/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$aptd/lists" -o "Dir::Cache=$aptd/cache"
    -o Dir::State::status=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  )
  log "fetching docker.io + containerd from Debian unstable ($uri) into $NEWEST (log: $logf)"
  dl=$(mktemp -d "$CACHE/download.XXXXXX")
  tmp=$(mktemp -d "$CACHE/newest.XXXXXX")
  # apt downloads as the unprivileged _apt user; let it write into the download directory.
  chmod 755 "$dl"
  if id _apt >/dev/null 2>&1; then chown _apt "$dl"; fi
  if ! { apt-get -q "${opts[@]}" update &&
    (cd "$dl" && apt-get -q "${opts[@]}" download docker.io containerd); } </dev/null >"$logf" 2>&1; then
    log_tail "$logf"
    rm -rf "$dl" "$tmp"
    die "could not download docker.io/containerd from Debian unstable"
  fi
  : >"$tmp/.versions"
  for f in "$dl"/*.deb; do
    dpkg-deb -x "$f" "$tmp"
    printf '%s=%s\n' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)" >>"$tmp/.versions"
  done
  # Unstable's runc needs glibc 2.38 (Debian 12 has 2.36): remove it so the OS runc is used.
  # dockerd and containerd themselves only need glibc 2.34 and run fine.
  rm -f "$tmp/usr/bin/runc" "$tmp/usr/sbin/runc"
  # Publish atomically: a half-unpacked tree must never look reusable.
  chmod 755 "$tmp"
  rm -rf "$NEWEST"
  mv "$tmp" "$NEWEST"
  rm -rf "$dl"
  exec 8>&-
  log "unpacked: $(tr '\n' ' ' <"$NEWEST/.versions")"
}

# ---------------------------------------------------------------------------------------------
# containerd, one private instance per engine
# ---------------------------------------------------------------------------------------------
#
# Why not let dockerd start its "managed" containerd: dockerd only does that when
# /run/containerd/containerd.sock does not exist. On a machine where the system containerd runs
# (any systemd host after installing docker.io), both engines would silently attach to that
# shared containerd (same "moby" namespace, and engine B would not use unstable's containerd).
# So each engine gets its own containerd with its own sockets and state, and dockerd is pointed
# at it with --containerd.

containerd_dir() { printf '%s/containerd' "$(engine_dir "$1")"; }
containerd_sock() { printf '%s/containerd.sock' "$(containerd_dir "$1")"; }

write_containerd_config() {
  local e=$1 d ver version disabled
  d=$(containerd_dir "$e")
  # containerd 1.x (engine A) reads config version 2; containerd 2.x (engine B) wants version 3
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
      die "containerd of engine $(engine_label "$e") exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "containerd of engine $(engine_label "$e") not ready after ${TIMEOUT}s"
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

# dockerd_args E: engine E's dockerd command line (into DOCKERD_ARGS). It is also the engine's
# "configuration": a running dockerd started with other arguments (or other TLS material) is
# restarted by launch_engine.
# --bridge=none --iptables=false --ip6tables=false: no default bridge, no NAT rules, nothing
# touches the host's firewall. dockerd writes $d/pid itself (--pidfile). The TCP listener is
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
    --bridge=none --iptables=false --ip6tables=false
    --default-address-pool "$(engine_pool "$e")"
  )
}

# The launch signature: the arguments, plus the server certificate's fingerprint (dockerd reads its
# TLS files once, at start).
engine_signature() {
  dockerd_args "$1"
  printf '%s\n' "${DOCKERD_ARGS[@]}"
  openssl x509 -noout -fingerprint -sha256 -in "$TLS_DIR/server-cert.pem" 2>/dev/null || echo no-server-cert
}

# port_in_use PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# launch_engine E: start engine E's dockerd unless a live one answers (or is still starting) with
# today's arguments. Returns without waiting for readiness, so both engines and the registries
# start in parallel.
launch_engine() {
  local e=$1 d sock label port
  d=$(engine_dir "$e")
  sock=$(engine_sock "$e")
  label=$(engine_label "$e")
  port=$(engine_tls_port "$e")
  mkdir -p "$d"
  engine_signature "$e" >"$d/args.new"
  if alive "$d/pid" dockerd || alive "$d/launch.pid" dockerd; then
    if cmp -s "$d/args.new" "$d/args"; then
      rm -f "$d/args.new"
      if ping_engine "$e"; then
        log "engine $label: reusing running dockerd (pid $(pid_of "$d/pid"))"
      else
        log "engine $label: dockerd (pid $(pid_of "$d/pid")) runs but does not answer yet; waiting for it"
      fi
      # A running dockerd needs its containerd; if containerd died, dockerd can't run containers.
      alive "$(containerd_dir "$e")/pid" containerd ||
        die "engine $label: dockerd runs but its containerd does not; run '$0 stop' then '$0 start'"
      return 0
    fi
    log "engine $label: dockerd runs with other arguments (or TLS material); restarting it"
    stop_engine "$e"
  fi
  # Stale state from a crash or reboot: dockerd refuses to start over a live-looking pidfile,
  # and a leftover socket would make readiness checks lie. Data dirs are kept (images survive).
  rm -f "$d/pid" "$sock" "$d/launch.pid"
  # The TLS port must be free: otherwise readiness checks would find somebody else's server.
  if port_in_use "$port"; then
    rm -f "$d/args.new"
    die "engine $label: 127.0.0.1:$port is already in use by a process this script did not start; free it or set EFFECT_DOCKER_ENGINE_${label}_TLS_PORT"
  fi
  mkdir -p "$d/data" "$d/run"
  # Our own (empty) daemon.json so a system /etc/docker/daemon.json (hosts, data-root, ...) is
  # never read by our engines.
  [[ -f $d/daemon.json ]] || echo '{}' >"$d/daemon.json"
  launch_containerd "$e"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "engine $label: starting $(engine_dockerd "$e") (TLS on 127.0.0.1:$port)"
  mv -f "$d/args.new" "$d/args"
  dockerd_args "$e"
  # The wrapper's pid goes to launch.pid (same process as dockerd) so an early crash is noticed
  # before dockerd wrote its pidfile.
  spawn "$d/launch.pid" "$d/log" "$(engine_path "$e")" "${DOCKERD_ARGS[@]}"
}

wait_engine() {
  local e=$1 d label deadline
  d=$(engine_dir "$e")
  label=$(engine_label "$e")
  deadline=$((SECONDS + TIMEOUT))
  until ping_engine "$e"; do
    if ! alive "$d/pid" dockerd && ! alive "$d/launch.pid" dockerd; then
      log_tail "$d/log"
      die "engine $label: dockerd exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "engine $label: dockerd not ready after ${TIMEOUT}s (log: $d/log)"
    fi
    sleep 0.2
  done
  until ping_engine_tls "$e"; do
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "engine $label: answers on its socket but not over TLS on 127.0.0.1:$(engine_tls_port "$e") after ${TIMEOUT}s (log: $d/log)"
    fi
    sleep 0.2
  done
  rm -f "$d/launch.pid"
}

stop_engine() {
  local e=$1 d label
  d=$(engine_dir "$e")
  label=$(engine_label "$e")
  if alive "$d/pid" dockerd || alive "$d/launch.pid" dockerd; then
    log "engine $label: stopping dockerd"
  fi
  # dockerd stops its containers (10 s default grace each, in parallel) before exiting: allow 60 s.
  alive "$d/pid" dockerd || cp -f "$d/launch.pid" "$d/pid" 2>/dev/null || true
  stop_pid "$d/pid" dockerd 60
  rm -f "$d/launch.pid"
  # Only after dockerd is gone: it needs containerd to stop its containers cleanly.
  stop_pid "$(containerd_dir "$e")/pid" containerd 20
  kill_leftover_shims "$(containerd_sock "$e")"
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

# ---------------------------------------------------------------------------------------------
# Test image
# ---------------------------------------------------------------------------------------------

# The rootfs tar: static busybox plus applet symlinks, a writable /tmp and a minimal
# /etc/passwd + /etc/group (so `id`, `User: "nobody"` work). Built deterministically (sorted,
# root-owned, mtime 0) so its layer digest only changes when busybox does. Tests reuse the tar.
build_rootfs() {
  [[ -s $ROOTFS_TAR ]] && return 0
  local t applets a
  t=$(mktemp -d "$ROOT/rootfs.XXXXXX")
  mkdir -p "$t/bin" "$t/etc" "$t/root" "$t/tmp"
  chmod 1777 "$t/tmp"
  chmod 755 "$t"
  cp /bin/busybox "$t/bin/busybox"
  applets=" $(/bin/busybox --list | tr '\n' ' ') "
  for a in "${APPLETS[@]}"; do
    if [[ $applets == *" $a "* ]]; then
      ln -s busybox "$t/bin/$a"
    else
      log "warning: busybox has no '$a' applet; not linked in the test image"
    fi
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$t/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$t/etc/group"
  tar -C "$t" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$ROOTFS_TAR.tmp" .
  mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$t"
}

# Import busybox:local into engine E unless it is there already (an engine never pulls it).
ensure_image() {
  local e=$1 sock code out label
  sock=$(engine_sock "$e")
  label=$(engine_label "$e")
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
    "http://x/images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json" || true)
  case $code in
    200) return 0 ;;
    404) ;;
    *) die "engine $label: GET /images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json answered '$code'" ;;
  esac
  log "engine $label: importing $TEST_IMAGE_REPO:$TEST_IMAGE_TAG from $ROOTFS_TAR"
  # changes=CMD ["/bin/sh"], URL-encoded.
  out=$(curl -sS --max-time 120 --unix-socket "$sock" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary "@$ROOTFS_TAR" \
    "http://x/images/create?fromSrc=-&repo=$TEST_IMAGE_REPO&tag=$TEST_IMAGE_TAG&changes=CMD%20%5B%22%2Fbin%2Fsh%22%5D") ||
    die "engine $label: image import request failed: $out"
  # Errors of streamed endpoints arrive inside a 200 response.
  [[ $out != *'"error'* ]] || die "engine $label: image import failed: $out"
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
    "http://x/images/$TEST_IMAGE_REPO:$TEST_IMAGE_TAG/json" || true)
  [[ $code == 200 ]] || die "engine $label: $TEST_IMAGE_REPO:$TEST_IMAGE_TAG missing after import ($code)"
}

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

# ---------------------------------------------------------------------------------------------
# TLS material: a test CA, a server certificate for 127.0.0.1/localhost, a client certificate,
# and an unrelated second CA (for "wrong CA" tests). Generated once; regenerated only when a
# file is missing or a certificate expires within a day. Keys stay readable by root only: the
# client key opens the engines to whoever can read it.
# ---------------------------------------------------------------------------------------------

tls_complete() {
  local f
  for f in ca.pem ca-key.pem server-cert.pem server-key.pem other-ca.pem client/ca.pem client/cert.pem client/key.pem; do
    [[ -s $TLS_DIR/$f ]] || return 1
  done
  openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server-cert.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$TLS_DIR/client/cert.pem" >/dev/null 2>&1
}

ensure_tls() {
  tls_complete && return 0
  log "generating a test CA, server and client certificates in $TLS_DIR"
  local w
  w=$(mktemp -d "$ROOT/tls.XXXXXX")
  # EC P-256 keys: fast to make, and both Go (dockerd) and Node read them.
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  if ! (
    set -e
    umask 077
    cd "$w"
    mkdir client
    openssl req -x509 "${key[@]}" -days 3650 -subj "/CN=effect-docker test CA" -keyout ca-key.pem -out ca.pem
    openssl req -x509 "${key[@]}" -days 3650 -subj "/CN=effect-docker unrelated CA" -keyout other-ca-key.pem -out other-ca.pem
    openssl req "${key[@]}" -subj "/CN=localhost" -keyout server-key.pem -out server.csr
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=critical,CA:FALSE" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
      -extfile server.ext -out server-cert.pem
    openssl req "${key[@]}" -subj "/CN=effect-docker test client" -keyout client/key.pem -out client.csr
    printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature" \
      "basicConstraints=critical,CA:FALSE" >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
      -extfile client.ext -out client/cert.pem
    cp ca.pem client/ca.pem
    rm -f ./*.csr ./*.ext ./*.srl other-ca-key.pem
    # Certificates are public; keys are not.
    chmod 644 ca.pem other-ca.pem server-cert.pem client/ca.pem client/cert.pem
    chmod 755 . client
  ) >"$ROOT/tls.log" 2>&1; then
    log_tail "$ROOT/tls.log"
    rm -rf "$w"
    die "could not generate the TLS test material (log: $ROOT/tls.log)"
  fi
  rm -rf "$TLS_DIR"
  mv "$w" "$TLS_DIR"
}

# ---------------------------------------------------------------------------------------------
# sshd, one private instance per engine (foreground -D: daemon mode fails in some sandboxes with
# "daemon() failed: No such device"). Key-only root login on 127.0.0.1; each session gets
# DOCKER_HOST=<its engine's socket>, so `ssh … docker system dial-stdio` reaches that engine.
# ---------------------------------------------------------------------------------------------

sshd_dir() { printf '%s/%s' "$SSH_DIR" "$1"; }
# The port a running sshd was started with (status must not depend on today's env).
sshd_running_port() { sed -n 's/^Port \([0-9]*\)$/\1/p' "$(sshd_dir "$1")/sshd_config" 2>/dev/null || true; }

# Keys, authorized_keys, known_hosts and the client config tests pass as `ssh -F`.
ensure_ssh_material() {
  mkdir -p "$SSH_DIR"
  chmod 700 "$SSH_DIR"
  [[ -s $SSH_DIR/host_ed25519_key ]] ||
    ssh-keygen -q -t ed25519 -N '' -C effect-docker-test-host -f "$SSH_DIR/host_ed25519_key"
  [[ -s $SSH_DIR/id_ed25519 ]] ||
    ssh-keygen -q -t ed25519 -N '' -C effect-docker-test-client -f "$SSH_DIR/id_ed25519"
  cp -f "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  local hostkey port
  hostkey=$(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519_key.pub")
  : >"$SSH_DIR/known_hosts.new"
  for port in "$SSH_PORT_A" "$SSH_PORT_B"; do
    echo "[127.0.0.1]:$port $hostkey" >>"$SSH_DIR/known_hosts.new"
  done
  mv -f "$SSH_DIR/known_hosts.new" "$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/ssh_config.new" <<CFG
# Client configuration for the test sshds (ssh -F $SSH_DIR/ssh_config root@127.0.0.1 -p PORT).
Host 127.0.0.1 localhost
  IdentityFile $SSH_DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSH_DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ControlMaster no
  ControlPath none
CFG
  mv -f "$SSH_DIR/ssh_config.new" "$SSH_DIR/ssh_config"
}

write_sshd_config() {
  local e=$1 out=$2
  cat >"$out" <<CFG
Port $(engine_ssh_port "$e")
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_ed25519_key
AuthorizedKeysFile $SSH_DIR/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
SetEnv DOCKER_HOST=unix://$(engine_sock "$e")
CFG
}

launch_sshd() {
  local e=$1 d port label
  d=$(sshd_dir "$e")
  port=$(engine_ssh_port "$e")
  label=$(engine_label "$e")
  mkdir -p "$d" /run/sshd
  chmod 755 /run/sshd
  write_sshd_config "$e" "$d/sshd_config.new"
  if alive "$d/pid" sshd; then
    if cmp -s "$d/sshd_config.new" "$d/sshd_config"; then
      rm -f "$d/sshd_config.new"
      log "ssh $label: reusing running sshd (pid $(pid_of "$d/pid")) on 127.0.0.1:$port"
      return 0
    fi
    log "ssh $label: configuration changed; restarting"
    stop_pid "$d/pid" sshd 10
  fi
  rm -f "$d/pid"
  if port_in_use "$port"; then
    die "ssh $label: 127.0.0.1:$port is already in use by a process this script did not start; free it or set EFFECT_DOCKER_ENGINE_${label}_SSH_PORT"
  fi
  if ! /usr/sbin/sshd -t -f "$d/sshd_config.new" >"$d/check.log" 2>&1; then
    log_tail "$d/check.log"
    die "ssh $label: sshd rejects its configuration ($d/sshd_config.new)"
  fi
  mv -f "$d/sshd_config.new" "$d/sshd_config"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "ssh $label: starting sshd on 127.0.0.1:$port (sessions use engine $label)"
  # -e: log to stderr (our log file) instead of syslog.
  spawn "$d/pid" "$d/log" "$BASE_PATH" /usr/sbin/sshd -D -e -f "$d/sshd_config"
  touch "$d/fresh"
}

# wait_sshd E: the port answers with an SSH banner; after a fresh start, also one real round trip
# through it to the engine (the docker CLI on this machine, as the remote side, dials the engine).
wait_sshd() {
  local e=$1 d port label deadline banner out
  d=$(sshd_dir "$e")
  port=$(engine_ssh_port "$e")
  label=$(engine_label "$e")
  deadline=$((SECONDS + TIMEOUT))
  while :; do
    banner=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && timeout 5 head -c 7 <&3) 2>/dev/null || true)
    [[ $banner == SSH-2.0 ]] && break
    if ! alive "$d/pid" sshd; then
      log_tail "$d/log"
      die "ssh $label: sshd exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "ssh $label: no SSH banner on 127.0.0.1:$port after ${TIMEOUT}s"
    fi
    sleep 0.1
  done
  [[ -f $d/fresh ]] || return 0
  if ! out=$(timeout 30 ssh -F "$SSH_DIR/ssh_config" -p "$port" root@127.0.0.1 \
    docker version --format '{{.Server.Version}}' </dev/null 2>&1); then
    log_tail "$d/log"
    die "ssh $label: docker over ssh://root@127.0.0.1:$port does not work: $out"
  fi
  rm -f "$d/fresh"
  log "ssh $label: ssh://root@127.0.0.1:$port reaches Docker $out"
}

# ---------------------------------------------------------------------------------------------
# Env file and summary
# ---------------------------------------------------------------------------------------------

write_env_file() {
  local e L v api min
  {
    echo "EFFECT_DOCKER_ENGINES_DIR=$ROOT"
    for e in a b; do
      L=$(engine_label "$e")
      read -r v api min <<<"$(engine_version "$e")" || true
      [[ -n ${v:-} && -n ${api:-} ]] || die "engine $L: could not read Version/ApiVersion from GET /version"
      echo "EFFECT_DOCKER_ENGINE_$L=unix://$(engine_sock "$e")"
      echo "EFFECT_DOCKER_ENGINE_${L}_VERSION=$v"
      echo "EFFECT_DOCKER_ENGINE_${L}_API=$api"
      echo "EFFECT_DOCKER_ENGINE_${L}_MIN_API=$min"
      echo "EFFECT_DOCKER_ENGINE_${L}_TLS=tcp://127.0.0.1:$(engine_tls_port "$e")"
      echo "EFFECT_DOCKER_ENGINE_${L}_SSH=ssh://root@127.0.0.1:$(engine_ssh_port "$e")"
    done
    # As DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), with DOCKER_TLS_VERIFY=1.
    echo "EFFECT_DOCKER_TLS_CERT_PATH=$TLS_DIR/client"
    echo "EFFECT_DOCKER_TLS_OTHER_CA=$TLS_DIR/other-ca.pem"
    # As `ssh -F`: identity, known hosts, BatchMode.
    echo "EFFECT_DOCKER_SSH_CONFIG=$SSH_DIR/ssh_config"
    echo "EFFECT_DOCKER_REGISTRY=127.0.0.1:$REGISTRY_PORT"
    echo "EFFECT_DOCKER_REGISTRY_USER=$REGISTRY_USER"
    echo "EFFECT_DOCKER_REGISTRY_PASSWORD=$REGISTRY_PASSWORD"
    echo "EFFECT_DOCKER_REGISTRY_NOAUTH=127.0.0.1:$REGISTRY_NOAUTH_PORT"
    echo "EFFECT_DOCKER_TEST_IMAGE=$TEST_IMAGE_REPO:$TEST_IMAGE_TAG"
    echo "EFFECT_DOCKER_ROOTFS_TAR=$ROOTFS_TAR"
  } >"$ENV_FILE.tmp"
  # Readable by anyone: tests may run as a user other than the one that started the engines.
  chmod 644 "$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

env_value() { sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | head -n 1; }

print_summary() {
  local L
  echo "effect-docker test engines (runtime root $ROOT)"
  for L in A B; do
    printf '  engine %s    Docker %-16s API %-5s %s\n' "$L" "$(env_value "EFFECT_DOCKER_ENGINE_${L}_VERSION")" \
      "$(env_value "EFFECT_DOCKER_ENGINE_${L}_API")" "$(env_value "EFFECT_DOCKER_ENGINE_$L")"
  done
  printf '  registry    %-22s basic auth %s / %s\n' "$(env_value EFFECT_DOCKER_REGISTRY)" \
    "$(env_value EFFECT_DOCKER_REGISTRY_USER)" "$(env_value EFFECT_DOCKER_REGISTRY_PASSWORD)"
  printf '  registry    %-22s no auth\n' "$(env_value EFFECT_DOCKER_REGISTRY_NOAUTH)"
  printf '  image       %-22s on both engines (rootfs tar %s)\n' "$(env_value EFFECT_DOCKER_TEST_IMAGE)" \
    "$(env_value EFFECT_DOCKER_ROOTFS_TAR)"
  for L in A B; do
    printf '  engine %s    %-29s --tlsverify; client material DOCKER_CERT_PATH=%s\n' "$L" \
      "$(env_value "EFFECT_DOCKER_ENGINE_${L}_TLS")" "$(env_value EFFECT_DOCKER_TLS_CERT_PATH)"
    printf '  engine %s    %-29s ssh -F %s\n' "$L" "$(env_value "EFFECT_DOCKER_ENGINE_${L}_SSH")" \
      "$(env_value EFFECT_DOCKER_SSH_CONFIG)"
  done
  echo "  logs        $ROOT/{a,b}/log, $ROOT/{a,b}/containerd/log, $ROOT/registry-{auth,noauth}/log, $SSH_DIR/{a,b}/log"
  echo "env file: $ENV_FILE    (load with: set -a; . $ENV_FILE; set +a)"
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

# all_up: quiet check used by status-like decisions.
all_up() {
  local e k
  for e in a b; do
    alive "$(engine_dir "$e")/pid" dockerd && ping_engine "$e" || return 1
  done
  for k in auth noauth; do
    alive "$(registry_dir "$k")/pid" docker-registry || return 1
  done
  for e in a b; do
    alive "$(sshd_dir "$e")/pid" sshd || return 1
  done
  [[ -f $ENV_FILE ]]
}

check_socket_paths() {
  # Longest unix sockets we (or the daemons) create under $ROOT; the kernel limit is 107 bytes.
  local p
  for p in "$ROOT/b/containerd/containerd.sock.ttrpc" "$ROOT/b/run/libnetwork/0123456789ab.sock" "$ROOT/b/docker.sock"; do
    ((${#p} <= 107)) || die "EFFECT_DOCKER_ENGINES_DIR is too long: $p would exceed the 107-byte unix socket limit"
  done
}

lock() {
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another engines.sh is still running (lock $LOCK_FILE)"
}

cmd_start() {
  local t0=$SECONDS missing=()
  if ! is_root; then
    # Without root we can neither install nor start dockerd; we can only confirm it all runs.
    mapfile -t missing < <(missing_packages)
    newest_present || missing+=("$NEWEST (Debian unstable's docker.io)")
    ((${#missing[@]} == 0)) || need_root "installing ${missing[*]}"
    if all_up; then
      print_summary
      return 0
    fi
    if [[ -S $(engine_sock a) && ! -w $(engine_sock a) ]]; then
      printf 'engines: error: this user may not use %s: run as root (or, if the engines run, as a member of group docker).\n' "$(engine_sock a)" >&2
      exit 2
    fi
    need_root "starting dockerd"
  fi
  check_socket_paths
  mkdir -p "$ROOT"
  lock
  touch "$MARKER"
  install_packages
  fetch_newest
  ensure_tls
  ensure_ssh_material

  launch_engine a
  launch_engine b
  launch_registry auth
  launch_registry noauth
  launch_sshd a
  launch_sshd b
  wait_engine a
  wait_engine b
  wait_registry auth
  wait_registry noauth
  wait_sshd a
  wait_sshd b

  build_rootfs
  ensure_image a
  ensure_image b
  write_env_file
  log "ready in $((SECONDS - t0))s"
  print_summary
}

cmd_stop() {
  need_root "stopping the engines"
  [[ -d $ROOT ]] || { log "nothing to stop ($ROOT does not exist)"; return 0; }
  lock
  local k e pa pb
  for e in a b; do
    if alive "$(sshd_dir "$e")/pid" sshd; then log "ssh $(engine_label "$e"): stopping sshd"; fi
    stop_pid "$(sshd_dir "$e")/pid" sshd 10
  done
  # Both engines in parallel: each may need its containers' full stop grace period (10 s).
  stop_engine a &
  pa=$!
  stop_engine b &
  pb=$!
  wait "$pa"
  wait "$pb"
  for k in auth noauth; do
    if alive "$(registry_dir "$k")/pid" docker-registry; then log "registry $k: stopping"; fi
    stop_pid "$(registry_dir "$k")/pid" docker-registry 10
  done
  # With both dockerds gone, nothing under $ROOT should stay mounted (dockerd leaves its data-root
  # bind mount behind, and container mounts after a crash); a later start recreates what it needs.
  if ! alive "$ROOT/a/pid" dockerd && ! alive "$ROOT/b/pid" dockerd; then
    unmount_leftovers
  fi
  log "stopped (data kept under $ROOT; '$0 reset' deletes it)"
}

cmd_status() {
  local ok=0 e L d v api min k port want code pid
  for e in a b; do
    L=$(engine_label "$e")
    d=$(engine_dir "$e")
    if alive "$d/pid" dockerd && ping_engine "$e"; then
      read -r v api min <<<"$(engine_version "$e")" || true
      printf 'engine %s           up    Docker %s, API %s, pid %s, unix://%s\n' "$L" "${v:-?}" "${api:-?}" "$(pid_of "$d/pid")" "$(engine_sock "$e")"
      port=$(sed -n 's|^tcp://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$d/args" 2>/dev/null || true)
      if [[ -n $port ]] && ping_engine_tls "$e" "$port"; then
        printf 'engine %s TLS       up    tcp://127.0.0.1:%s (--tlsverify)\n' "$L" "$port"
      else
        printf 'engine %s TLS       DOWN  no TLS answer on tcp://127.0.0.1:%s\n' "$L" "${port:-?}"
        ok=1
      fi
    elif alive "$d/pid" dockerd && [[ -S $(engine_sock "$e") && ! -w $(engine_sock "$e") ]]; then
      printf 'engine %s           ?     dockerd pid %s runs, but this user may not use %s (root or group docker needed)\n' "$L" "$(pid_of "$d/pid")" "$(engine_sock "$e")"
      ok=1
    elif alive "$d/pid" dockerd; then
      printf 'engine %s           DOWN  dockerd pid %s runs but does not answer on %s (log: %s/log)\n' "$L" "$(pid_of "$d/pid")" "$(engine_sock "$e")" "$d"
      ok=1
    else
      printf 'engine %s           DOWN  not running\n' "$L"
      ok=1
    fi
  done
  for k in auth noauth; do
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
        ok=1
      fi
    else
      printf 'registry %-9s DOWN  not running\n' "$k"
      ok=1
    fi
  done
  for e in a b; do
    L=$(engine_label "$e")
    d=$(sshd_dir "$e")
    port=$(sshd_running_port "$e")
    if alive "$d/pid" sshd; then
      printf 'ssh %s              up    ssh://root@127.0.0.1:%s, pid %s\n' "$L" "${port:-?}" "$(pid_of "$d/pid")"
    else
      printf 'ssh %s              DOWN  not running\n' "$L"
      ok=1
    fi
  done
  if [[ -f $ENV_FILE ]]; then echo "env file: $ENV_FILE"; fi
  return "$ok"
}

cmd_env() {
  [[ -f $ENV_FILE ]] || die "no env file at $ENV_FILE; run '$0 start' first"
  cat "$ENV_FILE"
}

# Unmount anything a killed dockerd left mounted under $ROOT (container rootfs, netns files,
# overlay2's private bind mount), deepest first, so deleting $ROOT cannot reach into a mount.
unmount_leftovers() {
  local m
  awk -v r="$ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
  done
}

cmd_reset() {
  need_root "reset"
  if [[ -e $ROOT && ! -f $MARKER ]]; then
    die "$ROOT was not created by this script (no $MARKER); not deleting it"
  fi
  cmd_stop
  [[ -d $ROOT ]] || return 0
  unmount_leftovers
  # --one-file-system: never descend into something still mounted under $ROOT.
  rm -rf --one-file-system "$ROOT"
  log "deleted $ROOT"
}

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

main() {
  [[ $# -eq 1 ]] || usage 2
  validate_config
  case $1 in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 ;;
  esac
}

main "$@"
