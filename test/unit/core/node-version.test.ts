/**
 * The package fails at import on a Node.js older than 22.19 with a message saying what it needs
 * (not undici's `Cannot read properties of undefined (reading 'bind')`). The sources are
 * transpiled one file per module (esbuild, no bundling: the import order stays Node's own) into
 * dist/, and imported by the machine's older Node (`/usr/bin/node`, Node 20 on the Debian 12 test
 * bed; `EFFECT_DOCKER_OLD_NODE` names another) and by this one.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "..", "..")
const oldNode = process.env.EFFECT_DOCKER_OLD_NODE ?? "/usr/bin/node"
const out = join(root, "dist", "test-node-version")

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  )

const importWith = (node: string) =>
  spawnSync(node, ["--input-type=module", "-e", `await import(${JSON.stringify(join(out, "index.js"))})`], {
    encoding: "utf8",
    timeout: 60_000
  })

describe("Node.js version check", () => {
  it("an older Node fails at import saying what is needed; this one imports", { timeout: 120_000 }, async () => {
    const { build } = await import("esbuild")
    rmSync(out, { recursive: true, force: true })
    await build({
      entryPoints: sources(join(root, "src")),
      outdir: out,
      outbase: join(root, "src"),
      format: "esm",
      platform: "node",
      logLevel: "silent"
    })
    expect(existsSync(oldNode), `${oldNode}: an older Node to test with (EFFECT_DOCKER_OLD_NODE)`).toBe(true)
    const version = spawnSync(oldNode, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim()
    const [major = 0, minor = 0] = version.split(".").map(Number)
    expect(major < 22 || (major === 22 && minor < 19), `${oldNode} is ${version}, not older than 22.19`).toBe(true)

    const old = importWith(oldNode)
    expect(old.status).not.toBe(0)
    expect(old.stderr).toContain(`effect-docker needs Node.js 22.19 or newer`)
    expect(old.stderr).toContain(`this is Node.js v${version}`)
    expect(old.stderr).not.toContain("reading 'bind'")

    const current = importWith(process.execPath)
    expect(current.stderr).toBe("")
    expect(current.status).toBe(0)
  })
})
