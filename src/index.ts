/**
 * effect-docker: a Docker Engine API client for Effect 4.
 *
 * Provide `Docker.layerFromEnv` (or `DockerEngine.layer({ host, apiVersion })` + the service
 * layers) and use the services: `System`, `Containers`, `Exec`, `Images`, `Networks`, `Volumes`,
 * `Plugins`, and swarm mode's `Swarm`, `Nodes`, `Services`, `Tasks`, `Secrets`, `Configs`.
 */
// First: fails on a Node.js older than 22.19 with a message saying so (before undici is evaluated).
import "./core/node-version.js"
import * as Layer from "effect/Layer"
import { DockerEngine } from "./engine/engine.js"
import { Configs } from "./services/configs.js"
import { Containers } from "./services/containers.js"
import { Exec } from "./services/exec.js"
import { Images } from "./services/images.js"
import { Networks } from "./services/networks.js"
import { Nodes } from "./services/nodes.js"
import { Plugins } from "./services/plugins.js"
import { Secrets } from "./services/secrets.js"
import { Services } from "./services/services.js"
import { Swarm } from "./services/swarm.js"
import { System } from "./services/system.js"
import { Tasks } from "./services/tasks.js"
import { Volumes } from "./services/volumes.js"

export * from "./archive/archive-error.js"
export { type DirectoryContext, directoryContext, type DirectoryContextOptions } from "./archive/build-context.js"
export { type ContextMatcher, contextMatcher, parseDockerignore } from "./archive/dockerignore.js"
export * from "./archive/pack.js"
export * from "./archive/unpack.js"
export type * from "./core/descriptor.js"
export * from "./core/errors.js"
export type { ConfigAuthEntry, DockerConfigFile } from "./docker-cli/config-file.js"
export {
  type ContextSource,
  type DockerEnv,
  type ResolvedContext,
  resolveDockerContext,
  type TlsMaterial
} from "./docker-cli/context.js"
export * from "./docker-cli/credentials.js"
export {
  DOCKER_HUB_AUTH_KEY,
  familiarReference,
  fullImageId,
  type ImageReference,
  InvalidReferenceError,
  parseReference,
  type ReferenceRule,
  registryOfReference,
  sameImageReference
} from "./docker-cli/reference.js"
// Not `versionResolver`: it runs over the engine's internal transport; `DockerEngine.apiVersion` is its use.
export {
  compareApiVersions,
  isSupportedApiVersion,
  MAX_API_VERSION,
  MIN_API_VERSION,
  negotiateApiVersion,
  normalizeApiVersion,
  parseVersionRefusal
} from "./engine/api-version.js"
export type { Pem, SshOptions, TlsOptions } from "./engine/connector.js"
export * from "./engine/endpoint.js"
export {
  DockerEngine,
  type DockerEngineOptions,
  type DockerEngineShape,
  type HijackedConnection,
  type RawAnswer,
  type StreamingAnswer
} from "./engine/engine.js"
// The request and response types users write most, without reaching into `effect-docker/generated`
// (which has every operation's descriptor and every definition's Schema).
export type { ContainerCreateBody } from "./generated/operations/container/ContainerCreate.js"
export type { NetworkCreateBody } from "./generated/operations/network/NetworkCreate.js"
export type { VolumeUpdateBody } from "./generated/operations/volume/VolumeUpdate.js"
export type { ClusterVolumeSpec } from "./generated/schemas/ClusterVolumeSpec.js"
export type { Config } from "./generated/schemas/Config.js"
export type { ConfigSpec } from "./generated/schemas/ConfigSpec.js"
export type { ContainerConfig } from "./generated/schemas/ContainerConfig.js"
export type { DistributionInspect } from "./generated/schemas/DistributionInspect.js"
export type { EndpointIPAMConfig } from "./generated/schemas/EndpointIPAMConfig.js"
export type { EndpointResource } from "./generated/schemas/EndpointResource.js"
export type { EndpointSettings } from "./generated/schemas/EndpointSettings.js"
export type { Filters } from "./generated/schemas/Filters.js"
export type { HealthConfig } from "./generated/schemas/HealthConfig.js"
export type { HostConfig } from "./generated/schemas/HostConfig.js"
export type { IPAM } from "./generated/schemas/IPAM.js"
export type { IPAMConfig } from "./generated/schemas/IPAMConfig.js"
export type { Mount } from "./generated/schemas/Mount.js"
export type { NetworkAttachmentConfig } from "./generated/schemas/NetworkAttachmentConfig.js"
export type { NetworkConnectRequest } from "./generated/schemas/NetworkConnectRequest.js"
export type { NetworkDisconnectRequest } from "./generated/schemas/NetworkDisconnectRequest.js"
export type { NetworkingConfig } from "./generated/schemas/NetworkingConfig.js"
export type { NetworkInspect } from "./generated/schemas/NetworkInspect.js"
export type { NetworkSummary } from "./generated/schemas/NetworkSummary.js"
export type { Node } from "./generated/schemas/Node.js"
export type { NodeSpec } from "./generated/schemas/NodeSpec.js"
export type { Secret } from "./generated/schemas/Secret.js"
export type { SecretSpec } from "./generated/schemas/SecretSpec.js"
export type { Service } from "./generated/schemas/Service.js"
export type { ServiceSpec } from "./generated/schemas/ServiceSpec.js"
export type { SwarmSpec } from "./generated/schemas/SwarmSpec.js"
export type { Task } from "./generated/schemas/Task.js"
export type { TaskSpec } from "./generated/schemas/TaskSpec.js"
export type { Volume } from "./generated/schemas/Volume.js"
export type { VolumeCreateRequest } from "./generated/schemas/VolumeCreateRequest.js"
export type { VolumeListResponse } from "./generated/schemas/VolumeListResponse.js"
export * from "./services/configs.js"
export * from "./services/containers.js"
export * from "./services/exec.js"
export * from "./services/images.js"
export type { LogsOptions } from "./services/log-query.js"
export * from "./services/networks.js"
export * from "./services/nodes.js"
export * from "./services/plugins.js"
export * from "./services/progress-renderer.js"
export type { RegistryAuthOption } from "./services/registry-access.js"
export * from "./services/secrets.js"
export * from "./services/service-spec.js"
export * from "./services/services.js"
export { mergeSpec, type SpecPatch } from "./services/spec-merge.js"
export type { StdioSession } from "./services/stdio-session.js"
export type { SwarmData, SwarmDataUpdate } from "./services/swarm-data.js"
export type { SwarmLogsOptions } from "./services/swarm-logs.js"
export * from "./services/swarm.js"
export * from "./services/system.js"
export * from "./services/tasks.js"
export * from "./services/volumes.js"
// BuildKit's event types (values: `effect-docker/buildkit`; `BuildFailedError` is in core/errors).
export type {
  BuildKitEvent,
  BuildMessageEvent,
  ImageIdEvent,
  ProgressGroup,
  ProtoTimestamp,
  StepState,
  VertexEvent,
  VertexLogEvent,
  VertexStatusEvent,
  VertexWarningEvent
} from "./wire/buildkit-status.js"
export { type EngineIdentity, engineIdentity, isPodman } from "./wire/engine-identity.js"
export type { HeaderMap } from "./wire/headers.js"
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
const services = Layer.mergeAll(
  System.layer,
  Containers.layer,
  Exec.layer,
  Images.layer,
  Networks.layer,
  Plugins.layer,
  Volumes.layer,
  Swarm.layer,
  Nodes.layer,
  Services.layer,
  Tasks.layer,
  Secrets.layer,
  Configs.layer
)

