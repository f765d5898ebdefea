/**
 * Fixtures for the Containers / Exec tests: containers created through the service under test
 * (labelled, removed by a finalizer), and frame collection. Connection counting is
 * `counting-proxy.ts`.
 */
import { Effect, type Scope, Stream } from "effect"
import type { DockerError } from "../../src/core/errors.js"
import type { ContainerCreateBody } from "../../src/generated/operations/container/ContainerCreate.js"
import { Containers } from "../../src/services/containers.js"
import type { StdioFrame } from "../../src/wire/stdio-frames.js"
import { testLabels } from "./labels.js"
import { TEST_IMAGE, uniqueName } from "./resources.js"

/** A container created with `Containers.create` (busybox, no network, test label), force-removed at scope end. */
export const testContainer = (
  config: Partial<ContainerCreateBody> = {},
  name: string = uniqueName("c")
): Effect.Effect<{ readonly id: string; readonly name: string }, DockerError, Scope.Scope | Containers> =>
  Effect.gen(function*() {
    const containers = yield* Containers
    return yield* Effect.acquireRelease(
      Effect.map(
        containers.create({
          Image: TEST_IMAGE,
          ...config,
          Labels: { ...config.Labels, ...testLabels() },
          HostConfig: { NetworkMode: "none", ...config.HostConfig }
        }, { name }),
        (created) => ({ id: created.Id, name })
      ),
      (c) =>
        containers.remove(c.id, { force: true, v: true }).pipe(
          Effect.timeout("30 seconds"),
          Effect.catchTag("NotFound", () => Effect.void),
          Effect.catch((error) => Effect.logWarning(`could not remove ${c.name}: ${String(error)}`))
        )
    )
  })

/** A started container running `cmd` (argv). */
export const runningContainer = (cmd: ReadonlyArray<string>, config: Partial<ContainerCreateBody> = {}) =>
  Effect.gen(function*() {
    const c = yield* testContainer({ ...config, Cmd: [...cmd] })
    yield* (yield* Containers).start(c.id)
    return c
  })

const text = new TextDecoder()
/** Frames → `{ stdout, stderr }` (decoded per frame: test payloads are ASCII). */
export const frameText = (frames: ReadonlyArray<StdioFrame>) => ({
  stdout: frames.filter((f) => f.stream !== "stderr").map((f) => text.decode(f.data)).join(""),
  stderr: frames.filter((f) => f.stream === "stderr").map((f) => text.decode(f.data)).join("")
})

export const collectFrames = <E>(frames: Stream.Stream<StdioFrame, E>) =>
  Effect.map(Stream.runCollect(Stream.map(frames, (f) => ({ stream: f.stream, data: f.data.slice() }))), frameText)
