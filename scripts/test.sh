#!/usr/bin/env bash
# The README's test command (and what CI runs): gets Node >= 22.19, installs dependencies, starts
# the real test engines (when root), then typechecks, lints, checks generated code, builds the API
# reference and runs every test on every engine of scripts/engines/engines.list. Exits non-zero on
# any failure.
set -euo pipefail
source "$(dirname "$0")/lib/deps.sh"
ed_setup

if [ "$(id -u)" = 0 ]; then
  bash scripts/engines.sh start
else
  echo "effect-docker: not root, so not starting engines; using those in \${EFFECT_DOCKER_ENGINES_DIR:-/tmp/effect-docker}/engines.env" >&2
fi

step() { printf '\n== %s\n' "$*"; }
step "typecheck"; npm run -s typecheck
step "lint"; npm run -s lint
if npm pkg get scripts.codegen:check | grep -q codegen; then step "codegen:check"; npm run -s codegen:check; fi
# The API reference (TypeDoc, typedoc.json): fails on any warning, an undocumented export included.
step "docs"; npm run -s docs

step "tests (unit + integration on every engine)"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One closing line any CI reader understands, from vitest's own JSON report.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))
' "$report" || true
rm -f "$report"
exit "$status"
