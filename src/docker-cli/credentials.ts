/**
 * Registry credentials the way the Docker CLI finds them: `credHelpers[registry]`, else
 * `credsStore` (both through `docker-credential-<name>` programs on `PATH`), else the `auths` of
 * `$DOCKER_CONFIG/config.json` (default `~/.docker`). Secrets stay `Redacted`; a failure names
 * the registry and helper, never a secret.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { type RegistryCredentials } from "../wire/registry-auth.js"
import { type ConfigAuthEntry, configDirectory, type DockerConfigFile, readConfigFile } from "./config-file.js"
import { CredentialsError, credentialsFromHelper, helperServers } from "./credential-helpers.js"
import { convertToHostname } from "./reference.js"

export { CredentialsError } from "./credential-helpers.js"

/** Where to look: the config directory and the environment helpers run with (`PATH`). */
export interface CredentialLookupOptions {
  /** The directory holding `config.json`; default `$DOCKER_CONFIG`, else `~/.docker`. */
  readonly configDir?: string | undefined
  /** The environment of credential helpers (their `PATH` finds them); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** Why a `config.json` entry could not be used. */
export class ConfigAuthError extends Error {}

/** The credentials of one `auths` entry (`auth` is base64 of `user:password`). */
export const credentialsFromConfigEntry = (
  serverAddress: string,
  entry: ConfigAuthEntry
): RegistryCredentials | ConfigAuthError => {
  let username = entry.username
  let password = entry.password
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    if (colon < 0) {
      return new ConfigAuthError(`the "auth" of ${serverAddress} in config.json is not base64 user:password`)
    }
    username = decoded.slice(0, colon)
    password = decoded.slice(colon + 1).replace(/\0+$/, "")
  }
  return {
    username,
    password: password === undefined || password === "" ? undefined : Redacted.make(password),
    identityToken: entry.identitytoken ? Redacted.make(entry.identitytoken) : undefined,
    registryToken: entry.registrytoken ? Redacted.make(entry.registrytoken) : undefined,
    email: entry.email,
    serverAddress
  }
}

/** Where the CLI would take a registry's credentials from. */
export type CredentialSource =
  | {
    /** A credential helper (`credHelpers` or `credsStore` of config.json). */
    readonly _tag: "Helper"
    /** The helper's name (`docker-credential-<helper>` is run). */
    readonly helper: string
    /** The key the helper is asked for. */
    readonly serverAddress: string
  }
  | {
    /** An `auths` entry of config.json. */
    readonly _tag: "File"
    /** The entry's key. */
    readonly serverAddress: string
    /** The entry. */
    readonly entry: ConfigAuthEntry
  }
  | {
    /** No credentials: the registry is used anonymously. */
    readonly _tag: "None"
  }

/**
 * The CLI's `GetCredentialsStore` + file-store lookup: `credHelpers[registry]`, else `credsStore`,
 * else `auths[registry]` (or an `auths` key whose hostname is the registry, e.g.
 * `https://127.0.0.1:5000/v1/`).
 */
export const credentialSourceFor = (config: DockerConfigFile, registry: string): CredentialSource => {
  const helper = config.credHelpers?.[registry]
  if (typeof helper === "string" && helper !== "") return { _tag: "Helper", helper, serverAddress: registry }
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    return { _tag: "Helper", helper: config.credsStore, serverAddress: registry }
  }
  const auths = config.auths ?? {}
  const exact = auths[registry]
  if (exact !== undefined) return { _tag: "File", serverAddress: registry, entry: exact }
  const hostname = convertToHostname(registry)
  for (const [key, entry] of Object.entries(auths)) {
    if (convertToHostname(key) === hostname) return { _tag: "File", serverAddress: key, entry }
  }
  return { _tag: "None" }
}

/** `config.json`'s settings for these options; a missing file is an empty configuration. */
export const readDockerConfig = (
  options: CredentialLookupOptions = {}
): Effect.Effect<DockerConfigFile, CredentialsError> =>
  Effect.suspend(() => {
    const read = readConfigFile(options.configDir ?? configDirectory(process.env))
    return "error" in read
      ? Effect.fail(new CredentialsError({ registry: "", message: `cannot read ${read.file} (${read.error})` }))
      : Effect.succeed(read.config)
  })

const credentialsIn = (
  config: DockerConfigFile,
  registry: string,
  options: CredentialLookupOptions
): Effect.Effect<RegistryCredentials | undefined, CredentialsError> => {
  const source = credentialSourceFor(config, registry)
  switch (source._tag) {
    case "None":
      return Effect.succeed(undefined)
    case "Helper":
      return credentialsFromHelper(source.helper, source.serverAddress, options.env ?? process.env)
    case "File": {
      const credentials = credentialsFromConfigEntry(source.serverAddress, source.entry)
      return credentials instanceof ConfigAuthError
        ? Effect.fail(new CredentialsError({ registry, message: credentials.message }))
        : Effect.succeed(credentials)
    }
  }
}

/**
 * The credentials the Docker CLI would use for `registry` (`127.0.0.1:5000`, or
 * `https://index.docker.io/v1/` for Docker Hub); `undefined` when there are none.
 */
export const credentialsForRegistry = (
  registry: string,
  options: CredentialLookupOptions = {}
): Effect.Effect<RegistryCredentials | undefined, CredentialsError> =>
  Effect.flatMap(readDockerConfig(options), (config) => credentialsIn(config, registry, options))

/**
 * Every registry's credentials (for a build's `X-Registry-Config`, as the CLI sends them): the
 * `auths` entries, then what `credsStore` lists, then each `credHelpers` registry.
 */
export const allCredentials = (
  options: CredentialLookupOptions = {}
): Effect.Effect<Record<string, RegistryCredentials>, CredentialsError> =>
  Effect.gen(function*() {
    const config = yield* readDockerConfig(options)
    const out: Record<string, RegistryCredentials> = {}
    const registries = new Set(Object.keys(config.auths ?? {}))
    if (config.credsStore) {
      for (const key of yield* helperServers(config.credsStore, options.env ?? process.env)) registries.add(key)
    }
    for (const key of Object.keys(config.credHelpers ?? {})) registries.add(key)
    for (const registry of registries) {
      const credentials = yield* credentialsIn(config, registry, options)
      if (credentials !== undefined) out[registry] = credentials
    }
    return out
  })
