/**
 * `Services`: swarm services — the generated pass-throughs (`ServiceClient`: list, inspect,
 * remove) and the methods that decide something:
 * - **Credentials** for `create` as `Images.pull` finds them (`auth`: `"config"` default — what
 *   the Docker CLI would send for the image's registry —, `"anonymous"`, or explicit
 *   `RegistryCredentials`), sent as `X-Registry-Auth` so every node can pull. `update` sends
 *   credentials only when given `auth`; otherwise the daemon keeps the service's own.
 * - **Update** applies a patch to the current spec (see `spec-merge.ts`: objects merge, arrays
 *   and maps such as `Labels` are replaced, so `Labels: {}` removes them all) at the current
 *   `Version.Index`, read here, and retries once from a fresh read on "update out of sequence".
 *   `scale`, `forceUpdate` and `rollback` are updates of that kind; `scale` refuses a service that
 *   is not replicated (`ServiceModeError`).
 * - **Logs** are framed unless the service's tasks have a TTY (`ContainerSpec.TTY`, inspected
 *   unless the caller says `tty`), as the daemon decides.
 * - **Converged** polls the service and its tasks until every task that should run runs the
 *   current spec and their number is the desired one; bounded by `timeout`, it then fails with
 *   `ServiceConvergenceError` carrying the last state it saw. A paused update fails at once.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { definedOnly } from "../core/defined.js"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import type { CredentialLookupOptions } from "../docker-cli/credentials.js"
import { isImageId } from "../docker-cli/reference.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeServiceClient, type ServiceClient } from "../generated/clients/service.js"
import { makeTaskClient } from "../generated/clients/task.js"
import type { TaskList } from "../generated/operations/task/TaskList.js"
import type { Filters } from "../generated/schemas/Filters.js"
import type { Service } from "../generated/schemas/Service.js"
import type { ServiceCreateResponse } from "../generated/schemas/ServiceCreateResponse.js"
import type { ServiceSpec } from "../generated/schemas/ServiceSpec.js"
import type { ServiceUpdateResponse } from "../generated/schemas/ServiceUpdateResponse.js"
import type { Task } from "../generated/schemas/Task.js"
import { withFilterValues } from "../wire/filters.js"
import type { StdioFrame } from "../wire/stdio-frames.js"
import { registryAuthHeader, type RegistryAuthOption, type RegistryError, registryRefusal } from "./registry-access.js"
import { mergeSpec, type SpecPatch } from "./spec-merge.js"
import { swarmLogs, type SwarmLogsOptions } from "./swarm-logs.js"
import { updateAtCurrentVersion } from "./versioned-update.js"

const ServiceCreate$ = lazyDescriptor(() =>
  import("../generated/operations/service/ServiceCreate.js").then((m) => m.ServiceCreate)
)
const ServiceUpdate$ = lazyDescriptor(() =>
  import("../generated/operations/service/ServiceUpdate.js").then((m) => m.ServiceUpdate)
)
const ServiceLogs$ = lazyDescriptor(() =>
  import("../generated/operations/service/ServiceLogs.js").then((m) => m.ServiceLogs)
)

/** Options of `Services.create`. */
export interface ServiceCreateOptions {
  /** Registry credentials for the nodes to pull the image with (default `"config"`). */
  readonly auth?: RegistryAuthOption | undefined
}

/** Options of `Services.update`. */
export interface ServiceUpdateOptions {
  /** Registry credentials to store with the new spec; default: keep the service's own. */
  readonly auth?: RegistryAuthOption | undefined
  /** Go back to the previous spec instead (the daemon's `rollback=previous`; the patch is ignored). */
  readonly rollback?: boolean | undefined
}

/** Options of `Services.converged`. */
export interface ServiceConvergedOptions {
  /** How long to wait (default 2 minutes). */
  readonly timeout?: Duration.Input | undefined
  /** Between two looks (default 250 ms). */
  readonly interval?: Duration.Input | undefined
}

/** One task as `converged` saw it. */
export interface TaskSighting {
  /** The task's ID. */
  readonly id: string
  /** Its slot (replicated services). */
  readonly slot: number | undefined
  /** The node it was assigned to. */
  readonly nodeId: string | undefined
  /** Its state (`running`, `failed`…). */
  readonly state: string | undefined
  /** The state the orchestrator wants it in. */
  readonly desiredState: string | undefined
  /** Whether it runs the service's current task spec. */
  readonly current: boolean
  /** The daemon's message, and error when there is one. */
  readonly message: string | undefined
  /** The daemon's error for it. */
  readonly error: string | undefined
}

