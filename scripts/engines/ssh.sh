# shellcheck shell=bash
# scripts/engines/ssh.sh — one sshd per engine for the ssh:// transport
# Sourced by scripts/engines.sh, which sets -euo pipefail.

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
  local hostkey
  hostkey=$(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519_key.pub")
  : >"$SSH_DIR/known_hosts.new"
  local e
  for e in "${ENGINES[@]}"; do
    echo "[127.0.0.1]:$(engine_ssh_port "$e") $hostkey" >>"$SSH_DIR/known_hosts.new"
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
  local e=$1 d port
  d=$(sshd_dir "$e")
  port=$(engine_ssh_port "$e")
  mkdir -p "$d" /run/sshd
  chmod 755 /run/sshd
  write_sshd_config "$e" "$d/sshd_config.new"
  if alive "$d/pid" sshd; then
    if cmp -s "$d/sshd_config.new" "$d/sshd_config"; then
      rm -f "$d/sshd_config.new"
      log "ssh $e: reusing running sshd (pid $(pid_of "$d/pid")) on 127.0.0.1:$port"
      return 0
    fi
    log "ssh $e: configuration changed; restarting"
    stop_pid "$d/pid" sshd 10
  fi
  rm -f "$d/pid"
  if port_in_use "$port"; then
    die "ssh $e: 127.0.0.1:$port is already in use by a process this script did not start; free it or set $(engine_key "$e")_SSH_PORT"
  fi
  if ! /usr/sbin/sshd -t -f "$d/sshd_config.new" >"$d/check.log" 2>&1; then
    log_tail "$d/check.log"
    die "ssh $e: sshd rejects its configuration ($d/sshd_config.new)"
  fi
  mv -f "$d/sshd_config.new" "$d/sshd_config"
  [[ -f $d/log ]] && mv -f "$d/log" "$d/log.prev"
  log "ssh $e: starting sshd on 127.0.0.1:$port (sessions use engine $e)"
  # -e: log to stderr (our log file) instead of syslog.
  spawn "$d/pid" "$d/log" "$BASE_PATH" /usr/sbin/sshd -D -e -f "$d/sshd_config"
  touch "$d/fresh"
}

# wait_sshd E: the port answers with an SSH banner; after a fresh start, also one real round trip
# through it to the engine (the docker CLI on this machine, as the remote side, dials the engine).
wait_sshd() {
  local e=$1 d port deadline banner out
  d=$(sshd_dir "$e")
  port=$(engine_ssh_port "$e")
  deadline=$((SECONDS + TIMEOUT))
  while :; do
    banner=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && timeout 5 head -c 7 <&3) 2>/dev/null || true)
    [[ $banner == SSH-2.0 ]] && break
    if ! alive "$d/pid" sshd; then
      log_tail "$d/log"
      die "ssh $e: sshd exited during startup (log: $d/log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$d/log"
      die "ssh $e: no SSH banner on 127.0.0.1:$port after ${TIMEOUT}s"
    fi
    sleep 0.1
  done
  [[ -f $d/fresh ]] || return 0
  if ! out=$(timeout 30 ssh -F "$SSH_DIR/ssh_config" -p "$port" root@127.0.0.1 \
    docker version --format '{{.Server.Version}}' </dev/null 2>&1); then
    log_tail "$d/log"
    die "ssh $e: docker over ssh://root@127.0.0.1:$port does not work: $out"
  fi
  rm -f "$d/fresh"
  log "ssh $e: ssh://root@127.0.0.1:$port reaches Docker $out"
}

# status_sshd E: one status line; returns 1 if engine E's sshd is not up.
status_sshd() {
  local e=$1 d port
  d=$(sshd_dir "$e")
  port=$(sshd_running_port "$e")
  if alive "$d/pid" sshd; then
    printf '%-18s up    ssh://root@127.0.0.1:%s, pid %s\n' "ssh $e" "${port:-?}" "$(pid_of "$d/pid")"
  else
    printf '%-18s DOWN  not running\n' "ssh $e"
    return 1
  fi
}

stop_sshd() {
  local e=$1
  if alive "$(sshd_dir "$e")/pid" sshd; then log "ssh $e: stopping sshd"; fi
  stop_pid "$(sshd_dir "$e")/pid" sshd 10
}
