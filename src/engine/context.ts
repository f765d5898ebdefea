/**
 * Which daemon, and with which TLS material, the way the Docker CLI decides it from its
 * environment and its configuration directory. Reads files (synchronously, once), no network.
 *
 * The rules, as in docker/cli (`cli/command/cli.go` resolveContextName and
 * resolveDefaultDockerEndpoint, `cli/flags/options.go`, `cli/context/docker/load.go`,
 * `cli/context/store`):
 *
 * 1. The context: `DOCKER_HOST` set (non-empty) → the "default" context; else `DOCKER_CONTEXT`;
 *    else `currentContext` in `$DOCKER_CONFIG/config.json`; else "default".
 * 2. The "default" context is the environment: host `DOCKER_HOST` (unset: the default socket, or
 *    `tcp://localhost:2376` when TLS is on). TLS is on when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is
 *    non-empty (any value, even "0"); the certificate is verified when `DOCKER_TLS_VERIFY` is. The
 *    material comes from `DOCKER_CERT_PATH` (default: the config directory): `ca.pem` must be
 *    there, `cert.pem` and `key.pem` are used when present.
 * 3. A named context is `contexts/meta/<sha256(name)>/meta.json` under the config directory:
 *    `Endpoints.docker.Host` and `.SkipTLSVerify`; its TLS material is whatever of `ca.pem`,
 *    `cert.pem`, `key.pem` lies in `contexts/tls/<sha256(name)>/docker/`. TLS is on when that
 *    directory exists or `SkipTLSVerify` is set; the TLS environment variables do not apply.
 * 4. The config directory is `DOCKER_CONFIG`, default `~/.docker`.
 */
import { Config, Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import type { TlsOptions } from "./connector.js"
import { EndpointError } from "./errors.js"

/** The variables the CLI reads (unset and empty mean the same). */
export interface DockerEnv {
  readonly DOCKER_HOST?: string | undefined
  readonly DOCKER_CONTEXT?: string | undefined
  readonly DOCKER_CONFIG?: string | undefined
  readonly DOCKER_TLS_VERIFY?: string | undefined
  readonly DOCKER_TLS?: string | undefined
  readonly DOCKER_CERT_PATH?: string | undefined
  /** For `~/.docker`; default: the process's home directory. */
  readonly HOME?: string | undefined
}

export const DEFAULT_CONTEXT = "default"
const DEFAULT_TLS_HOST = "tcp://localhost:2376"

/** What decided the context. */
export type ContextSource = "DOCKER_HOST" | "DOCKER_CONTEXT" | "config.json" | "default"

export interface ResolvedContext {
  /** The context's name (`default` for the environment). */
  readonly name: string
  readonly source: ContextSource
  /** The configuration directory in use. */
  readonly configDir: string
  /** The daemon's address; `undefined` means the default unix socket. */
  readonly host: string | undefined
  /** TLS material (already read) when TLS is on. */
  readonly tls: TlsOptions | undefined
}

const set = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim()

/** `DOCKER_CONFIG`, else `~/.docker`. */
export const configDirectory = (env: DockerEnv): string =>
  set(env.DOCKER_CONFIG) ?? join(set(env.HOME) ?? homedir(), ".docker")

/** The directory name the CLI's context store uses for a context: hex SHA-256 of its name. */
export const contextDigest = (name: string): string => createHash("sha256").update(name).digest("hex")

export const contextMetaFile = (configDir: string, name: string): string =>
  join(configDir, "contexts", "meta", contextDigest(name), "meta.json")

export const contextTlsDirectory = (configDir: string, name: string): string =>
  join(configDir, "contexts", "tls", contextDigest(name), "docker")

const fail = (endpoint: string, message: string) => new EndpointError({ endpoint, message })

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : error instanceof SyntaxError ? "invalid JSON" : "unreadable"
}

const readJson = (
  file: string
): { readonly value: unknown } | { readonly missing: true } | { readonly error: string } => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (error) {
    return codeOf(error) === "ENOENT" ? { missing: true } : { error: codeOf(error) }
  }
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return { error: "invalid JSON" }
  }
}

/** Go's encoding/json matches keys case-insensitively; the CLI writes `Endpoints`, `Host`… */
const field = (value: unknown, name: string): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  if (name in record) return record[name]
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? undefined : record[key]
}

/** The context name, with the CLI's precedence. Reads `config.json` only when it matters. */
export const resolveContextName = (
  env: DockerEnv
): { readonly name: string; readonly source: ContextSource } | EndpointError => {
  if (set(env.DOCKER_HOST) !== undefined) return { name: DEFAULT_CONTEXT, source: "DOCKER_HOST" }
  const fromEnv = set(env.DOCKER_CONTEXT)
  if (fromEnv !== undefined) return { name: fromEnv, source: "DOCKER_CONTEXT" }
  const file = join(configDirectory(env), "config.json")
  const config = readJson(file)
  if ("error" in config) {
    return fail(file, `cannot read the Docker CLI configuration ${file} (${config.error})`)
  }
  if ("value" in config) {
    const current = field(config.value, "currentContext")
    if (typeof current === "string" && current !== "") return { name: current, source: "config.json" }
  }
  return { name: DEFAULT_CONTEXT, source: "default" }
}

