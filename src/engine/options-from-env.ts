/**
 * Engine options the way the Docker CLI would connect with the current environment: the context's
 * host and TLS material (`docker-cli/context.ts`, read now), and `DOCKER_API_VERSION` as a pin.
 */
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import { EndpointError } from "../core/errors.js"
import { dockerEnvConfig, envVariable, resolveDockerContext } from "../docker-cli/context.js"
import type { TlsOptions } from "./connector.js"

export interface EnvEngineOptions {
  readonly host: string | undefined
  readonly apiVersion: string | undefined
  readonly tls: TlsOptions | undefined
}

export const engineOptionsFromEnv: Effect.Effect<EnvEngineOptions, EndpointError | Config.ConfigError> = Effect
  .gen(function*() {
    const env = yield* dockerEnvConfig
    const pin = yield* envVariable("DOCKER_API_VERSION")
    const resolved = resolveDockerContext(env)
    if (resolved instanceof EndpointError) return yield* resolved
    return {
      host: resolved.host,
      apiVersion: pin === undefined || pin.trim() === "" ? undefined : pin.trim(),
      tls: resolved.tls
    }
  })
