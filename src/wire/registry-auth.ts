/**
 * Registry credentials on the wire, as the daemon decodes them, and as the Docker CLI stores them.
 * Pure: no I/O here (reading `config.json` and running credential helpers is in
 * `services/registry-credentials.ts`).
 *
 * - `X-Registry-Auth`: the JSON of Go's `registry.AuthConfig`, base64 with the URL-safe alphabet
 *   AND `=` padding (`base64.URLEncoding`). A header the daemon cannot decode is silently treated
 *   as "no credentials", so unpadded base64url (Node's `"base64url"`) or the standard alphabet
 *   (`+`, `/`) make an authenticated push quietly anonymous.
 * - `X-Registry-Config` (builds): the same encoding of a JSON map registry → AuthConfig.
 * - `config.json`: `auths` (base64 `user:password` in `auth`, or `username`/`password`,
 *   `identitytoken`), `credsStore` and `credHelpers` naming `docker-credential-<name>` programs.
 */
import { Redacted } from "effect"

/**
 * Credentials for one registry. Secrets are `Redacted`: they print as `<redacted>` in logs, errors
 * and spans, and only the header encoder reads them.
 */
export interface RegistryCredentials {
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted<string> | undefined
  /** An OAuth refresh token the registry issued at login (`IdentityToken` of `POST /auth`). */
  readonly identityToken?: Redacted.Redacted<string> | undefined
  /** A bearer token sent to the registry as is. */
  readonly registryToken?: Redacted.Redacted<string> | undefined
  readonly email?: string | undefined
  /** The registry these are for (`127.0.0.1:5000`, `https://index.docker.io/v1/`). */
  readonly serverAddress?: string | undefined
}

/** Explicit credentials from plain strings (the secrets are wrapped in `Redacted`). */
export const registryCredentials = (options: {
  readonly username?: string
  readonly password?: string
  readonly identityToken?: string
  readonly registryToken?: string
  readonly email?: string
  readonly serverAddress?: string
}): RegistryCredentials => ({
  username: options.username,
  password: options.password === undefined ? undefined : Redacted.make(options.password),
  identityToken: options.identityToken === undefined ? undefined : Redacted.make(options.identityToken),
  registryToken: options.registryToken === undefined ? undefined : Redacted.make(options.registryToken),
  email: options.email,
  serverAddress: options.serverAddress
})

/** The AuthConfig JSON the daemon decodes (Go field tags of `registry.AuthConfig`). */
export interface AuthConfigJson {
  username?: string
  password?: string
  auth?: string
  email?: string
  serveraddress?: string
  identitytoken?: string
  registrytoken?: string
}

/** The wire JSON of `credentials`; empty fields are left out (`{}` for none). */
export const authConfigJson = (credentials: RegistryCredentials | undefined): AuthConfigJson => {
  const json: AuthConfigJson = {}
  if (credentials === undefined) return json
  if (credentials.username !== undefined && credentials.username !== "") json.username = credentials.username
  if (credentials.password !== undefined) json.password = Redacted.value(credentials.password)
  if (credentials.email !== undefined && credentials.email !== "") json.email = credentials.email
  if (credentials.serverAddress !== undefined) json.serveraddress = credentials.serverAddress
  if (credentials.identityToken !== undefined) json.identitytoken = Redacted.value(credentials.identityToken)
  if (credentials.registryToken !== undefined) json.registrytoken = Redacted.value(credentials.registryToken)
  return json
}

