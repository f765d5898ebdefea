/**
 * Registry credentials on the wire, as the daemon decodes them. Pure: no I/O here (where the
 * Docker CLI keeps credentials, `config.json` and credential helpers, is `docker-cli/`).
 *
 * - `X-Registry-Auth`: the JSON of Go's `registry.AuthConfig`, base64 with the URL-safe alphabet
 *   AND `=` padding (`base64.URLEncoding`). A header the daemon cannot decode is silently treated
 *   as "no credentials", so unpadded base64url (Node's `"base64url"`) or the standard alphabet
 *   (`+`, `/`) make an authenticated push quietly anonymous.
 * - `X-Registry-Config` (builds): the same encoding of a JSON map registry → AuthConfig.
 */
import * as Redacted from "effect/Redacted"

/**
 * Credentials for one registry. Secrets are `Redacted`: they print as `<redacted>` in logs, errors
 * and spans, and only the header encoder reads them.
 */
export interface RegistryCredentials {
  /** The registry user. */
  readonly username?: string | undefined
  /** The password or an access token. */
  readonly password?: Redacted.Redacted<string> | undefined
  /** An OAuth refresh token the registry issued at login (`IdentityToken` of `POST /auth`). */
  readonly identityToken?: Redacted.Redacted<string> | undefined
  /** A bearer token sent to the registry as is. */
  readonly registryToken?: Redacted.Redacted<string> | undefined
  /** The e-mail address (legacy registries). */
  readonly email?: string | undefined
  /** The registry these are for (`127.0.0.1:5000`, `https://index.docker.io/v1/`). */
  readonly serverAddress?: string | undefined
}

/**
 * Explicit credentials from plain strings (the secrets are wrapped in `Redacted`).
 *
 * @example
 * ```ts
 * import { Images, registryCredentials } from "effect-docker"
 *
 * const auth = registryCredentials({ username: "ci", password: process.env.REGISTRY_TOKEN ?? "" })
 * yield* (yield* Images).push("registry.example.com/team/app:1", { auth })
 * ```
 */
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
