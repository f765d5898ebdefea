/**
 * Registry access shared by the services that reach a registry through the daemon (Images,
 * Plugins): which credentials a call sends, and a registry's refusal as `Unauthorized`.
 */
import * as Effect from "effect/Effect"
import { type DockerError, Unauthorized } from "../core/errors.js"
import {
  type CredentialLookupOptions,
  type CredentialsError,
  credentialsForRegistry
} from "../docker-cli/credentials.js"
import { registryOfReference } from "../docker-cli/reference.js"
import { encodeRegistryAuth, type RegistryCredentials } from "../wire/registry-auth.js"

/**
 * Which credentials a registry operation sends: `"config"` (default) what the Docker CLI would
 * send for the image's registry, `"anonymous"` none, or explicit credentials.
 */
export type RegistryAuthOption = "config" | "anonymous" | RegistryCredentials

/**
 * The `X-Registry-Auth` value for a call on `reference`: what the Docker CLI would send for its
 * registry (`"config"`, the default), nothing (`"anonymous"`: `e30=`), or explicit credentials.
 */
export const registryAuthHeader = (
  auth: RegistryAuthOption | undefined,
  reference: string,
  lookup: CredentialLookupOptions
): Effect.Effect<string, CredentialsError> =>
  Effect.map(
    auth === undefined || auth === "config"
      ? credentialsForRegistry(registryOfReference(reference), lookup)
      : Effect.succeed(auth === "anonymous" ? undefined : auth),
    encodeRegistryAuth
  )

/** What daemons say when a registry refused the credentials (or wanted some). */
const REGISTRY_REFUSAL =
  /\bunauthorized\b|authentication required|no basic auth credentials|incorrect username or password|status: 401\b/i

/**
 * A registry's refusal of the credentials as `Unauthorized`, however the daemon reported it: 401
 * (28.x pull), 500 (20.10 pull; login on every version) or an in-stream error (push, build). The
 * `status` says what the daemon sent (200 for an in-stream error); the rest is left as it was.
 */
export const registryRefusal = <E>(error: E): E | Unauthorized => {
  const tagged = error as { readonly _tag?: string; readonly operation?: string; readonly daemonMessage?: string }
  if (
    (tagged._tag === "ServerError" || tagged._tag === "InStreamError") &&
    typeof tagged.daemonMessage === "string" && REGISTRY_REFUSAL.test(tagged.daemonMessage)
  ) {
    const status = (error as { readonly status?: number }).status ?? 200
    const operation = tagged.operation ?? ""
    return new Unauthorized({
      operation,
      status,
      daemonMessage: tagged.daemonMessage,
      message: `${operation}: the registry refused the credentials: ${tagged.daemonMessage} (HTTP ${status})`
    })
  }
  return error
}

/** The error type of a call that looks credentials up. */
export type RegistryError = DockerError | CredentialsError
