# Sourced by the project's commands: installs the npm dependencies when they are missing or older
# than package-lock.json (a fresh clone, or after a pull that changed them).
ed_ensure_deps() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    echo "effect-docker: installing npm dependencies (npm ci)" >&2
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# What every project command starts with: from the repository root, with Node >= 22.19 on PATH and
# the npm dependencies installed.
ed_setup() {
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  source scripts/lib/node.sh
  ed_ensure_node
  ed_ensure_deps
}
