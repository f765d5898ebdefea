/**
 * The packed tarball as a user gets it: `npm pack`, installed with its peers into a fresh project,
 * type-checked under TypeScript `NodeNext` and `bundler`, and run as an ES module and from
 * CommonJS (`require(esm)`, Node ≥ 22.12) against this engine. Also: no `.js.map` in the tarball
 * points at a source it does not ship (it ships no maps).
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { currentEngine } from "../support/engines.js"

const target = currentEngine()
const root = join(import.meta.dirname, "..", "..")
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 240_000 })

const program = `import { runMain } from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Containers, Docker, System } from "effect-docker"

const program = Effect.gen(function*() {
  const ping = yield* (yield* System).ping()
  const list = yield* (yield* Containers).list({ all: true })
  yield* Console.log(\`OK API \${ping.apiVersion}: \${list.length} containers\`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
`
const cjs = `const { runMain } = require("@effect/platform-node/NodeRuntime")
const Effect = require("effect/Effect")
const { Docker, System } = require("effect-docker")

runMain(Effect.gen(function*() {
  const ping = yield* (yield* System).ping()
  console.log("OK CJS API " + ping.apiVersion)
}).pipe(Effect.provide(Docker.layerFromEnv)))
`
const tsconfig = (module: string, moduleResolution: string) =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
      target: "ES2023",
      module,
      moduleResolution
    },
    files: ["main.ts"]
  })

describe(`the packed tarball on engine ${target.id}`, () => {
  it("installs with its peers, type-checks under NodeNext and bundler, runs as ESM and CJS", {
    timeout: 600_000
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "effect-docker-pack-"))
    try {
      rmSync(join(root, "dist", "src"), { recursive: true, force: true }) // nothing stale gets packed
      run("npm", ["run", "-s", "build"], root)
      const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root))[0]
      const files: Array<string> = packed.files.map((f: { path: string }) => f.path)
      expect(files.filter((f) => f.endsWith(".map"))).toEqual([])
      expect(files).toContain("dist/esm/index.js")
      // declarations only from dist/src: its JavaScript is the one-file-per-module build of the benches
      expect(files.filter((f) => f.startsWith("dist/src/") && !f.endsWith(".d.ts"))).toEqual([])
      expect(files).toContain("dist/src/index.d.ts")
      // the examples the README links, reachable from the package page
      expect(files).toContain("examples/quickstart.ts")

      const app = join(dir, "app")
      run("mkdir", ["-p", app], dir)
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }))
      const dev = pkg.devDependencies as Record<string, string>
      run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        join(dir, packed.filename),
        `effect@${dev["effect"]}`,
        `@effect/platform-node@${dev["@effect/platform-node"]}`,
        `typescript@${dev["typescript"]}`,
        `@types/node@${dev["@types/node"]}`
      ], app)
      // one copy of Effect: the app's, which effect-docker uses as its peer
      expect(run("npm", ["ls", "effect", "--all", "--parseable"], app).trim().split("\n")).toHaveLength(1)

      writeFileSync(join(app, "main.ts"), program)
      writeFileSync(join(app, "tsconfig.nodenext.json"), tsconfig("NodeNext", "NodeNext"))
      writeFileSync(join(app, "tsconfig.bundler.json"), tsconfig("preserve", "bundler"))
      const tsc = join(app, "node_modules", "typescript", "bin", "tsc")
      run(process.execPath, [tsc, "-p", "tsconfig.nodenext.json"], app)
      run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], app)

      writeFileSync(join(app, "main.mjs"), program)
      writeFileSync(join(app, "main.cjs"), cjs)
      const env = { DOCKER_HOST: target.host }
      expect(run(process.execPath, ["main.mjs"], app, env)).toMatch(/^OK API \d+\.\d+: \d+ containers/)
      expect(run(process.execPath, ["main.cjs"], app, env)).toMatch(/^OK CJS API \d+\.\d+/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