/** What `converged` saw of a service at one look. */
export interface ServiceConvergence {
  /** The service's ID. */
  readonly serviceId: string
  /** How many tasks should run. */
  readonly desired: number
  /** How many tasks of the current spec run. */
  readonly running: number
  /** `UpdateStatus.State` (`updating`, `completed`, `paused`, `rollback_completed`…), if any. */
  readonly updateState: string | undefined
  /** The tasks that should be running. */
  readonly tasks: ReadonlyArray<TaskSighting>
  /** Whether it has converged: `running` reached `desired` on the current spec. */
  readonly converged: boolean
}

/** `converged` gave up: the time bound elapsed, or the update paused. `seen` is its last look. */
export class ServiceConvergenceError extends Data.TaggedError("ServiceConvergenceError")<{
  /** The service's ID. */
  readonly serviceId: string
  /** Why it gave up. */
  readonly reason: "Timeout" | "UpdatePaused"
  /** Its last look at the service's tasks. */
  readonly seen: ServiceConvergence | undefined
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** The operation needs another service mode (`scale` on a global service or a job). */
export class ServiceModeError extends Data.TaggedError("ServiceModeError")<{
  /** The operation (`scale`). */
  readonly operation: string
  /** The service's ID. */
  readonly serviceId: string
  /** `replicated`, `global`, `replicated-job`, `global-job`. */
  readonly mode: string
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** Every service operation: the generated pass-throughs (`ServiceClient`) and the methods below, which decide something. */
export interface ServicesShape extends ServiceClient {
  /** `POST /services/create`: its ID (and the daemon's warnings). */
  readonly create: (
    spec: ServiceSpec,
    options?: ServiceCreateOptions
  ) => Effect.Effect<ServiceCreateResponse, RegistryError>
  /** `POST /services/{id}/update`: the current spec with `patch` applied, at the current version. */
  readonly update: (
    id: string,
    patch: SpecPatch<ServiceSpec> | undefined,
    options?: ServiceUpdateOptions
  ) => Effect.Effect<ServiceUpdateResponse, RegistryError>
  /** Sets the replica count of a replicated service (`ServiceModeError` otherwise). */
  readonly scale: (id: string, replicas: number) => Effect.Effect<ServiceUpdateResponse, DockerError | ServiceModeError>
  /** Replaces every task though nothing changed (`TaskTemplate.ForceUpdate` + 1). */
  readonly forceUpdate: (id: string) => Effect.Effect<ServiceUpdateResponse, DockerError>
  /** Back to the previous spec (`rollback=previous`). */
  readonly rollback: (id: string) => Effect.Effect<ServiceUpdateResponse, DockerError>
  /** `GET /services/{id}/logs` as stdio frames (all its tasks'); framing from the spec's TTY. */
  readonly logs: (id: string, options?: SwarmLogsOptions) => Stream.Stream<StdioFrame, DockerError>
  /** `GET /tasks` of this service (more `filters` allowed: `desired-state`, `node`…). */
  readonly tasks: (
    id: string,
    options?: { readonly filters?: Filters | undefined }
  ) => Effect.Effect<TaskList.Response, DockerError>
  /** One look: how far the service is from running its spec. */
  readonly convergence: (id: string) => Effect.Effect<ServiceConvergence, DockerError | ServiceModeError>
  /** Waits until the service runs its spec (see the module's note); the look that said so. */
  readonly converged: (
    id: string,
    options?: ServiceConvergedOptions
  ) => Effect.Effect<ServiceConvergence, DockerError | ServiceModeError | ServiceConvergenceError>
}

/** Options of the `Services` layer. */
export interface ServicesOptions {
  /** Where `"config"` credentials are looked up (default: `$DOCKER_CONFIG`, `PATH` of this process). */
  readonly credentials?: CredentialLookupOptions | undefined
}

/** The mode of a spec, in the CLI's words. */
export const serviceMode = (spec: ServiceSpec | null | undefined): string => {
  const mode = spec?.Mode
  if (mode?.Global != null) return "global"
  if (mode?.ReplicatedJob != null) return "replicated-job"
  if (mode?.GlobalJob != null) return "global-job"
  return "replicated"
}

/** Structural equality of two decoded JSON values (key order ignored). */
const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  return ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/**
 * Whether a task runs the service's current task template: the task's spec is the template the
 * orchestrator copied, except `Runtime` (the daemon reports `"container"` on the service only).
 */
const sameTaskSpec = (task: Task["Spec"], template: ServiceSpec["TaskTemplate"]): boolean => {
  const { Runtime: _t, ...fromTask } = task ?? {}
  const { Runtime: _s, ...fromTemplate } = template ?? {}
  return sameJson(fromTask, fromTemplate)
}

const PAUSED: ReadonlySet<string> = new Set(["paused", "rollback_paused"])
const IN_PROGRESS: ReadonlySet<string> = new Set(["updating", "rollback_started"])

/** The Services service over `engine`. */
export const makeServices = (engine: DockerEngineShape, options: ServicesOptions = {}): ServicesShape => {
  const client = makeServiceClient(engine)
  const taskClient = makeTaskClient(engine)
  const lookup = options.credentials ?? {}

  // An image named by its ID is never pulled: no registry's credentials are looked up for it.
  const credentialsFor = (auth: RegistryAuthOption | undefined, image: string) =>
    registryAuthHeader((auth ?? "config") === "config" && isImageId(image) ? "anonymous" : auth, image, lookup)

  const tasks: ServicesShape["tasks"] = (id, { filters } = {}) =>
    taskClient.list({ filters: withFilterValues(filters, "service", [id]) ?? {} })

  const send = (id: string, version: number, spec: ServiceSpec, extra: object) =>
    withDescriptor(ServiceUpdate$, (d) => engine.json(d, { id, version, body: spec, ...extra }))

  const update: ServicesShape["update"] = (id, patch, { auth, rollback } = {}) =>
    updateAtCurrentVersion(client.inspect(id), (service, version) =>
      Effect.gen(function*() {
        const current = service.Spec ?? {}
        // A rollback sends the spec as it is: the daemon takes the previous one itself.
        const spec = rollback === true ? current : mergeSpec<ServiceSpec>(current, patch)
        const registryAuth = auth === undefined
          ? undefined
          : yield* credentialsFor(auth, spec.TaskTemplate?.ContainerSpec?.Image ?? "")
        return yield* send(id, version, spec, {
          ...(rollback === true ? { rollback: "previous", registryAuthFrom: "previous-spec" } : {}),
          ...definedOnly({ registryAuth })
        })
      })).pipe(Effect.mapError(registryRefusal))

  /** An update whose patch depends on the current service (read once more if out of sequence). */
  const updateFrom = <E>(id: string, patchOf: (service: Service) => Effect.Effect<SpecPatch<ServiceSpec>, E>) =>
    updateAtCurrentVersion(
      client.inspect(id),
      (service, version) =>
        Effect.flatMap(
          patchOf(service),
          (patch) => send(id, version, mergeSpec<ServiceSpec>(service.Spec ?? {}, patch), {})
        )
    )

  const convergence: ServicesShape["convergence"] = (id) =>
    Effect.gen(function*() {
      const service = yield* client.inspect(id)
      const serviceId = service.ID ?? id
      const mode = serviceMode(service.Spec)
      if (mode === "replicated-job" || mode === "global-job") {
        return yield* Effect.fail(
          new ServiceModeError({
            operation: "ServiceConverged",
            serviceId,
            mode,
            message: `Services.converged: ${serviceId} is a ${mode}: its tasks complete, they do not keep running`
          })
        )
      }
      const template = service.Spec?.TaskTemplate
      const wanted = yield* tasks(serviceId, { filters: { "desired-state": ["running"] } })
      const sightings = wanted.map((task: Task): TaskSighting => ({
        id: task.ID ?? "",
        slot: task.Slot,
        nodeId: task.NodeID,
        state: task.Status?.State,
        desiredState: task.DesiredState,
        current: sameTaskSpec(task.Spec, template),
        message: task.Status?.Message,
        error: task.Status?.Err
      }))
      // A global service runs one task per eligible node: the daemon's own count says how many.
      const desired = mode === "global"
        ? (yield* client.list({ filters: { id: [serviceId] }, status: true }))
          .find((s) => s.ID === serviceId)?.ServiceStatus?.DesiredTasks ?? 0
        : service.Spec?.Mode?.Replicated?.Replicas ?? 1
      const running = sightings.filter((t) => t.current && t.state === "running").length
      const updateState = service.UpdateStatus?.State ?? undefined
      return {
        serviceId,
        desired,
        running,
        updateState,
        tasks: sightings,
        converged: running === desired && sightings.length === running &&
          !(updateState !== undefined && (IN_PROGRESS.has(updateState) || PAUSED.has(updateState)))
      } satisfies ServiceConvergence
    })

  const describe = (seen: ServiceConvergence | undefined) =>
    seen === undefined
      ? "nothing seen yet"
      : `${seen.running}/${seen.desired} running the current spec, update ${seen.updateState ?? "none"}; tasks: ${
        seen.tasks.map((t) =>
          `${t.id.slice(0, 12)} ${t.state ?? "?"}${t.current ? "" : " (old spec)"}${t.error ? ` (${t.error})` : ""}`
        ).join(", ") || "none"
      }`

  const converged: ServicesShape["converged"] = (id, { interval = "250 millis", timeout = "2 minutes" } = {}) =>
    Effect.suspend(() => {
      let last: ServiceConvergence | undefined
      const look: Effect.Effect<ServiceConvergence, DockerError | ServiceModeError | ServiceConvergenceError> = Effect
        .flatMap(
          convergence(id),
          (seen) => {
            last = seen
            if (seen.converged) return Effect.succeed(seen)
            if (seen.updateState !== undefined && PAUSED.has(seen.updateState)) {
              return Effect.fail(
                new ServiceConvergenceError({
                  serviceId: seen.serviceId,
                  reason: "UpdatePaused",
                  seen,
                  message: `Services.converged: the update of ${seen.serviceId} is ${seen.updateState}: ${
                    describe(seen)
                  }`
                })
              )
            }
            return Effect.andThen(Effect.sleep(interval), look)
          }
        )
      return look.pipe(Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.fail(
            new ServiceConvergenceError({
              serviceId: last?.serviceId ?? id,
              reason: "Timeout",
              seen: last,
              message: `Services.converged: ${id} did not converge within ${
                Duration.format(Duration.fromInputUnsafe(timeout))
              }: ${describe(last)}`
            })
          )
      }))
    })

