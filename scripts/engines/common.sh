# shellcheck shell=bash
# shellcheck disable=SC2034  # the configuration below is read by the other parts
# scripts/engines/common.sh — configuration, logging, process helpers, per-engine layout, locking
# Sourced first by scripts/engines.sh (which sets -euo pipefail): the configuration every part
# reads, and the helpers they share.
#
# Layout under $ROOT:  <id>/ per engine of engines.list (docker.sock, pid, log, daemon.json, data/,
#                        run/ = exec-root, containerd/ {containerd.sock, pid, log, config.toml, root/, state/})
#                      registry-auth/, registry-noauth/  (config.yml, htpasswd, data/, pid, log)
#                      tls/ (ca.pem, server-{cert,key}.pem, other-ca.pem, client/{ca,cert,key}.pem)
#                      ssh/ (host key, client key id_ed25519, authorized_keys, known_hosts,
#                            ssh_config for `ssh -F`, <id>/ per engine = sshd_config, pid, log)
#                      busybox-rootfs.tar, engines.env

# Environment (all optional):
#   EFFECT_DOCKER_ENGINES_DIR            runtime root (default /tmp/effect-docker; keep it short:
#                                        unix socket paths must stay <= 107 bytes)
#   EFFECT_DOCKER_ENGINES_CACHE          where unstable's packages are unpacked (default /opt/effect-docker/engines)
#   EFFECT_DOCKER_REGISTRY_PORT          port of the registry with auth (default 5000)
#   EFFECT_DOCKER_REGISTRY_NOAUTH_PORT   port of the registry without auth (default 5001)
#   EFFECT_DOCKER_ENGINE_<ID>_TLS_PORT   TLS listener of engine <id> on 127.0.0.1
#   EFFECT_DOCKER_ENGINE_<ID>_SSH_PORT   sshd leading to engine <id>, on 127.0.0.1
#   EFFECT_DOCKER_ENGINE_<ID>_POOL       base of engine <id>'s default address pool (e.g. 10.211.0.0/16)
#                                        (defaults: engines.list; <ID> as engine_key derives it from
#                                        the id: EFFECT_DOCKER_ENGINE_DOCKER_20_10_TLS_PORT)
#   EFFECT_DOCKER_ENGINES_TIMEOUT        seconds to wait for a daemon to become ready (default 60)
#   EFFECT_DOCKER_DEBIAN_MIRROR          Debian mirror URI for unstable (default: the one apt already uses)

ROOT=${EFFECT_DOCKER_ENGINES_DIR:-/tmp/effect-docker}
CACHE=${EFFECT_DOCKER_ENGINES_CACHE:-/opt/effect-docker/engines}
NEWEST=$CACHE/newest
REGISTRY_PORT=${EFFECT_DOCKER_REGISTRY_PORT:-5000}
REGISTRY_NOAUTH_PORT=${EFFECT_DOCKER_REGISTRY_NOAUTH_PORT:-5001}
TIMEOUT=${EFFECT_DOCKER_ENGINES_TIMEOUT:-60}
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

