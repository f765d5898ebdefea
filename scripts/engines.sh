#!/usr/bin/env bash
# scripts/engines.sh — real Docker engines (and registries) for effect-docker's integration tests.
#
#   scripts/engines.sh start    install what is missing, start everything (idempotent), print where it is
#   scripts/engines.sh stop     stop everything this script started; keep installs, caches and data
#   scripts/engines.sh status   say what runs; exit 1 if something is not up
#   scripts/engines.sh env      print the env file written by `start`
#   scripts/engines.sh reset    stop, then delete the runtime root entirely
#   scripts/engines.sh cluster start|stop|status   only the three swarm nodes (see below)
#
# What `start` provides (this automates the team's verified "test-engines" recipe):
#   engines   those of scripts/engines/engines.list, each at unix://$ROOT/<id>/docker.sock:
#             docker-20.10   Docker 20.10 from Debian 12's docker.io (API 1.41)
#             docker-latest  newest docker.io + containerd of Debian unstable, unpacked
#             podman-4.3     Podman 4.3.1's Docker-compatible API from Debian 12's podman (API 1.41;
#                            no TLS listener, no swarm: scripts/engines/podman.sh)
#   registry  docker-registry with basic auth (testuser/testpass)           127.0.0.1:5000
#   registry  docker-registry without auth                                   127.0.0.1:5001
#   image     busybox:local on every engine, built from busybox-static (no network pulls, ever)
#   TLS       each docker engine also listens on tcp://127.0.0.1:<port> with --tlsverify (ports: engines.list),
#             with a test CA, a server and a client certificate generated under $ROOT/tls/
#   ssh       one sshd per engine on 127.0.0.1 (ports: engines.list), key-only root login, whose
#             sessions get DOCKER_HOST=<that engine's socket> (for ssh://…  `docker system dial-stdio`)
#   cluster   three more daemons of docker-latest's generation, cluster-1..3, for the multi-node swarm
#             tests (scripts/engines/cluster.sh): each its own containerd, roots, socket
#             unix://$ROOT/cluster-<n>/docker.sock, bridge and TLS port; swarm ports kept for them
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
# The parts live in scripts/engines/, one file each (sourced in this order): common.sh
# (configuration, engines.list, logging, process helpers, layout, locking), packages.sh (apt,
# Debian unstable's docker), tls.sh, dockerd.sh (containerd + dockerd: engines of kind docker),
# cluster.sh (the swarm nodes, engines of kind docker outside engines.list), podman.sh (podman
# system service: engines of kind podman), image.sh (busybox:local), registries.sh, ssh.sh,
# env-file.sh. A new engine of a known kind is a
# line in engines.list; a new kind is a new part defining <kind>_launch/_wait/_stop/_status/_alive;
# any other new part is a new file sourced below and called from the commands.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# Stable, parseable output from the tools we call (apt, sort, ...), whatever the caller's locale.
export LC_ALL=C

ENGINES_LIB=$(dirname "${BASH_SOURCE[0]}")/engines
# shellcheck source=engines/common.sh
source "$ENGINES_LIB/common.sh"
# shellcheck source=engines/packages.sh
source "$ENGINES_LIB/packages.sh"
# shellcheck source=engines/tls.sh
source "$ENGINES_LIB/tls.sh"
# shellcheck source=engines/dockerd.sh
source "$ENGINES_LIB/dockerd.sh"
# shellcheck source=engines/cluster.sh
source "$ENGINES_LIB/cluster.sh"
# shellcheck source=engines/podman.sh
source "$ENGINES_LIB/podman.sh"
# shellcheck source=engines/image.sh
source "$ENGINES_LIB/image.sh"
# shellcheck source=engines/registries.sh
source "$ENGINES_LIB/registries.sh"
# shellcheck source=engines/ssh.sh
source "$ENGINES_LIB/ssh.sh"
# shellcheck source=engines/env-file.sh
source "$ENGINES_LIB/env-file.sh"

# all_up: quiet check used by status-like decisions.
all_up() {
  local e k
  for e in "${ENGINES[@]}"; do
    engine_do alive "$e" && ping_engine "$e" || return 1
  done
  for k in auth noauth; do
    alive "$(registry_dir "$k")/pid" docker-registry || return 1
  done
  for e in "${ENGINES[@]}"; do
    alive "$(sshd_dir "$e")/pid" sshd || return 1
  done
  cluster_up || return 1
  [[ -f $ENV_FILE ]]
}

any_engine_alive() {
  local e
  for e in "${ENGINES[@]}" "${CLUSTER_NODES[@]}"; do
    if engine_do alive "$e"; then return 0; fi
  done
  return 1
}

