/**
 * effect-docker: a Docker Engine API client for Effect 4.
 *
 * Provide `Docker.layerFromEnv` (or `DockerEngine.layer({ host, apiVersion })` + the service
 * layers) and use the services: `System`, and more as they land.
 */
import { Layer } from "effect"
import { DockerEngine } from "./engine/engine.js"
import { System } from "./services/system.js"

export * from "./engine/api-version.js"
export type { Pem, SshOptions, TlsOptions } from "./engine/connector.js"
export { type ContextSource, type DockerEnv, type ResolvedContext, resolveDockerContext } from "./engine/context.js"
export * from "./engine/endpoint.js"
export { DockerEngine, type DockerEngineOptions, type DockerEngineShape } from "./engine/engine.js"
export * from "./engine/errors.js"
export type * from "./engine/operation.js"
export * from "./services/system.js"

/** Every service over one engine. */
export const Docker = {
  /** All services, for an engine configured from `DOCKER_HOST` / `DOCKER_API_VERSION`. */
  layerFromEnv: Layer.provideMerge(System.layer, DockerEngine.layerFromEnv),
  /** All services, for an engine with explicit options. */
  layer: (options: Parameters<typeof DockerEngine.layer>[0] = {}) =>
    Layer.provideMerge(System.layer, DockerEngine.layer(options))
} as const
