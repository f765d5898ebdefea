# shellcheck shell=bash
# scripts/engines/podman.sh — Podman's Docker-compatible API service: engines of kind podman
# Sourced by scripts/engines.sh, which sets -euo pipefail.
#
# Debian 12's podman 4.3.1 (`podman system service`), rootful, everything it writes under
# $ROOT/<id>/ (storage, runroot, tmp, CNI configs, events log): /etc/containers is never read
# (CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF, CONTAINERS_STORAGE_CONF point at our files).
# The one host-wide side effect is CNI's: the default network's bridge (cni-podman0, on the
# engine's `bridge` subnet of engines.list) and its CNI-* iptables chains, made the first time a
# container uses the default network.
#
# Why each setting (the errors seen without it, in this sandbox: no CAP_SYS_RESOURCE, RLIMIT_NOFILE
# hard limit below podman's default, cgroup v1 + a cgroup2 "unified" mount):
#   default_ulimits nofile=<hard>:<hard>
#       rootful podman puts RLIMIT_NOFILE=1048576 into every OCI spec; above the hard limit the
#       runtime cannot raise it ("error setting rlimit type 7: operation not permitted").
#       `--ulimit host` does not help in 4.3.1.
#   nproc <= 32768
#       podman lowers its own RLIMIT_NPROC hard limit to 32768 at start, so its runtime child
#       cannot set more.
#   runtime = "runc"
#       crun 1.8.1 refuses the hybrid cgroup layout ("cgroups in hybrid mode not supported").
#   cgroup_manager = "cgroupfs", events_logger = "file"
#       no systemd or journald needed.
#   registries.conf: 127.0.0.1 and localhost insecure
#       the plain-HTTP test registries (podman would speak HTTPS to them). POST /auth ignores it
#       in 4.3.1 (it skips TLS only for "localhost:" addresses): the README's Podman section.
#   No TLS listener: `podman system service` has none (engines.list's tls column is "-").

podman_conf_dir() { printf '%s/conf' "$(engine_dir "$1")"; }

# podman_env E: the environment the service and podman_cli share (so they share storage and config).
podman_env() {
  local c
  c=$(podman_conf_dir "$1")
  printf '%s\n' "PATH=$BASE_PATH" "CONTAINERS_CONF=$c/containers.conf" \
    "CONTAINERS_REGISTRIES_CONF=$c/registries.conf" "CONTAINERS_STORAGE_CONF=$c/storage.conf"
}

# podman_cli E ARGS...: the podman CLI on engine E's storage (import, stop at shutdown).
podman_cli() {
  local e=$1
  shift
  local vars
  mapfile -t vars < <(podman_env "$e")
  env "${vars[@]}" podman "$@"
}

