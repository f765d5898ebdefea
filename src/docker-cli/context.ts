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
import type * as Config from "effect/Config"
import type * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { EndpointError } from "../core/errors.js"
import { configDirectory, errorCode, jsonField, readConfigFile, readJsonFile } from "./config-file.js"

/** The variables the CLI reads (unset and empty mean the same). */
export interface DockerEnv {
  /** The daemon's address (`unix://…`, `tcp://…`, `ssh://…`). */
  readonly DOCKER_HOST?: string | undefined
  /** The context to use (over `currentContext` of config.json). */
  readonly DOCKER_CONTEXT?: string | undefined
  /** The CLI's configuration directory (default `~/.docker`). */
  readonly DOCKER_CONFIG?: string | undefined
  /** Non-empty: TLS, verifying the daemon. */
  readonly DOCKER_TLS_VERIFY?: string | undefined
  /** Non-empty: TLS. */
  readonly DOCKER_TLS?: string | undefined
  /** Where `ca.pem`, `cert.pem` and `key.pem` are. */
  readonly DOCKER_CERT_PATH?: string | undefined
  /** For `~/.docker`; default: the process's home directory. */
  readonly HOME?: string | undefined
}

/** TLS material as the CLI finds it (PEM bytes, read), and whether to verify the daemon. */
export interface TlsMaterial {
  /** The CA's certificate (PEM). */
  readonly ca?: Uint8Array | undefined
  /** The client's certificate (PEM). */
  readonly cert?: Uint8Array | undefined
  /** The client's key (PEM). */
  readonly key?: Uint8Array | undefined
  /** Verify the daemon's certificate. */
  readonly verify: boolean
}

/** The name of the context made from the environment. */
export const DEFAULT_CONTEXT = "default"
const DEFAULT_TLS_HOST = "tcp://localhost:2376"

/** What decided the context. */
export type ContextSource = "DOCKER_HOST" | "DOCKER_CONTEXT" | "config.json" | "default"

/** The context the Docker CLI would use, resolved (`resolveDockerContext`). */
export interface ResolvedContext {
  /** The context's name (`default` for the environment). */
  readonly name: string
  /** What decided it. */
  readonly source: ContextSource
  /** The configuration directory in use. */
  readonly configDir: string
  /** The daemon's address; `undefined` means the default unix socket. */
  readonly host: string | undefined
  /** TLS material (already read) when TLS is on. */
  readonly tls: TlsMaterial | undefined
}

const set = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim()

export { configDirectory } from "./config-file.js"

/** The directory name the CLI's context store uses for a context: hex SHA-256 of its name. */
export const contextDigest = (name: string): string => createHash("sha256").update(name).digest("hex")

export const contextMetaFile = (configDir: string, name: string): string =>
  join(configDir, "contexts", "meta", contextDigest(name), "meta.json")

export const contextTlsDirectory = (configDir: string, name: string): string =>
  join(configDir, "contexts", "tls", contextDigest(name), "docker")

const fail = (endpoint: string, message: string) => new EndpointError({ endpoint, message })

/** The context name, with the CLI's precedence. Reads `config.json` only when it matters. */
export const resolveContextName = (
  env: DockerEnv
): { readonly name: string; readonly source: ContextSource } | EndpointError => {
  if (set(env.DOCKER_HOST) !== undefined) return { name: DEFAULT_CONTEXT, source: "DOCKER_HOST" }
  const fromEnv = set(env.DOCKER_CONTEXT)
  if (fromEnv !== undefined) return { name: fromEnv, source: "DOCKER_CONTEXT" }
  const read = readConfigFile(configDirectory(env))
  if ("error" in read) {
    return fail(read.file, `cannot read the Docker CLI configuration ${read.file} (${read.error})`)
  }
  const current = read.config.currentContext
  return current !== undefined ? { name: current, source: "config.json" } : { name: DEFAULT_CONTEXT, source: "default" }
}

