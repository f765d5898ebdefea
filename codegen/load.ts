/**
 * Stage 1 — load: read `spec/versions.json`, verify every upstream file's sha256, parse the YAML.
 * The upstream specs are never copied into the repo; they are read from
 * `$EFFECT_DOCKER_SPEC_DIR` or `<repo root>/../shared/docker-engine-api`.
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"

/** The repository root (this file lives in `<root>/codegen/`), independent of the cwd. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")

export const specDir = (): string =>
  process.env["EFFECT_DOCKER_SPEC_DIR"] ?? resolve(repoRoot, "..", "shared", "docker-engine-api")

export interface VersionEntry {
  readonly version: string
  readonly file: string
  readonly sha256: string
}

export interface VersionsFile {
  readonly versions: ReadonlyArray<VersionEntry>
}

/** A Swagger 2.0 document, loosely typed: the generator validates what it reads as it goes. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

export type Doc = Record<string, any>

export interface LoadedSpec {
  readonly version: string
  readonly doc: Doc
}

export class CodegenError extends Error {
  override readonly name = "CodegenError"
}

export const readVersions = (): VersionsFile => {
  const raw = JSON.parse(readFileSync(join(repoRoot, "spec", "versions.json"), "utf8")) as VersionsFile
  const seen = new Set<string>()
  for (const v of raw.versions) {
    if (!/^1\.\d+$/.test(v.version)) throw new CodegenError(`spec/versions.json: bad version "${v.version}"`)
    if (seen.has(v.version)) throw new CodegenError(`spec/versions.json: duplicate version ${v.version}`)
    seen.add(v.version)
  }
  return raw
}

/** Numeric comparison of "1.NN" versions. */
export const compareVersions = (a: string, b: string): number => {
  const [am = 0, an = 0] = a.split(".").map(Number)
  const [bm = 0, bn = 0] = b.split(".").map(Number)
  return am - bm || an - bn
}

export const loadSpecs = (): ReadonlyArray<LoadedSpec> => {
  const dir = specDir()
  const { versions } = readVersions()
  const sorted = [...versions].sort((a, b) => compareVersions(a.version, b.version))
  return sorted.map((v) => {
    const path = join(dir, v.file)
    let bytes: Buffer
    try {
      bytes = readFileSync(path)
    } catch {
      throw new CodegenError(
        `cannot read ${path}. Set EFFECT_DOCKER_SPEC_DIR to the directory holding the upstream specs ` +
          `(default: <repo>/../shared/docker-engine-api).`
      )
    }
    const sha = createHash("sha256").update(bytes).digest("hex")
    if (sha !== v.sha256) {
      throw new CodegenError(
        `checksum mismatch for ${path}:\n  expected ${v.sha256} (spec/versions.json)\n  actual   ${sha}\n` +
          `The upstream spec changed. Check the change, then update spec/versions.json deliberately.`
      )
    }
    const doc = parse(bytes.toString("utf8")) as Doc
    const declared = String(doc["info"]?.["version"])
    if (declared !== v.version) {
      throw new CodegenError(`${v.file}: info.version is ${declared}, spec/versions.json says ${v.version}`)
    }
    return { version: v.version, doc }
  })
}