# The subnet of a gateway address/prefix: 10.233.0.1/24 -> 10.233.0.0/24 (prefixes of /24 or
# shorter, whole octets: what engines.list uses).
podman_subnet() {
  local a b c _ prefix=${1#*/}
  IFS=./ read -r a b c _ <<<"$1"
  ((prefix <= 24)) || die "podman: bridge prefix /$prefix: use /24 or shorter"
  printf '%s.%s.%s.0/%s' "$a" "$b" "$c" "$prefix"
}

# write_podman_config E DIR: the three configuration files into DIR.
write_podman_config() {
  local e=$1 out=$2 d nofile nproc pool
  d=$(engine_dir "$e")
  nofile=$(ulimit -Hn)
  [[ $nofile == unlimited ]] && nofile=1048576
  nproc=$(ulimit -Hu)
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  pool=${ENGINE_POOL[$e]}
  cat >"$out/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
network_config_dir = "$d/cni"
default_subnet = "$(podman_subnet "${ENGINE_BRIDGE[$e]}")"
default_subnet_pools = [{ base = "$pool", size = 24 }]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
EOF
  cat >"$out/registries.conf" <<'EOF'
unqualified-search-registries = ["docker.io"]

[[registry]]
location = "127.0.0.1"
insecure = true

[[registry]]
location = "localhost"
insecure = true
EOF
  cat >"$out/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/storage"
runroot = "$d/run"
EOF
}

podman_alive() { alive "$(engine_dir "$1")/pid" podman; }

# podman_launch E: start engine E's service unless a live one runs with today's configuration.
podman_launch() {
  local e=$1 d c sock vars
  d=$(engine_dir "$e")
  c=$(podman_conf_dir "$e")
  sock=$(engine_sock "$e")
  mkdir -p "$d/tmp" "$d/cni" "$c.new"
  write_podman_config "$e" "$c.new"
  if podman_alive "$e"; then
    if diff -rq "$c.new" "$c" >/dev/null 2>&1; then
      rm -rf "$c.new"
      log "engine $e: reusing running podman service (pid $(pid_of "$d/pid"))"
      return 0
    fi
    log "engine $e: podman runs with another configuration; restarting it"
    podman_stop "$e"
  fi
  rm -rf "$c"
  mv "$c.new" "$c"
  rm -f "$sock"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "engine $e: starting $(podman --version) service"
  mapfile -t vars < <(podman_env "$e")
  # --time=0: the service never exits for idleness. Its soft RLIMIT_NOFILE raised to the hard one:
  # with the usual soft 1024, a few hundred concurrent API connections make 4.3.1 panic ("open
  # …/mountpoints.lock: too many open files") and the service is gone (seen with pool.test.ts).
  (
    ulimit -Sn "$(ulimit -Hn)"
    spawn "$d/pid" "$d/log" "$BASE_PATH" env "${vars[@]}" podman --log-level=info system service --time=0 "unix://$sock"
  ) || die "engine $e: could not start podman"
}

podman_wait() {
  local e=$1 d deadline
  d=$(engine_dir "$e")
  deadline=$((SECONDS + TIMEOUT))
  until ping_engine "$e"; do
    if ! podman_alive "$e"; then
      log_tail "$d/log"
      die "engine $e: podman exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "engine $e: podman not ready after ${TIMEOUT}s (log: $d/log)"
    fi
    sleep 0.2
  done
}

# podman_import E TAR REPO:TAG: the CLI import, under the fully qualified name. The compat API's
# import (POST /images/create?fromSrc=-&repo=…&tag=…) ignores `tag` in 4.3.1.
podman_import() {
  local logf
  logf=$(engine_dir "$1")/import.log
  podman_cli "$1" import --change 'CMD ["/bin/sh"]' "$2" "docker.io/library/$3" >"$logf" 2>&1 || {
    log_tail "$logf"
    return 1
  }
}

# podman_stop E: its containers first (the service does not stop them: each has its own conmon),
# then the service. Images, volumes and networks stay.
podman_stop() {
  local e=$1 d
  d=$(engine_dir "$e")
  podman_alive "$e" && log "engine $e: stopping podman"
  if [[ -f $(podman_conf_dir "$e")/storage.conf ]]; then
    podman_cli "$e" stop --all --time 5 >/dev/null 2>&1 || true
  fi
  stop_pid "$d/pid" podman 20
  rm -f "$(engine_sock "$e")"
}

podman_status() {
  local e=$1 d v api
  d=$(engine_dir "$e")
  if podman_alive "$e" && ping_engine "$e"; then
    read -r v api _ <<<"$(engine_version "$e")" || true
    printf '%-18s up    Podman %s, API %s, pid %s, unix://%s (no TLS listener)\n' "$e" "${v:-?}" "${api:-?}" \
      "$(pid_of "$d/pid")" "$(engine_sock "$e")"
  elif podman_alive "$e"; then
    printf '%-18s DOWN  podman pid %s runs but does not answer on %s (log: %s/log)\n' "$e" "$(pid_of "$d/pid")" \
      "$(engine_sock "$e")" "$d"
    return 1
  else
    printf '%-18s DOWN  not running\n' "$e"
    return 1
  fi
}