/**
 * Every service over one engine: `layerFromEnv` for the engine the Docker CLI would use, `layer`
 * for explicit options (`host`, `apiVersion`, `tls`, `ssh`, `timeout`, `connections`, `retry`).
 *
 * @example
 * ```ts
 * import { runMain } from "@effect/platform-node/NodeRuntime"
 * import { Containers, Docker, System } from "effect-docker"
 *
 * const program = Effect.gen(function*() {
 *   const { ApiVersion } = yield* (yield* System).version()
 *   const running = yield* (yield* Containers).list()
 *   yield* Console.log(`API ${ApiVersion}: ${running.length} running`)
 * })
 *
 * runMain(program.pipe(Effect.provide(Docker.layerFromEnv)))
 * // or: Effect.provide(Docker.layer({ host: "ssh://me@build-box", apiVersion: "1.44" }))
 * ```
 */
export const Docker = {
  /** All services, for an engine configured from `DOCKER_HOST` / `DOCKER_API_VERSION`. */
  layerFromEnv: Layer.provideMerge(services, DockerEngine.layerFromEnv),
  /** All services, for an engine with explicit options. */
  layer: (options: Parameters<typeof DockerEngine.layer>[0] = {}) =>
    Layer.provideMerge(services, DockerEngine.layer(options))
} as const
