/**
 * Which real engines the integration tests run against. The engines themselves are listed in
 * `scripts/engines/engines.list` (read here and by `scripts/engines.sh`); `scripts/engines.sh start`
 * writes where they run to `$EFFECT_DOCKER_ENGINES_DIR/engines.env` (default `/tmp/effect-docker`);
 * variables already in the environment win, so a developer can point a project at another daemon.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** An id of `scripts/engines/engines.list`: `docker-20.10`, `docker-latest`. */
export type EngineId = string

export interface EngineSpec {
  readonly id: EngineId
  /** Which part of `scripts/engines/` runs it (`docker`). */
  readonly kind: string
  /** How it is provisioned (`os`, `sid`). */
  readonly from: string
  /** Its position in the list: tells per-engine resources of a test apart (ports, names). */
  readonly index: number
}

export interface EngineTarget extends EngineSpec {
  /** `unix:///…/docker.sock` */
  readonly host: string
  /** The engine's version as the start script recorded it (`20.10.24+dfsg1`), if known. */
  readonly version: string | undefined
  /** The daemon's API version as recorded (`1.41`), if known. */
  readonly api: string | undefined
}

const LIST = fileURLToPath(new URL("../../scripts/engines/engines.list", import.meta.url))

/** The engines of `scripts/engines/engines.list`, in its order (blank lines and `#` comments skipped). */
export const engineList = (): ReadonlyArray<EngineSpec> => {
  const lines = readFileSync(LIST, "utf8").split("\n").map((line) => line.trim())
  return lines.filter((line) => line !== "" && !line.startsWith("#")).map((line, index) => {
    const [id, kind, from] = line.split(/\s+/)
    if (id === undefined || kind === undefined || from === undefined) throw new Error(`${LIST}: bad line "${line}"`)
    return { id, kind, from, index }
  })
}

/**
 * The prefix of engine `id`'s env keys, the one place this is derived in TypeScript (`engine_key`
 * in scripts/engines/common.sh is the bash one): `docker-20.10` → `EFFECT_DOCKER_ENGINE_DOCKER_20_10`.
 */
export const engineKey = (id: EngineId): string => `EFFECT_DOCKER_ENGINE_${id.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`

export const enginesDir = (): string => process.env.EFFECT_DOCKER_ENGINES_DIR ?? "/tmp/effect-docker"

/** engines.env overlaid with the process environment. */
export const engineEnv = (): Record<string, string> => {
  const file = join(enginesDir(), "engines.env")
  const fromFile: Record<string, string> = {}
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
      if (match) fromFile[match[1]!] = match[2]!.replace(/^"(.*)"$/, "$1")
    }
  }
  const merged: Record<string, string> = { ...fromFile }
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("EFFECT_DOCKER_") && value !== undefined) merged[key] = value
  }
  return merged
}

/** Where engine `id` runs, if the env says; throws for an id that is not in the list. */
export const engineTarget = (id: EngineId, env = engineEnv()): EngineTarget | undefined => {
  const spec = engineList().find((engine) => engine.id === id)
  if (spec === undefined) throw new Error(`"${id}" is not an engine of ${LIST}`)
  const key = engineKey(id)
  const host = env[key]
  return host === undefined ? undefined : { ...spec, host, version: env[`${key}_VERSION`], api: env[`${key}_API`] }
}

export const HOW_TO_START =
  "Start the test engines with `sudo bash scripts/engines.sh start` (Debian, root), or point " +
  `${engineList().map((engine) => engineKey(engine.id)).join(" / ")} at running daemons ` +
  "(unix:///path/to/docker.sock). `bash scripts/test.sh` does all of this for you."

/** The engine of the vitest project this file runs in (set by vitest.config.ts). */
export const currentEngine = (): EngineTarget => {
  const id = process.env.EFFECT_DOCKER_TEST_ENGINE
  if (id === undefined) {
    throw new Error("EFFECT_DOCKER_TEST_ENGINE is not set: run integration tests through vitest")
  }
  const target = engineTarget(id)
  if (target === undefined) throw new Error(`No Docker engine "${id}" is configured. ${HOW_TO_START}`)
  return target
}
