/**
 * Which real engines the integration tests run against. `scripts/engines.sh start` writes them to
 * `$EFFECT_DOCKER_ENGINES_DIR/engines.env` (default `/tmp/effect-docker`); variables already in the
 * environment win, so a developer can point a project at another daemon.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"

export type EngineId = "a" | "b"

export interface EngineTarget {
  readonly id: EngineId
  /** `unix:///…/docker.sock` */
  readonly host: string
  /** The engine's version as the start script recorded it (`20.10.24+dfsg1`), if known. */
  readonly version: string | undefined
  /** The daemon's API version as recorded (`1.41`), if known. */
  readonly api: string | undefined
}

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

export const engineTarget = (id: EngineId, env = engineEnv()): EngineTarget | undefined => {
  const key = `EFFECT_DOCKER_ENGINE_${id.toUpperCase()}`
  const host = env[key]
  return host === undefined ? undefined : { id, host, version: env[`${key}_VERSION`], api: env[`${key}_API`] }
}

export const HOW_TO_START =
  "Start the test engines with `sudo bash scripts/engines.sh start` (Debian, root), or point " +
  "EFFECT_DOCKER_ENGINE_A / EFFECT_DOCKER_ENGINE_B at running daemons (unix:///path/to/docker.sock). " +
  "`bash scripts/test.sh` does all of this for you."

/** The engine of the vitest project this file runs in (set by vitest.config.ts). */
export const currentEngine = (): EngineTarget => {
  const id = process.env.EFFECT_DOCKER_TEST_ENGINE as EngineId | undefined
  if (id !== "a" && id !== "b") {
    throw new Error("EFFECT_DOCKER_TEST_ENGINE is not set: run integration tests through vitest")
  }
  const target = engineTarget(id)
  if (target === undefined) throw new Error(`No Docker engine "${id}" is configured. ${HOW_TO_START}`)
  return target
}
