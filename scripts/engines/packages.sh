# shellcheck shell=bash
# scripts/engines/packages.sh — installing Debian 12's packages and unpacking Debian unstable's docker.io
# Sourced by scripts/engines.sh, which sets -euo pipefail.

# openssh-server: for the ssh:// transport tests. Its postinst may start the system's sshd service
# (port 22) where a service manager runs; ours are private instances on 127.0.0.1 only.
# iproute2: `ip`, which makes each engine's default-bridge interface (dockerd.sh).
PACKAGES=(docker.io busybox-static docker-registry apache2-utils curl openssl openssh-server iproute2)
# Engines of kind podman: Debian 12's podman with runc (it would otherwise pull crun, which refuses
# hybrid cgroup hosts: podman.sh) and CNI's plugins, named: podman depends on either them or netavark
# (a virtual "container-network-stack"), and podman.sh configures CNI.
for _e in "${ENGINES[@]}"; do
  if [[ ${ENGINE_KIND[$_e]} == podman ]]; then
    PACKAGES+=(podman runc containernetworking-plugins)
    break
  fi
done
unset _e

# ---------------------------------------------------------------------------------------------
# Installation
# ---------------------------------------------------------------------------------------------

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || echo "$p"
  done
}

# Where engine E's binaries come from (engines.list's "from"): os = the system's /usr (Debian 12's
# packages), sid = $NEWEST, the unpacked tree of Debian unstable's packages.
engine_prefix() {
  case ${ENGINE_FROM[$1]} in
    os) printf '' ;;
    sid) printf '%s' "$NEWEST" ;;
  esac
}

# The engine's own binaries come first on PATH: dockerd finds containerd, containerd-shim-runc-v2,
# docker-proxy and docker-init through PATH. The unpacked tree of sid has no runc (deleted on
# unpack, it needs a newer glibc), so the lookup falls through to the OS runc.
engine_path() {
  local prefix
  prefix=$(engine_prefix "$1")
  printf '%s' "${prefix:+$prefix/usr/sbin:$prefix/usr/bin:}$BASE_PATH"
}
engine_dockerd() { printf '%s/usr/sbin/dockerd' "$(engine_prefix "$1")"; }
engine_containerd() { printf '%s/usr/bin/containerd' "$(engine_prefix "$1")"; }

# Some engine runs Debian unstable's packages (else there is nothing to fetch).
needs_newest() {
  local e
  for e in "${ENGINES[@]}"; do [[ ${ENGINE_FROM[$e]} == sid ]] && return 0; done
  return 1
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

# Engines from sid: Debian unstable's docker.io and containerd, downloaded with a PRIVATE apt
# configuration (own sources list, lists dir, cache dir, empty dpkg status and no pinning) so
# the system's apt sources and package state are never touched, then unpacked (not installed)
# into $NEWEST. Reused as long as it is there; delete $NEWEST to fetch today's versions.
fetch_newest() {
  needs_newest || return 0
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
