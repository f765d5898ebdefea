import { randomUUID } from "node:crypto"
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config"
import { type EngineId, engineTarget } from "./test/support/engines.js"

// One id per run, so every resource a test creates can be labelled with it.
process.env.EFFECT_DOCKER_TEST_RUN ??= randomUUID().slice(0, 8)

// Integration tests run once per engine; the project name says which engine and API version each
// result came from (read from engines.env when the engines were started by scripts/engines.sh).
const engineProject = (id: EngineId): TestProjectInlineConfiguration => {
  const target = engineTarget(id)
  const label = target?.api ? `api-${target.api} (docker ${target.version ?? "?"})` : `engine-${id}`
  return {
    extends: true,
    test: {
      name: label,
      include: ["test/integration/**/*.test.ts"],
      env: { EFFECT_DOCKER_TEST_ENGINE: id },
      globalSetup: ["test/support/global-setup.ts"]
    }
  }
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "faults", include: ["test/faults/**/*.test.ts"] } },
      engineProject("a"),
      engineProject("b")
    ]
  }
})
