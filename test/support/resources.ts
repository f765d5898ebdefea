/**
 * Scoped test resources on a real engine: each is created with the test label (so the global
 * teardown finds it even after a crash) and removed by a finalizer when its scope closes, whether
 * the test passed, failed or was interrupted. They go through the library's own executor with the
 * generated descriptors, so creating them is exercised too.
 */
import { type Cause, Data, type Duration, Effect, Schedule, type Scope } from "effect"
import type { DockerError } from "../../src/core/errors.js"
import type { DockerEngineShape } from "../../src/engine/engine.js"
import { ContainerCreate, type ContainerCreateBody } from "../../src/generated/operations/container/ContainerCreate.js"
import { ContainerDelete } from "../../src/generated/operations/container/ContainerDelete.js"
import { ContainerInspect } from "../../src/generated/operations/container/ContainerInspect.js"
import { ContainerStart } from "../../src/generated/operations/container/ContainerStart.js"
import { NetworkCreate, type NetworkCreateBody } from "../../src/generated/operations/network/NetworkCreate.js"
import { NetworkDelete } from "../../src/generated/operations/network/NetworkDelete.js"
import { VolumeCreate } from "../../src/generated/operations/volume/VolumeCreate.js"
import { VolumeDelete } from "../../src/generated/operations/volume/VolumeDelete.js"
import type { VolumeCreateRequest } from "../../src/generated/schemas/VolumeCreateRequest.js"
import { runId, testLabels } from "./labels.js"

/** The only image tests may name: built locally by `scripts/engines.sh` (there is no internet). */
export const TEST_IMAGE = "busybox:local"

let counter = 0
/** A name unique to this run and process: `ed-<run>-<pid>-<n>-<what>`. */
export const uniqueName = (what: string): string => `ed-${runId()}-${process.pid}-${++counter}-${what}`

/**
 * Cleanup must never hide the test's own outcome: a resource already gone is fine, anything else
 * is logged and left to the global teardown (which removes whatever carries the label).
 */
const release = (what: string, effect: Effect.Effect<void, DockerError>): Effect.Effect<void> =>
  effect.pipe(
    Effect.timeout("30 seconds"),
    Effect.catchTag("NotFound", () => Effect.void),
    Effect.catch((error) => Effect.logWarning(`could not remove ${what}: ${String(error)}`))
  )

export interface ScopedContainer {
  readonly id: string
  readonly name: string
}

/**
 * Creates a container from `busybox:local` (unless `body.Image` says otherwise) with the test
 * label merged into `body.Labels` and, unless `body.HostConfig` says otherwise, no network
 * (`NetworkMode: "none"`); it is force-removed with its anonymous volumes when the scope closes.
 */
export const scopedContainer = (
  engine: DockerEngineShape,
  body: Partial<ContainerCreateBody> = {},
  name: string = uniqueName("c")
): Effect.Effect<ScopedContainer, DockerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(
      engine.json(ContainerCreate, {
        name,
        body: {
          Image: TEST_IMAGE,
          ...body,
          Labels: { ...body.Labels, ...testLabels() },
          HostConfig: { NetworkMode: "none", ...body.HostConfig }
        }
      }),
      (created) => ({ id: created.Id, name })
    ),
    (container) =>
      release(`container ${container.name}`, engine.empty(ContainerDelete, { id: container.id, force: true, v: true }))
  )

/**
 * A running `sleep` on the default bridge (so it can join other networks; `none` cannot), force-
 * removed when the scope closes; returned once the daemon reports it running.
 */
export const scopedRunningContainer = (engine: DockerEngineShape) =>
  Effect.gen(function*() {
    const container = yield* scopedContainer(engine, {
      Cmd: ["sleep", "300"],
      StopSignal: "SIGKILL",
      HostConfig: { NetworkMode: "bridge" }
    })
    yield* engine.empty(ContainerStart, { id: container.id })
    yield* awaitContainerStatus(engine, container.id, "running")
    return container
  })

/** Creates a network (the default driver, `bridge`, unless `body.Driver` says otherwise) with the test label. */
export const scopedNetwork = (
  engine: DockerEngineShape,
  body: Partial<NetworkCreateBody> = {},
  name: string = uniqueName("n")
): Effect.Effect<{ readonly id: string; readonly name: string }, DockerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(
      engine.json(NetworkCreate, { body: { ...body, Name: name, Labels: { ...body.Labels, ...testLabels() } } }),
      (created) => ({ id: created.Id, name })
    ),
    (network) => release(`network ${network.name}`, engine.empty(NetworkDelete, { id: network.id }))
  )

/** Creates a local volume with the test label; force-removed when the scope closes. */
export const scopedVolume = (
  engine: DockerEngineShape,
  body: Partial<VolumeCreateRequest> = {},
  name: string = uniqueName("v")
): Effect.Effect<{ readonly name: string }, DockerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(
      engine.json(VolumeCreate, { body: { ...body, Name: name, Labels: { ...body.Labels, ...testLabels() } } }),
      (created) => ({ name: created.Name })
    ),
    (volume) => release(`volume ${volume.name}`, engine.empty(VolumeDelete, { name: volume.name, force: true }))
  )

/** A poll's condition did not hold (yet); the last value it saw is in the message. */
export class NotYet extends Data.TaggedError("NotYet")<{ readonly message: string }> {}

/**
 * Runs `effect` every `every` until `done` holds for its value, within `within` (a bounded wait).
 * Only "not yet" is retried: a daemon error (or a decode failure) fails at once, so a wait never
 * hides what went wrong behind a timeout.
 */
export const pollUntil = <A, E>(
  effect: Effect.Effect<A, E>,
  done: (value: A) => boolean,
  options: { readonly within?: Duration.Input; readonly every?: Duration.Input; readonly what?: string } = {}
): Effect.Effect<A, E | NotYet | Cause.TimeoutError> =>
  effect.pipe(
    Effect.flatMap((value) =>
      done(value)
        ? Effect.succeed(value)
        : Effect.fail(new NotYet({ message: `${options.what ?? "condition"} not reached: ${JSON.stringify(value)}` }))
    ),
    Effect.retry({
      schedule: Schedule.spaced(options.every ?? "100 millis"),
      while: (error) => error instanceof NotYet
    }),
    Effect.timeout(options.within ?? "10 seconds")
  )

/** Polls `ContainerInspect` until the container's `State.Status` is `status` (bounded). */
export const awaitContainerStatus = (
  engine: DockerEngineShape,
  id: string,
  status: string,
  within: Duration.Input = "10 seconds"
) =>
  pollUntil(engine.json(ContainerInspect, { id }), (inspected) => inspected.State?.Status === status, {
    within,
    what: `container ${id} ${status}`
  })