# The engines: scripts/engines/engines.list (its header explains the columns).
ENGINE_LIST=$(dirname "${BASH_SOURCE[0]}")/engines.list

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
  local v e key
  for v in REGISTRY_PORT REGISTRY_NOAUTH_PORT TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
  done
  [[ $REGISTRY_PORT != "$REGISTRY_NOAUTH_PORT" ]] || die "the two registries need different ports"
  local ports=("$REGISTRY_PORT" "$REGISTRY_NOAUTH_PORT") keys=() pools=()
  for e in "${ENGINES[@]}"; do
    key=$(engine_key "$e")
    [[ ${ENGINE_TLS_PORT[$e]} =~ ^[0-9]+$ || ${ENGINE_TLS_PORT[$e]} == - ]] ||
      die "${key}_TLS_PORT must be a number, or - for none (got '${ENGINE_TLS_PORT[$e]}')"
    [[ ${ENGINE_SSH_PORT[$e]} =~ ^[0-9]+$ ]] || die "${key}_SSH_PORT must be a number (got '${ENGINE_SSH_PORT[$e]}')"
    [[ ${ENGINE_POOL[$e]} =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || die "${key}_POOL must be an IPv4 CIDR (got '${ENGINE_POOL[$e]}')"
    [[ ${ENGINE_BRIDGE[$e]} =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] ||
      die "${key}_BRIDGE_CIDR must be an IPv4 address/prefix (got '${ENGINE_BRIDGE[$e]}')"
    declare -F "${ENGINE_KIND[$e]}_launch" >/dev/null ||
      die "$ENGINE_LIST: engine $e has kind '${ENGINE_KIND[$e]}', which no part of scripts/engines/ runs"
    [[ ${ENGINE_FROM[$e]} == os || ${ENGINE_FROM[$e]} == sid ]] ||
      die "$ENGINE_LIST: engine $e comes from '${ENGINE_FROM[$e]}'; known: os, sid"
    engine_has_tls "$e" && ports+=("${ENGINE_TLS_PORT[$e]}")
    ports+=("${ENGINE_SSH_PORT[$e]}")
    keys+=("$key")
    pools+=("${ENGINE_POOL[$e]}" "${ENGINE_BRIDGE[$e]}")
  done
  [[ -z $(printf '%s\n' "${ports[@]}" | sort | uniq -d) ]] || die "registry, TLS and ssh ports must all differ (got ${ports[*]})"
  [[ -z $(printf '%s\n' "${keys[@]}" | sort | uniq -d) ]] || die "$ENGINE_LIST: two ids give the same env keys (${keys[*]})"
  [[ -z $(printf '%s\n' "${pools[@]}" | sort | uniq -d) ]] || die "every engine needs its own address pool and bridge subnet (got ${pools[*]})"
}

# ---------------------------------------------------------------------------------------------
# The engines and their per-engine layout, from engines.list
# ---------------------------------------------------------------------------------------------

# engine_key ID: the prefix of engine ID's env keys. The one place this is derived in bash
# (test/support/engines.ts has the TypeScript one): docker-20.10 -> EFFECT_DOCKER_ENGINE_DOCKER_20_10.
engine_key() {
  local k=${1^^}
  printf 'EFFECT_DOCKER_ENGINE_%s' "${k//[^A-Z0-9]/_}"
}

# ENGINES: the ids in list order; ENGINE_<COLUMN>[id]: the other columns, ports and pool
# overridden by the environment (<key>_TLS_PORT, <key>_SSH_PORT, <key>_POOL, <key>_BRIDGE_CIDR).
ENGINES=()
declare -A ENGINE_KIND=() ENGINE_FROM=() ENGINE_TLS_PORT=() ENGINE_SSH_PORT=() ENGINE_POOL=() ENGINE_BRIDGE=()
# ENGINE_ENV[id]: extra environment of its daemon (blank-separated KEY=VALUE; none for the listed
# engines, see cluster.sh).
declare -A ENGINE_ENV=()
read_engine_list() {
  local id kind from tls ssh pool bridge extra key
  [[ -r $ENGINE_LIST ]] || die "cannot read $ENGINE_LIST"
  while read -r id kind from tls ssh pool bridge extra; do
    [[ -z $id || $id == \#* ]] && continue
    [[ -n $bridge && -z $extra ]] || die "$ENGINE_LIST: engine '$id' needs 7 columns: id kind from tls ssh pool bridge"
    [[ $id =~ ^[a-z0-9][a-z0-9.-]*$ ]] || die "$ENGINE_LIST: '$id' is not an id (a-z, 0-9, '.', '-')"
    [[ -z ${ENGINE_KIND[$id]:-} ]] || die "$ENGINE_LIST: engine '$id' is listed twice"
    key=$(engine_key "$id")
    local tls_var=${key}_TLS_PORT ssh_var=${key}_SSH_PORT pool_var=${key}_POOL bridge_var=${key}_BRIDGE_CIDR
    ENGINES+=("$id")
    ENGINE_KIND[$id]=$kind
    ENGINE_FROM[$id]=$from
    ENGINE_TLS_PORT[$id]=${!tls_var:-$tls}
    ENGINE_SSH_PORT[$id]=${!ssh_var:-$ssh}
    ENGINE_POOL[$id]=${!pool_var:-$pool}
    ENGINE_BRIDGE[$id]=${!bridge_var:-$bridge}
  done <"$ENGINE_LIST"
  ((${#ENGINES[@]})) || die "$ENGINE_LIST lists no engine"
}
read_engine_list

engine_dir() { printf '%s/%s' "$ROOT" "$1"; }
engine_sock() { printf '%s/%s/docker.sock' "$ROOT" "$1"; }
engine_tls_port() { printf '%s' "${ENGINE_TLS_PORT[$1]}"; }
engine_ssh_port() { printf '%s' "${ENGINE_SSH_PORT[$1]}"; }
# engine_has_tls E: engine E has a TLS listener (its tls column is a port, not "-": Podman has none).
engine_has_tls() { [[ ${ENGINE_TLS_PORT[$1]} != - ]]; }

# engine_do VERB E: VERB (launch, wait, stop, status, alive) for engine E, done by the part of
# its kind: kind docker is docker_VERB in dockerd.sh; a new kind is a new part defining its own.
engine_do() { "${ENGINE_KIND[$2]}_$1" "$2"; }

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
# process-group kill aimed at the caller. CMD's environment also gets SPAWN_ENV (KEY=VALUE words;
# a caller sets it as a local). The wrapper shell writes its own pid and then execs
# CMD, so the pidfile is exact even if setsid had to fork.
SPAWN_ENV=()
spawn() {
  local pidfile=$1 logfile=$2 path=$3
  shift 3
  rm -f "$pidfile"
  # 8>&- 9>&-: the daemon must not inherit our lock files' descriptors, or it would hold the
  # locks for its whole life and every later start/stop would wait for it.
  # shellcheck disable=SC2016  # $$ and "$@" are meant for the inner shell
  setsid env PATH="$path" "${SPAWN_ENV[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
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
  local e p
  for e in "${ENGINES[@]}" "${CLUSTER_NODES[@]}"; do
    for p in "$ROOT/$e/containerd/containerd.sock.ttrpc" "$ROOT/$e/run/libnetwork/0123456789ab.sock" "$ROOT/$e/docker.sock"; do
      ((${#p} <= 107)) || die "EFFECT_DOCKER_ENGINES_DIR is too long: $p would exceed the 107-byte unix socket limit"
    done
  done
}

lock() {
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another engines.sh is still running (lock $LOCK_FILE)"
}

# Daemons still running from a directory of $ROOT that engines.list does not name (an engine
# renamed or removed since it was started): `stop` does not know them, so neither `stop` may
# unmount what they use nor `reset` delete their state from under them. Prints their pidfiles.
unlisted_daemons() {
  local f dir
  for f in "$ROOT"/*/pid "$ROOT"/*/containerd/pid; do
    dir=${f#"$ROOT"/}
    dir=${dir%%/*}
    [[ -z ${ENGINE_KIND[$dir]:-} ]] || continue
    if alive "$f" dockerd || alive "$f" containerd || alive "$f" podman; then echo "$f"; fi
  done
}

# Unmount anything a killed dockerd left mounted under $ROOT (container rootfs, netns files,
# overlay2's private bind mount), deepest first, so deleting $ROOT cannot reach into a mount.
unmount_leftovers() {
  local m
  awk -v r="$ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
  done
}
