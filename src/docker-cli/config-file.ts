/**
 * The Docker CLI's configuration directory and its `config.json`, read in one place for everything
 * that needs it: the current context (`docker-cli/context.ts`) and registry credentials
 * (`docker-cli/credentials.ts`). Synchronous and small: the file is a few KiB, read once per use.
 */
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

/** One entry of `auths` in `config.json`, as the CLI writes it. */
export interface ConfigAuthEntry {
  /** base64 of `username:password`, as `docker login` writes it. */
  readonly auth?: string
  /** The user, when written apart. */
  readonly username?: string
  /** The password, when written apart. */
  readonly password?: string
  /** The e-mail address (legacy). */
  readonly email?: string
  /** The registry the entry is for. */
  readonly serveraddress?: string
  /** An OAuth refresh token the registry issued. */
  readonly identitytoken?: string
  /** A bearer token for the registry. */
  readonly registrytoken?: string
}

/** The parts of `config.json` this library reads. */
export interface DockerConfigFile {
  /** The context `docker context use` chose. */
  readonly currentContext?: string
  /** Stored credentials, by registry. */
  readonly auths?: Readonly<Record<string, ConfigAuthEntry>>
  /** The credential helper for every registry (`docker-credential-<credsStore>`). */
  readonly credsStore?: string
  /** Credential helpers by registry. */
  readonly credHelpers?: Readonly<Record<string, string>>
}

/** A `config.json` read: its settings (a missing or empty file has none), or why it could not be. */
export type ConfigFileRead =
  | { readonly file: string; readonly config: DockerConfigFile }
  | { readonly file: string; readonly error: string }

const trimmed = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim()

/** `DOCKER_CONFIG`, else `~/.docker` (`HOME` from `env`, else the process's home directory). */
export const configDirectory = (
  env: { readonly DOCKER_CONFIG?: string | undefined; readonly HOME?: string | undefined }
): string => trimmed(env.DOCKER_CONFIG) ?? join(trimmed(env.HOME) ?? homedir(), ".docker")

/** The system error code of a failed read (`EACCES`…), or `invalid JSON`. */
export const errorCode = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : error instanceof SyntaxError ? "invalid JSON" : "unreadable"
}

/**
 * A JSON file: its value, `missing` when it does not exist, or the reason it cannot be read.
 * Shared with the context store's `meta.json`.
 */
export const readJsonFile = (
  file: string
): { readonly value: unknown } | { readonly missing: true } | { readonly error: string } => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (error) {
    return errorCode(error) === "ENOENT" ? { missing: true } : { error: errorCode(error) }
  }
  if (text.trim() === "") return { value: {} }
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return { error: "invalid JSON" }
  }
}

/** Go's encoding/json matches keys case-insensitively; the CLI writes `Endpoints`, `Host`… */
export const jsonField = (value: unknown, name: string): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  if (name in record) return record[name]
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? undefined : record[key]
}

const objectOrUndefined = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** `<configDir>/config.json`; a missing file is an empty configuration. */
export const readConfigFile = (configDir: string): ConfigFileRead => {
  const file = join(configDir, "config.json")
  const read = readJsonFile(file)
  if ("error" in read) return { file, error: read.error }
  if ("missing" in read) return { file, config: {} }
  const currentContext = jsonField(read.value, "currentContext")
  const auths = objectOrUndefined(jsonField(read.value, "auths")) as DockerConfigFile["auths"]
  const credsStore = jsonField(read.value, "credsStore")
  const credHelpers = objectOrUndefined(jsonField(read.value, "credHelpers")) as DockerConfigFile["credHelpers"]
  return {
    file,
    config: {
      ...(typeof currentContext === "string" && currentContext !== "" ? { currentContext } : {}),
      ...(auths ? { auths } : {}),
      ...(typeof credsStore === "string" ? { credsStore } : {}),
      ...(credHelpers ? { credHelpers } : {})
    }
  }
}