  return {
    ...client,
    create: (spec, { auth } = {}) =>
      Effect.flatMap(
        credentialsFor(auth, spec.TaskTemplate?.ContainerSpec?.Image ?? ""),
        (registryAuth) => withDescriptor(ServiceCreate$, (d) => engine.json(d, { body: spec, registryAuth }))
      ).pipe(Effect.mapError(registryRefusal)),
    update,
    scale: (id, replicas) =>
      updateFrom(id, (service) => {
        const mode = serviceMode(service.Spec)
        return mode === "replicated"
          ? Effect.succeed({ Mode: { Replicated: { Replicas: replicas } } })
          : Effect.fail(
            new ServiceModeError({
              operation: "ServiceScale",
              serviceId: service.ID ?? id,
              mode,
              message: `Services.scale: ${
                service.ID ?? id
              } is a ${mode} service: only a replicated one has a replica count`
            })
          )
      }),
    forceUpdate: (id) =>
      updateFrom(
        id,
        (service) =>
          Effect.succeed({ TaskTemplate: { ForceUpdate: (service.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1 } })
      ),
    rollback: (id) =>
      updateAtCurrentVersion(
        client.inspect(id),
        (service, version) =>
          send(id, version, service.Spec ?? {}, { rollback: "previous", registryAuthFrom: "previous-spec" })
      ),
    logs: (id, options = {}) =>
      swarmLogs(
        engine,
        ServiceLogs$,
        id,
        Effect.map(client.inspect(id), (s) => s.Spec?.TaskTemplate?.ContainerSpec?.TTY === true),
        options
      ),
    tasks,
    convergence,
    converged
  }
}

/** The Services service (swarm mode): every service operation (see `ServicesShape`); needs a swarm manager. */
export class Services extends Context.Service<Services, ServicesShape>()("effect-docker/Services") {
  /** Services over the `DockerEngine`, with credentials found as the Docker CLI finds them. */
  static readonly layer: Layer.Layer<Services, never, DockerEngine> = Layer.effect(Services)(
    Effect.map(DockerEngine, (engine) => makeServices(engine))
  )
  /** Services with explicit options (where `"config"` credentials are looked up). */
  static readonly layerWith = (options: ServicesOptions): Layer.Layer<Services, never, DockerEngine> =>
    Layer.effect(Services)(Effect.map(DockerEngine, (engine) => makeServices(engine, options)))
}