/** `ca.pem` (required), `cert.pem` and `key.pem` (when present) of a DOCKER_CERT_PATH-style dir. */
const readCertPath = (
  dir: string,
  requireCa: boolean,
  context: string
): { ca?: Uint8Array; cert?: Uint8Array; key?: Uint8Array } | EndpointError => {
  const out: { ca?: Uint8Array; cert?: Uint8Array; key?: Uint8Array } = {}
  for (const [name, slot] of [["ca.pem", "ca"], ["cert.pem", "cert"], ["key.pem", "key"]] as const) {
    const file = join(dir, name)
    try {
      out[slot] = readFileSync(file)
    } catch (error) {
      const code = errorCode(error)
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
  const meta = readJsonFile(metaFile)
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
  const docker = jsonField(jsonField(meta.value, "Endpoints"), "docker")
  if (docker === undefined || docker === null) {
    return fail(metaFile, `Docker context "${name}" has no docker endpoint (${metaFile})`)
  }
  const rawHost = jsonField(docker, "Host")
  if (rawHost !== undefined && typeof rawHost !== "string") {
    return fail(metaFile, `Docker context "${name}": Endpoints.docker.Host is not a string (${metaFile})`)
  }
  const skipVerify = jsonField(docker, "SkipTLSVerify") === true
  const host = set(rawHost)

  const tlsDir = contextTlsDirectory(configDir, name)
  let hasTlsDir = false
  try {
    hasTlsDir = readdirSync(tlsDir).length >= 0
  } catch (error) {
    if (errorCode(error) !== "ENOENT") {
      return fail(tlsDir, `cannot read the TLS material of Docker context "${name}", ${tlsDir} (${errorCode(error)})`)
    }
  }
  if (!hasTlsDir && !skipVerify) return { name, source, configDir, host, tls: undefined }
  const material = hasTlsDir ? readCertPath(tlsDir, false, name) : {}
  if (material instanceof EndpointError) return material
  return { name, source, configDir, host, tls: { ...material, verify: !skipVerify } }
}

/**
 * The `ConfigProvider` a program provided (`ConfigProvider.layer(…)`, `Effect.provideService`),
 * looked up by its key, or `undefined` when it provided none. The same key as
 * `ConfigProvider.ConfigProvider`, whose module is then never evaluated: `effect/ConfigProvider`
 * evaluates FileSystem, Path and Stream, and `effect/Config` Schema, none of which a program that
 * only talks to a daemon otherwise loads (bench/README.md, "Start-up").
 */
const ProvidedConfigProvider = Context.Reference<ConfigProvider.ConfigProvider | undefined>("effect/ConfigProvider", {
  defaultValue: () => undefined
})

/**
 * One variable, as `Config.option(Config.String(name))` reads it from the current `ConfigProvider`:
 * a string, or `undefined` when unset (or empty, as `ConfigProvider.fromEnv` reads it). Without a
 * provided provider, the environment is what the default provider (`fromEnv()`) would read. A
 * provider's failure is the `Config.ConfigError` `Config` would fail with (its module loaded then).
 */
export const envVariable = (name: string): Effect.Effect<string | undefined, Config.ConfigError> =>
  Effect.flatMap(ProvidedConfigProvider, (provider) => {
    if (provider === undefined) {
      const value = process.env[name]
      return Effect.succeed(value === "" ? undefined : value)
    }
    return Effect.catch(
      Effect.map(provider.load([name]), (node) => node?.value),
      (error) =>
        Effect.flatMap(
          Effect.promise(() => import("effect/Config")),
          (Config) => Effect.fail(new Config.ConfigError(error))
        )
    )
  })

/** The variables `resolveDockerContext` reads, from the current `ConfigProvider` (the environment). */
export const dockerEnvConfig: Effect.Effect<DockerEnv, Config.ConfigError> = Effect.map(
  Effect.all(
    ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "HOME"]
      .map((name) => Effect.map(envVariable(name), (value) => [name, value] as const))
  ),
  (entries): DockerEnv => Object.fromEntries(entries)
)
