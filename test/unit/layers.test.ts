/**
 * The layers of `src/` (README, "Layout"): imports point down, and the pure layers do no I/O.
 * Every relative import and re-export of every module is checked against the table below.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const src = fileURLToPath(new URL("../../src/", import.meta.url))

/** Folder → the folders it may import (its own always). `index.ts` at the root may import all. */
const LAYERS: Readonly<Record<string, ReadonlyArray<string>>> = {
  core: [],
  generated: ["core"],
  wire: ["core", "generated"],
  "docker-cli": ["core", "wire"],
  archive: ["core", "wire"],
  engine: ["core", "generated", "wire", "docker-cli"],
  buildkit: ["core", "generated", "wire", "docker-cli", "engine"],
  services: ["core", "generated", "wire", "docker-cli", "archive", "engine", "buildkit"]
}

/** Pure layers: codecs and data, no filesystem, sockets or processes. */
const PURE = new Set(["core", "generated", "wire"])
const IO_MODULES = /^node:(fs|fs\/promises|net|tls|child_process|http|https|dgram)$/

const modules = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? modules(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

const specifiers = (file: string): Array<string> =>
  [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^"']*?\bfrom\s*["']([^"']+)["']/gm)].map((m) =>
    m[1]!
  )

const layerOf = (file: string): string => relative(src, file).split("/")[0]!

describe("layers", () => {
  const files = modules(src)

  it("every folder of src/ is in the table", () => {
    const folders = new Set(files.map(layerOf).filter((l) => !l.endsWith(".ts")))
    expect([...folders].sort()).toEqual(Object.keys(LAYERS).sort())
  })

  it("imports point down: each module imports only its own layer and the layers below", () => {
    const wrong: Array<string> = []
    for (const file of files) {
      const from = layerOf(file)
      if (from.endsWith(".ts")) continue // src/index.ts: the public surface
      for (const spec of specifiers(file)) {
        if (!spec.startsWith(".")) continue
        const to = layerOf(resolve(dirname(file), spec))
        if (to !== from && !LAYERS[from]!.includes(to)) wrong.push(`${relative(src, file)} → ${spec} (${from} → ${to})`)
      }
    }
    expect(wrong).toEqual([])
  })

  it("core, generated and wire do no I/O", () => {
    const wrong = files.filter((f) => PURE.has(layerOf(f))).flatMap((file) =>
      specifiers(file).filter((s) => IO_MODULES.test(s)).map((s) => `${relative(src, file)} → ${s}`)
    )
    expect(wrong).toEqual([])
  })

  it("the check sees what it should: a module's imports are found", () => {
    expect(specifiers(join(src, "engine", "engine.ts"))).toContain("../core/errors.js")
  })
})
