/**
 * effect-docker: a Docker Engine API client for Effect 4.
 *
 * Provide `Docker.layerFromEnv` (or `DockerEngine.layer({ host, apiVersion })` + the service
 * layers) and use the services: `System`, `Containers`, `Exec`, and more as they land.
 */
// First: fails on a Node.js older than 22.19 with a message saying so (before undici is evaluated).
import "./core/node-version.js"
import * as Layer from "effect/Layer"
import { DockerEngine } from "./engine/engine.js"
import { Containers } from "./services/containers.js"
import { Exec } from "./services/exec.js"
import { Images } from "./services/images.js"
import { System } from "./services/system.js"

export * from "./archive/archive-error.js"
export { type DirectoryContext, directoryContext, type DirectoryContextOptions } from "./archive/build-context.js"
export { type ContextMatcher, contextMatcher, parseDockerignore } from "./archive/dockerignore.js"
export * from "./archive/pack.js"
export * from "./archive/unpack.js"
export type * from "./core/descriptor.js"
export * from "./core/errors.js"
export { type ContextSource, type DockerEnv, type ResolvedContext, resolveDockerContext } from "./docker-cli/context.js"
export * from "./docker-cli/credentials.js"
export {
  DOCKER_HUB_AUTH_KEY,
  type ImageReference,
  InvalidReferenceError,
  parseReference,
  type ReferenceRule,
  registryOfReference
} from "./docker-cli/reference.js"
export * from "./engine/api-version.js"
export type { Pem, SshOptions, TlsOptions } from "./engine/connector.js"
export * from "./engine/endpoint.js"
export { DockerEngine, type DockerEngineOptions, type DockerEngineShape } from "./engine/engine.js"
export * from "./services/containers.js"
export * from "./services/exec.js"
export * from "./services/images.js"
export * from "./services/progress-renderer.js"
export type { StdioSession } from "./services/stdio-session.js"
export * from "./services/system.js"
export { type BuildFold, humanSize, progressBar, ProgressBoard, type ProgressMessage } from "./wire/progress.js"
export {
  encodeRegistryAuth,
  encodeRegistryConfig,
  type RegistryCredentials,
  registryCredentials
} from "./wire/registry-auth.js"
export { demux, FrameDecoder, type StdioFrame, stdioFrames, type StdioStream } from "./wire/stdio-frames.js"
export {
  collectOutput,
  lines as stdioLines,
  splitTimestamp,
  stderrBytes,
  stderrLines,
  type StdioLine,
  stdoutBytes,
  stdoutLines,
  type TimestampedLine,
  timestampedLines,
  timestampToDate
} from "./wire/stdio.js"

/** The service layers `Docker.layer` / `layerFromEnv` provide over one engine. */
const services = Layer.mergeAll(System.layer, Containers.layer, Exec.layer, Images.layer)

/** Every service over one engine. */
export const Docker = {
  /** All services, for an engine configured from `DOCKER_HOST` / `DOCKER_API_VERSION`. */
  layerFromEnv: Layer.provideMerge(services, DockerEngine.layerFromEnv),
  /** All services, for an engine with explicit options. */
  layer: (options: Parameters<typeof DockerEngine.layer>[0] = {}) =>
    Layer.provideMerge(services, DockerEngine.layer(options))
} as const
