# shellcheck shell=bash
# scripts/engines/cluster.sh — three daemons of the newest generation for the multi-node swarm tests
# Sourced by scripts/engines.sh (after dockerd.sh), which sets -euo pipefail.
#
# The nodes are engines of kind docker run by dockerd.sh (own containerd, data and exec roots,
# socket, pidfile, default bridge, TLS listener, no iptables), made from docker-latest's binaries
# (from = sid), but they are not in engines.list: the suite does not run once per node. The tests
# of test/integration/cluster/ make them a swarm (test/support/cluster.ts: node 1 inits, nodes 2
# and 3 join over 127.0.0.1) and leave it; the bed only runs the daemons and says where they are.
#
# What one host cannot give three nodes (seen here): swarm's network agent (gossip, for overlay
# networks) binds <advertise address>:7946, a port no daemon option moves. Only the first node of a
# swarm on 127.0.0.1 gets it (and a one-node swarm of the other engines holding it takes it from
# them all); the others log "Error in agentInit ... 7946: address already in use" and cannot attach
# containers to overlay networks, ingress included. Tasks without networks run on every node, which
# is all the cluster tests need; their vitest project runs in a group of its own (groupOrder, see
# vitest.config.ts), never beside another project's files, so it never takes 7946 from the
# one-node swarm tests.
#
# Environment (all optional; defaults chosen apart from everything else of the bed and from the
# one-node swarms of test/support/swarm.ts, which use 2377+index and 4789+index):
#   EFFECT_DOCKER_CLUSTER_SWARM_PORT      node n's swarm control plane is 127.0.0.1:<this + n - 1> (default 2391)
#   EFFECT_DOCKER_CLUSTER_DATA_PATH_PORT  the cluster's VXLAN data-path port (default 4801)
#   EFFECT_DOCKER_CLUSTER_TLS_PORT        node n's TLS listener is 127.0.0.1:<this + n - 1> (default 23771)

CLUSTER_SIZE=3
CLUSTER_SWARM_PORT=${EFFECT_DOCKER_CLUSTER_SWARM_PORT:-2391}
CLUSTER_DATA_PATH_PORT=${EFFECT_DOCKER_CLUSTER_DATA_PATH_PORT:-4801}
CLUSTER_TLS_PORT=${EFFECT_DOCKER_CLUSTER_TLS_PORT:-23771}

# CLUSTER_NODES: cluster-1 .. cluster-3, registered in the ENGINE_* tables like the listed engines
# (so dockerd.sh runs them and `reset` knows their directories) but not in ENGINES.
CLUSTER_NODES=()
register_cluster_nodes() {
  local n id
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    id=cluster-$n
    CLUSTER_NODES+=("$id")
    ENGINE_KIND[$id]=docker
    ENGINE_FROM[$id]=sid
    ENGINE_TLS_PORT[$id]=$((CLUSTER_TLS_PORT + n - 1))
    ENGINE_POOL[$id]=10.$((210 + n)).0.0/16
    ENGINE_BRIDGE[$id]=10.$((240 + n)).0.1/24
    # Task containers use busybox:local as it is, without asking a registry (there is none for it).
    ENGINE_ENV[$id]=DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
  done
}
register_cluster_nodes

cluster_swarm_port() { printf '%s' "$((CLUSTER_SWARM_PORT + ${1#cluster-} - 1))"; }
# The env key of node cluster-n: EFFECT_DOCKER_CLUSTER_NODE_<n>.
cluster_key() { printf 'EFFECT_DOCKER_CLUSTER_NODE_%s' "${1#cluster-}"; }