/** `ca.pem` (required), `cert.pem` and `key.pem` (when present) of a DOCKER_CERT_PATH-style dir. */
const readCertPath = (
  dir: string,
  requireCa: boolean,
  context: string
): { ca?: Buffer; cert?: Buffer; key?: Buffer } | EndpointError => {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}
  for (const [name, slot] of [["ca.pem", "ca"], ["cert.pem", "cert"], ["key.pem", "key"]] as const) {
    const file = join(dir, name)
    try {
      out[slot] = readFileSync(file)
    } catch (error) {
      const code = codeOf(error)
      if (code === "ENOENT" && !(requireCa && slot === "ca")) continue
      return fail(
        file,
        `cannot read ${file}, the ${
          slot === "ca" ? "CA certificate" : slot === "cert" ? "client certificate" : "client key"
        } ` +
          `of the Docker context "${context}" (${code})`
      )
    }
  }
  return out
}

/**
 * The endpoint and TLS material the Docker CLI would use with this environment, or a typed error
 * naming the context or file that is missing or unreadable.
 */
export const resolveDockerContext = (env: DockerEnv): ResolvedContext | EndpointError => {
  const chosen = resolveContextName(env)
  if (chosen instanceof EndpointError) return chosen
  const configDir = configDirectory(env)
  const { name, source } = chosen

  if (name === DEFAULT_CONTEXT) {
    const verify = set(env.DOCKER_TLS_VERIFY) !== undefined
    const useTls = verify || set(env.DOCKER_TLS) !== undefined
    const host = set(env.DOCKER_HOST) ?? (useTls ? DEFAULT_TLS_HOST : undefined)
    if (!useTls) return { name, source, configDir, host, tls: undefined }
    const certPath = set(env.DOCKER_CERT_PATH) ?? configDir
    const material = readCertPath(certPath, true, name)
    if (material instanceof EndpointError) return material
    // As the CLI: a certificate without its key (or the reverse) fails when the client is built.
    return { name, source, configDir, host, tls: { ...material, verify } }
  }

  const metaFile = contextMetaFile(configDir, name)
  const meta = readJson(metaFile)
  const from = source === "DOCKER_CONTEXT" ? "DOCKER_CONTEXT" : `currentContext in ${join(configDir, "config.json")}`
  if ("missing" in meta) {
    return fail(
      name,
      `Docker context "${name}" (from ${from}) does not exist: no ${metaFile}`
    )
  }
  if ("error" in meta) {
    return fail(metaFile, `cannot read the metadata of Docker context "${name}", ${metaFile} (${meta.error})`)
  }
  const docker = field(field(meta.value, "Endpoints"), "docker")
  if (docker === undefined || docker === null) {
    return fail(metaFile, `Docker context "${name}" has no docker endpoint (${metaFile})`)
  }
  const rawHost = field(docker, "Host")
  if (rawHost !== undefined && typeof rawHost !== "string") {
    return fail(metaFile, `Docker context "${name}": Endpoints.docker.Host is not a string (${metaFile})`)
  }
  const skipVerify = field(docker, "SkipTLSVerify") === true
  const host = set(rawHost)

  const tlsDir = contextTlsDirectory(configDir, name)
  let hasTlsDir = false
  try {
    hasTlsDir = readdirSync(tlsDir).length >= 0
  } catch (error) {
    if (codeOf(error) !== "ENOENT") {
      return fail(tlsDir, `cannot read the TLS material of Docker context "${name}", ${tlsDir} (${codeOf(error)})`)
    }
  }
  if (!hasTlsDir && !skipVerify) return { name, source, configDir, host, tls: undefined }
  const material = hasTlsDir ? readCertPath(tlsDir, false, name) : {}
  if (material instanceof EndpointError) return material
  return { name, source, configDir, host, tls: { ...material, verify: !skipVerify } }
}

/** The variables `resolveDockerContext` reads, from the current `ConfigProvider` (the environment). */
export const dockerEnvConfig: Effect.Effect<DockerEnv, Config.ConfigError> = Effect.map(
  Effect.all(
    ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "HOME"]
      .map((name) =>
        Effect.map(Config.option(Config.String(name)), (value) => [name, Option.getOrUndefined(value)] as const)
      )
  ),
  (entries): DockerEnv => Object.fromEntries(entries)
)

/**
 * Engine options the way the Docker CLI would connect with the current environment: the context's
 * host and TLS material (read now), and `DOCKER_API_VERSION` as a pin.
 */
export const engineOptionsFromEnv: Effect.Effect<
  { readonly host: string | undefined; readonly apiVersion: string | undefined; readonly tls: TlsOptions | undefined },
  EndpointError | Config.ConfigError
> = Effect.gen(function*() {
  const env = yield* dockerEnvConfig
  const apiVersion = yield* Config.option(Config.String("DOCKER_API_VERSION"))
  const resolved = resolveDockerContext(env)
  if (resolved instanceof EndpointError) return yield* resolved
  return { host: resolved.host, apiVersion: set(Option.getOrUndefined(apiVersion)), tls: resolved.tls }
})