cmd_start() {
  local t0=$SECONDS missing=() e k sock
  if ! is_root; then
    # Without root we can neither install nor start dockerd; we can only confirm it all runs.
    mapfile -t missing < <(missing_packages)
    if needs_newest && ! newest_present; then missing+=("$NEWEST (Debian unstable's docker.io)"); fi
    ((${#missing[@]} == 0)) || need_root "installing ${missing[*]}"
    if all_up; then
      print_summary
      return 0
    fi
    sock=$(engine_sock "${ENGINES[0]}")
    if [[ -S $sock && ! -w $sock ]]; then
      printf 'engines: error: this user may not use %s: run as root (or, if the engines run, as a member of group docker).\n' "$sock" >&2
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

  # Everything is launched first and waited for afterwards, so the daemons start in parallel.
  for e in "${ENGINES[@]}"; do engine_do launch "$e"; done
  launch_cluster
  for k in auth noauth; do launch_registry "$k"; done
  for e in "${ENGINES[@]}"; do launch_sshd "$e"; done
  for e in "${ENGINES[@]}"; do engine_do wait "$e"; done
  for k in auth noauth; do wait_registry "$k"; done
  for e in "${ENGINES[@]}"; do wait_sshd "$e"; done

  build_rootfs
  for e in "${ENGINES[@]}"; do ensure_image "$e"; done
  wait_cluster
  write_env_file
  log "ready in $((SECONDS - t0))s"
  print_summary
}

cmd_stop() {
  need_root "stopping the engines"
  [[ -d $ROOT ]] || { log "nothing to stop ($ROOT does not exist)"; return 0; }
  lock
  local k e pid pids=()
  for e in "${ENGINES[@]}"; do stop_sshd "$e"; done
  # All engines in parallel: each may need its containers' full stop grace period (10 s).
  for e in "${ENGINES[@]}"; do
    engine_do stop "$e" &
    pids+=("$!")
  done
  stop_cluster &
  pids+=("$!")
  for pid in "${pids[@]}"; do wait "$pid"; done
  for k in auth noauth; do stop_registry "$k"; done
  # With every engine gone, nothing under $ROOT should stay mounted (dockerd leaves its data-root
  # bind mount behind, and container mounts after a crash); a later start recreates what it needs.
  if ! any_engine_alive && [[ -z $(unlisted_daemons) ]]; then
    unmount_leftovers
  fi
  log "stopped (data kept under $ROOT; '$0 reset' deletes it)"
}

cmd_status() {
  local ok=0 e k
  for e in "${ENGINES[@]}"; do engine_do status "$e" || ok=1; done
  for k in auth noauth; do status_registry "$k" || ok=1; done
  for e in "${ENGINES[@]}"; do status_sshd "$e" || ok=1; done
  status_cluster || ok=1
  if [[ -f $ENV_FILE ]]; then echo "env file: $ENV_FILE"; fi
  return "$ok"
}

# cmd_cluster start|stop|status: the swarm nodes alone (the other engines are left as they are):
# start is what a test runs to bring back a node whose daemon it killed.
cmd_cluster() {
  case ${1:-} in
    start)
      need_root "starting the cluster"
      check_socket_paths
      mkdir -p "$ROOT"
      lock
      touch "$MARKER"
      fetch_newest
      ensure_tls
      launch_cluster
      build_rootfs
      wait_cluster
      write_cluster_env
      status_cluster
      ;;
    stop)
      need_root "stopping the cluster"
      lock
      stop_cluster
      ;;
    status) status_cluster ;;
    *) usage 2 ;;
  esac
}

cmd_env() {
  [[ -f $ENV_FILE ]] || die "no env file at $ENV_FILE; run '$0 start' first"
  cat "$ENV_FILE"
}

cmd_reset() {
  need_root "reset"
  if [[ -e $ROOT && ! -f $MARKER ]]; then
    die "$ROOT was not created by this script (no $MARKER); not deleting it"
  fi
  local left
  left=$(unlisted_daemons)
  [[ -z $left ]] || die "daemons that engines.list does not name still run from $ROOT (pidfiles: $(tr '\n' ' ' <<<"$left")); stop them with the scripts/engines.sh that started them, then reset"
  cmd_stop
  [[ -d $ROOT ]] || return 0
  unmount_leftovers
  # --one-file-system: never descend into something still mounted under $ROOT.
  rm -rf --one-file-system "$ROOT"
  log "deleted $ROOT"
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

main() {
  [[ $# -eq 1 || ( $# -eq 2 && $1 == cluster ) ]] || usage 2
  validate_config
  validate_cluster
  case $1 in
    cluster) cmd_cluster "$2" ;;
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
