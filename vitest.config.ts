import { randomUUID } from "node:crypto"
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config"
import { engineList, type EngineSpec, engineTarget } from "./test/support/engines.js"

// One id per run, so every resource a test creates can be labelled with it.
process.env.EFFECT_DOCKER_TEST_RUN ??= randomUUID().slice(0, 8)

// Integration tests run once per engine of scripts/engines/engines.list; the project name says which
// engine and API version each result came from (the API read from engines.env when the engines were
// started by scripts/engines.sh): `docker-20.10 (api 1.41)`.
// Swarm tests (test/integration/swarm/) are a project of their own per engine that runs its files
// one after another: an engine is in one swarm at a time, and one file's leave would end another's.
// Podman has no swarm (its swarm endpoints answer UnsupportedByEngine: test/unit/engine/podman-answers.test.ts):
// its engines get no swarm project.
const engineProjects = ({ id, kind }: EngineSpec): Array<TestProjectInlineConfiguration> => {
  const api = engineTarget(id)?.api
  const name = api ? `${id} (api ${api})` : id
  const common = { env: { EFFECT_DOCKER_TEST_ENGINE: id }, globalSetup: ["test/support/global-setup.ts"] }
  const main: TestProjectInlineConfiguration = {
    extends: true,
    test: {
      ...common,
      name,
      include: ["test/integration/**/*.test.ts"],
      exclude: ["test/integration/swarm/**", "test/integration/cluster/**"]
    }
  }
  if (kind === "podman") return [main]
  return [
    main,
    {
      extends: true,
      test: {
        ...common,
        name: `${name} swarm`,
        include: ["test/integration/swarm/**/*.test.ts"],
        fileParallelism: false
      }
    }
  ]
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "faults", include: ["test/faults/**/*.test.ts"] } },
      ...engineList().flatMap(engineProjects),
      // The three-node swarm of the test bed (scripts/engines/cluster.sh, test/support/cluster.ts): its
      // files one after another (one cluster at a time), in a group of their own (groupOrder): vitest
      // runs groups one after the other (here: the parallel projects, then this one, then every
      // project that runs one file at a time — on a 2-core machine that is all of them), so the
      // cluster runs alone: its kills and elections are not slowed by the rest of the suite, and its
      // nodes never take the swarm gossip port (127.0.0.1:7946, which no option moves) from the
      // one-node swarms of the swarm projects.
      {
        extends: true,
        test: {
          name: "cluster",
          include: ["test/integration/cluster/**/*.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          globalSetup: ["test/support/cluster-setup.ts"],
          // Each test waits (bounded) for schedulers, updates, deaths and elections.
          testTimeout: 240_000
        }
      },
      // The packed tarball, installed into a fresh project, run once against the newest Docker engine.
      {
        extends: true,
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          env: { EFFECT_DOCKER_TEST_ENGINE: engineList().filter((engine) => engine.kind === "docker").at(-1)!.id },
          globalSetup: ["test/support/global-setup.ts"]
        }
      }
    ]
  }
})