/** Go's `base64.URLEncoding`: the URL-safe alphabet (`-`, `_`) with `=` padding. */
export const base64UrlPadded = (text: string): string =>
  Buffer.from(text, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_")

/**
 * The `X-Registry-Auth` value for `credentials`; `e30=` (`{}`) when there are none, which the
 * daemon reads as "anonymous" (and which 20.10 needs on push, where a missing header is a 400).
 */
export const encodeRegistryAuth = (credentials: RegistryCredentials | undefined): string =>
  base64UrlPadded(JSON.stringify(authConfigJson(credentials)))

/** The `X-Registry-Config` value of a build: registry → credentials. */
export const encodeRegistryConfig = (byRegistry: Readonly<Record<string, RegistryCredentials>>): string => {
  const json: Record<string, AuthConfigJson> = {}
  for (const [registry, credentials] of Object.entries(byRegistry)) {
    json[registry] = authConfigJson({ ...credentials, serverAddress: credentials.serverAddress ?? registry })
  }
  return base64UrlPadded(JSON.stringify(json))
}

/** How Docker Hub's credentials are keyed in `config.json` and credential stores. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

/**
 * The registry an image reference names, keyed as the CLI keys credentials: the first path
 * component when it looks like a host (has `.` or `:`, or is `localhost`), else Docker Hub.
 */
export const registryOfReference = (reference: string): string => {
  const slash = reference.indexOf("/")
  if (slash < 0) return DOCKER_HUB_AUTH_KEY
  const first = reference.slice(0, slash)
  const isHost = first.includes(".") || first.includes(":") || first === "localhost"
  if (!isHost || first === "docker.io" || first === "index.docker.io" || first === "registry-1.docker.io") {
    return DOCKER_HUB_AUTH_KEY
  }
  return first
}

/** A reference split as `POST /images/create` wants it: `fromImage` without tag, and the tag or digest. */
export const splitReference = (
  reference: string
): { readonly repository: string; readonly tag: string | undefined } => {
  const at = reference.indexOf("@")
  if (at >= 0) return { repository: reference.slice(0, at), tag: reference.slice(at + 1) }
  const colon = reference.lastIndexOf(":")
  if (colon > reference.lastIndexOf("/")) {
    return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) }
  }
  return { repository: reference, tag: undefined }
}

/** The CLI's `ConvertToHostname`: `https://host:port/v1/` → `host:port`. */
export const convertToHostname = (address: string): string => {
  let rest = address
  if (rest.startsWith("http://")) rest = rest.slice("http://".length)
  else if (rest.startsWith("https://")) rest = rest.slice("https://".length)
  const slash = rest.indexOf("/")
  return slash < 0 ? rest : rest.slice(0, slash)
}

/** One entry of `auths` in `config.json`, as the CLI writes it. */
export interface ConfigAuthEntry {
  readonly auth?: string
  readonly username?: string
  readonly password?: string
  readonly email?: string
  readonly serveraddress?: string
  readonly identitytoken?: string
  readonly registrytoken?: string
}

/** The parts of `config.json` that concern credentials. */
export interface DockerConfigFile {
  readonly auths?: Readonly<Record<string, ConfigAuthEntry>>
  readonly credsStore?: string
  readonly credHelpers?: Readonly<Record<string, string>>
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
  const credentials: RegistryCredentials = {
    username,
    password: password === undefined || password === "" ? undefined : Redacted.make(password),
    identityToken: entry.identitytoken ? Redacted.make(entry.identitytoken) : undefined,
    registryToken: entry.registrytoken ? Redacted.make(entry.registrytoken) : undefined,
    email: entry.email,
    serverAddress
  }
  return credentials
}

/** Where the CLI would take a registry's credentials from. */
export type CredentialSource =
  | { readonly _tag: "Helper"; readonly helper: string; readonly serverAddress: string }
  | { readonly _tag: "File"; readonly serverAddress: string; readonly entry: ConfigAuthEntry }
  | { readonly _tag: "None" }

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

/** What `docker-credential-<name> get` prints. */
export interface HelperAnswer {
  readonly ServerURL?: string
  readonly Username?: string
  readonly Secret?: string
}

/** A helper's answer as credentials; `Username: "<token>"` means the secret is an identity token. */
export const credentialsFromHelperAnswer = (serverAddress: string, answer: HelperAnswer): RegistryCredentials => {
  const secret = answer.Secret ?? ""
  if (answer.Username === "<token>") {
    return { identityToken: Redacted.make(secret), serverAddress }
  }
  return {
    username: answer.Username,
    password: secret === "" ? undefined : Redacted.make(secret),
    serverAddress
  }
}

/** The helpers' "nothing stored for this server" answer (docker-credential-helpers' `ErrCredentialsNotFound`). */
export const isCredentialsNotFound = (output: string): boolean => /credentials not found/i.test(output)
