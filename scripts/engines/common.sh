# shellcheck shell=bash
# shellcheck disable=SC2034  # the configuration below is read by the other parts
# scripts/engines/common.sh — configuration, logging, process helpers, per-engine layout, locking
# Sourced first by scripts/engines.sh (which sets -euo pipefail): the configuration every part
# reads, and the helpers they share.
#
# Layout under $ROOT:  a/, b/  (docker.sock, pid, log, daemon.json, data/, run/ = exec-root,
#                               containerd/ {containerd.sock, pid, log, config.toml, root/, state/})
#                      registry-auth/, registry-noauth/  (config.yml, htpasswd, data/, pid, log)
#                      tls/ (ca.pem, server-{cert,key}.pem, other-ca.pem, client/{ca,cert,key}.pem)
#                      ssh/ (host key, client key id_ed25519, authorized_keys, known_hosts,
#                            ssh_config for `ssh -F`, a/ and b/ = sshd_config, pid, log)
#                      busybox-rootfs.tar, engines.env

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

# Unmount anything a killed dockerd left mounted under $ROOT (container rootfs, netns files,
# overlay2's private bind mount), deepest first, so deleting $ROOT cannot reach into a mount.
unmount_leftovers() {
  local m
  awk -v r="$ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
  done
}
