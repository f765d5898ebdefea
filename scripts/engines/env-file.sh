# shellcheck shell=bash
# scripts/engines/env-file.sh — the env file tests read, and the summary printed by start
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# ---------------------------------------------------------------------------------------------
# Env file and summary
# ---------------------------------------------------------------------------------------------

write_env_file() {
  local e K v api min
  {
    echo "EFFECT_DOCKER_ENGINES_DIR=$ROOT"
    for e in "${ENGINES[@]}"; do
      K=$(engine_key "$e")
      read -r v api min <<<"$(engine_version "$e")" || true
      [[ -n ${v:-} && -n ${api:-} ]] || die "engine $e: could not read Version/ApiVersion from GET /version"
      echo "$K=unix://$(engine_sock "$e")"
      echo "${K}_VERSION=$v"
      echo "${K}_API=$api"
      echo "${K}_MIN_API=$min"
      if engine_has_tls "$e"; then echo "${K}_TLS=tcp://127.0.0.1:$(engine_tls_port "$e")"; fi
      echo "${K}_SSH=ssh://root@127.0.0.1:$(engine_ssh_port "$e")"
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
    cluster_env_lines
  } >"$ENV_FILE.tmp"
  install_env_file
}

# write_cluster_env: the cluster's lines of the env file replaced, the rest kept as it is (for
# `engines.sh cluster start`, which leaves the other engines alone).
write_cluster_env() {
  {
    if [[ -f $ENV_FILE ]]; then
      grep -v '^EFFECT_DOCKER_CLUSTER_' "$ENV_FILE" || true
    else
      echo "EFFECT_DOCKER_ENGINES_DIR=$ROOT"
    fi
    cluster_env_lines
  } >"$ENV_FILE.tmp"
  install_env_file
}

install_env_file() {
  # Readable by anyone: tests may run as a user other than the one that started the engines.
  chmod 644 "$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

env_value() { sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | head -n 1; }

print_summary() {
  local e K ids
  ids=$(IFS=,; printf '%s' "${ENGINES[*]}")
  echo "effect-docker test engines (runtime root $ROOT)"
  for e in "${ENGINES[@]}"; do
    K=$(engine_key "$e")
    printf '  %-14s %-6s %-16s API %-5s %s\n' "$e" "${ENGINE_KIND[$e]^}" "$(env_value "${K}_VERSION")" \
      "$(env_value "${K}_API")" "$(env_value "$K")"
  done
  printf '  %-14s %-22s basic auth %s / %s\n' registry "$(env_value EFFECT_DOCKER_REGISTRY)" \
    "$(env_value EFFECT_DOCKER_REGISTRY_USER)" "$(env_value EFFECT_DOCKER_REGISTRY_PASSWORD)"
  printf '  %-14s %-22s no auth\n' registry "$(env_value EFFECT_DOCKER_REGISTRY_NOAUTH)"
  printf '  %-14s %-22s on every engine (rootfs tar %s)\n' image "$(env_value EFFECT_DOCKER_TEST_IMAGE)" \
    "$(env_value EFFECT_DOCKER_ROOTFS_TAR)"
  for e in "${ENGINES[@]}"; do
    K=$(engine_key "$e")
    if engine_has_tls "$e"; then
      printf '  %-14s %-29s --tlsverify; client material DOCKER_CERT_PATH=%s\n' "$e" \
        "$(env_value "${K}_TLS")" "$(env_value EFFECT_DOCKER_TLS_CERT_PATH)"
    fi
    printf '  %-14s %-29s ssh -F %s\n' "$e" "$(env_value "${K}_SSH")" "$(env_value EFFECT_DOCKER_SSH_CONFIG)"
  done
  for e in "${CLUSTER_NODES[@]}"; do
    K=$(cluster_key "$e")
    printf '  %-14s %-45s swarm on %s\n' "$e" "$(env_value "$K")" "$(env_value "${K}_SWARM_ADDR")"
  done
  echo "  logs           $ROOT/{$ids}/log, $ROOT/{$ids}/containerd/log, $ROOT/registry-{auth,noauth}/log, $SSH_DIR/{$ids}/log"
  echo "env file: $ENV_FILE    (load with: set -a; . $ENV_FILE; set +a)"
}
