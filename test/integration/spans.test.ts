import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream, Tracer } from "effect"
import { ContainerInspect } from "../../src/generated/operations/container/ContainerInspect.js"
import { Containers, Docker, DockerEngine, Exec, familiarReference, Images, System } from "../../src/index.js"
import { collectFrames, runningContainer, testContainer } from "../support/container-fixtures.js"
import { currentEngine } from "../support/engines.js"
import { awaitContainerStatus, pollUntil, TEST_IMAGE } from "../support/resources.js"
import { recordingTracer } from "../support/tracing.js"

const target = currentEngine()

const exitOf = (span: Tracer.NativeSpan) => span.status._tag === "Ended" ? span.status.exit : undefined

describe(`spans on engine ${target.id}`, () => {
  it.live("every operation runs in a span named after its operationId, with API version and status", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const engine = yield* DockerEngine
      yield* (yield* System).version().pipe(Effect.withTracer(tracer))
      yield* Effect.flip(engine.json(ContainerInspect, { id: "effect-docker-no-such-container" })).pipe(
        Effect.withTracer(tracer)
      )
      const version = spans.find((s) => s.name === "SystemVersion")
      expect(version?.attributes.get("docker.api_version")).toBe(yield* engine.apiVersion)
      expect(version?.attributes.get("http.response.status_code")).toBe(200)
      expect(version?.attributes.get("http.request.method")).toBe("GET")
      expect(version?.status._tag).toBe("Ended")
      const inspect = spans.find((s) => s.name === "ContainerInspect")
      expect(inspect?.attributes.get("http.response.status_code")).toBe(404)
      // The span ends with the typed failure.
      expect(inspect?.status._tag === "Ended" && inspect.status.exit._tag).toBe("Failure")
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))

  it.live("logs: the span is open while the body flows and ends, successfully, when the stream ends", () =>
    Effect.gen(function*() {
      const { tracer, only } = recordingTracer()
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", "echo one; echo two >&2"])
      yield* awaitContainerStatus(yield* DockerEngine, c.id, "exited")
      let statusWhileFlowing: string | undefined
      const output = yield* containers.logs(c.id, { stdout: true, stderr: true }).pipe(
        Stream.tap(() => Effect.sync(() => (statusWhileFlowing ??= only("ContainerLogs").status._tag))),
        collectFrames,
        Effect.withTracer(tracer)
      )
      expect(output).toEqual({ stdout: "one\n", stderr: "two\n" })
      expect(statusWhileFlowing).toBe("Started")
      const logs = only("ContainerLogs")
      expect(exitOf(logs)?._tag).toBe("Success")
      expect(logs.attributes.get("http.response.status_code")).toBe(200)
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))

  it.live("events: interrupting the consumer ends the span, with an interrupted exit", () =>
    Effect.gen(function*() {
      const { tracer, named, only } = recordingTracer()
      const fiber = yield* (yield* System).events().pipe(Stream.runDrain, Effect.withTracer(tracer), Effect.forkChild)
      // The span exists once the daemon answered the headers; the stream then idles.
      yield* pollUntil(Effect.sync(() => named("SystemEvents")), (s) =>
        s.length === 1 && s[0]!.attributes.has("http.response.status_code"), { what: "the events span" })
      expect(only("SystemEvents").status._tag).toBe("Started")
      yield* Fiber.interrupt(fiber)
      const exit = exitOf(only("SystemEvents"))
      expect(exit?._tag).toBe("Failure")
      expect(exit !== undefined && Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))

  it.live("attach and exec start: the hijacked span lasts as long as the session's scope", () =>
    Effect.gen(function*() {
      const { tracer, only } = recordingTracer()
      const containers = yield* Containers
      const exec = yield* Exec
      const c = yield* testContainer({
        Cmd: ["cat"],
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true
      })
      const attached = yield* Effect.scoped(Effect.gen(function*() {
        const session = yield* containers.attach(c.id, { stdin: true, stdout: true, stderr: true, tty: false })
        yield* containers.start(c.id)
        yield* session.write("attached\n")
        yield* session.closeStdin
        const output = yield* collectFrames(session.output)
        // Output read to its end, the session's scope still open: so is the span.
        return { output, status: only("ContainerAttach").status._tag }
      })).pipe(Effect.withTracer(tracer))
      expect(attached).toEqual({ output: { stdout: "attached\n", stderr: "" }, status: "Started" })
      expect(exitOf(only("ContainerAttach"))?._tag).toBe("Success")
      expect(only("ContainerAttach").attributes.get("http.response.status_code")).toBe(101)

      const shell = yield* runningContainer(["sleep", "60"])
      const created = yield* exec.create(shell.id, {
        Cmd: ["sh", "-c", "echo from-exec"],
        AttachStdout: true,
        AttachStderr: true
      })
      const started = yield* Effect.scoped(Effect.gen(function*() {
        const session = yield* exec.start(created.Id)
        const output = yield* collectFrames(session.output)
        return { output, status: only("ExecStart").status._tag }
      })).pipe(Effect.withTracer(tracer))
      expect(started).toEqual({ output: { stdout: "from-exec\n", stderr: "" }, status: "Started" })
      expect(exitOf(only("ExecStart"))?._tag).toBe("Success")
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))

  it.live("save and load (offline progress): each span ends when its stream ends", () =>
    Effect.gen(function*() {
      const { tracer, only } = recordingTracer()
      const images = yield* Images
      let saveWhileFlowing: string | undefined
      const saved = yield* images.save(TEST_IMAGE).pipe(
        Stream.tap(() => Effect.sync(() => (saveWhileFlowing ??= only("ImageGet").status._tag))),
        Stream.runCollect,
        Effect.withTracer(tracer)
      )
      expect(saved.reduce((n, chunk) => n + chunk.length, 0)).toBeGreaterThan(1024)
      expect(saveWhileFlowing).toBe("Started")
      expect(exitOf(only("ImageGet"))?._tag).toBe("Success")
      // Loading the image back onto the engine it came from changes nothing there.
      const loaded = yield* images.load(Stream.fromIterable(saved)).pipe(Effect.withTracer(tracer))
      expect(loaded.names.map(familiarReference)).toContain(TEST_IMAGE) // Podman's are fully qualified
      const load = only("ImageLoad")
      expect(exitOf(load)?._tag).toBe("Success")
      expect(load.attributes.get("http.response.status_code")).toBe(200)
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))
})