# The cluster's ports and subnets must differ from each other and from the listed engines'.
validate_cluster() {
  local v e ports=("$REGISTRY_PORT" "$REGISTRY_NOAUTH_PORT") nets=()
  for v in CLUSTER_SWARM_PORT CLUSTER_DATA_PATH_PORT CLUSTER_TLS_PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
  done
  for e in "${ENGINES[@]}"; do
    ports+=("${ENGINE_TLS_PORT[$e]}" "${ENGINE_SSH_PORT[$e]}")
    nets+=("${ENGINE_POOL[$e]}" "${ENGINE_BRIDGE[$e]}")
  done
  for e in "${CLUSTER_NODES[@]}"; do
    ports+=("${ENGINE_TLS_PORT[$e]}" "$(cluster_swarm_port "$e")")
    nets+=("${ENGINE_POOL[$e]}" "${ENGINE_BRIDGE[$e]}")
  done
  [[ -z $(printf '%s\n' "${ports[@]}" | sort | uniq -d) ]] || die "the cluster's TLS and swarm ports collide with other ports of the bed (${ports[*]})"
  [[ -z $(printf '%s\n' "${nets[@]}" | sort | uniq -d) ]] || die "the cluster's pools and bridges collide with the engines' (${nets[*]})"
}

# Swarm mode makes a `docker_gwbridge` network on every node, and by default its host interface is
# called docker_gwbridge too: three nodes on one host (and the engines' one-node swarms) would share
# one interface, and the first to delete it would cut the others off. Made beforehand, it is each
# node's own (interface ed<pool octet>gw, subnet from the node's pool). Kept across swarms (leaving a
# swarm keeps it); stop removes it with the daemon's bridge.
ensure_gwbridge() {
  local e=$1 sock code name body
  sock=$(engine_sock "$e")
  code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://x/networks/docker_gwbridge || true)
  case $code in
    200) return 0 ;;
    404) ;;
    *) die "node $e: GET /networks/docker_gwbridge answered '$code'" ;;
  esac
  name=$(cluster_gwbridge "$e")
  body='{"Name":"docker_gwbridge","Driver":"bridge","Options":{"com.docker.network.bridge.name":"'$name'",'
  body+='"com.docker.network.bridge.enable_icc":"false","com.docker.network.bridge.enable_ip_masquerade":"true"}}'
  code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X POST \
    -H 'Content-Type: application/json' -d "$body" http://x/networks/create || true)
  [[ $code == 201 ]] || die "node $e: creating docker_gwbridge answered '$code'"
}
cluster_gwbridge() {
  local a b _
  IFS=./ read -r a b _ <<<"${ENGINE_POOL[$1]}"
  printf 'ed%sgw' "$b"
}
gwbridge_down() { ip link del "$(cluster_gwbridge "$1")" 2>/dev/null || true; }

launch_cluster() {
  local e
  for e in "${CLUSTER_NODES[@]}"; do docker_launch "$e"; done
}

wait_cluster() {
  local e
  for e in "${CLUSTER_NODES[@]}"; do docker_wait "$e"; done
  for e in "${CLUSTER_NODES[@]}"; do
    ensure_image "$e"
    ensure_gwbridge "$e"
  done
}

stop_cluster() {
  local e pid pids=()
  for e in "${CLUSTER_NODES[@]}"; do
    { docker_stop "$e" && gwbridge_down "$e"; } &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

status_cluster() {
  local e ok=0
  for e in "${CLUSTER_NODES[@]}"; do docker_status "$e" || ok=1; done
  return "$ok"
}

cluster_up() {
  local e
  for e in "${CLUSTER_NODES[@]}"; do docker_alive "$e" && ping_engine "$e" || return 1; done
}

# The env file's lines for the cluster: each node's socket and swarm address, the data-path port.
cluster_env_lines() {
  local e K
  for e in "${CLUSTER_NODES[@]}"; do
    K=$(cluster_key "$e")
    echo "$K=unix://$(engine_sock "$e")"
    echo "${K}_SWARM_ADDR=127.0.0.1:$(cluster_swarm_port "$e")"
    # For the tests that kill a node's daemon (and restart it with `scripts/engines.sh cluster start`).
    echo "${K}_PIDFILE=$(engine_dir "$e")/pid"
  done
  echo "EFFECT_DOCKER_CLUSTER_DATA_PATH_PORT=$CLUSTER_DATA_PATH_PORT"
}
