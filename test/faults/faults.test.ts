import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Metric, Schema, type Scope, Stream } from "effect"
import { DockerEngine, type DockerError, type OperationDescriptor } from "../../src/index.js"
import { type FakeDaemon, fakeDaemon, silentDaemon } from "../support/fake-daemon.js"

const jsonOp = (path: string) =>
  ({
    operationId: "FaultProbe",
    method: "GET",
    path,
    params: [],
    response: { kind: "json", schema: async () => Schema.Struct({ Id: Schema.String }) },
    since: "1.41"
  }) as const satisfies OperationDescriptor

const streamOp = (path: string) =>
  ({
    operationId: "FaultStream",
    method: "GET",
    path,
    params: [],
    response: { kind: "jsonStream", schema: async () => Schema.Unknown },
    since: "1.41"
  }) as const satisfies OperationDescriptor

/** Polls (bounded) until the fake daemon sees no open connection. */
const allClosed = (daemon: FakeDaemon) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && daemon.openConnections() > 0; i++) yield* Effect.sleep("10 millis")
    return daemon.openConnections()
  })

/** Runs `f` against an engine on the fake daemon; the engine's scope closes before returning. */
const withEngine = <A, E>(
  daemon: FakeDaemon,
  f: (engine: typeof DockerEngine.Service) => Effect.Effect<A, E>,
  options: Parameters<typeof DockerEngine.layer>[0] = {}
) =>
  Effect.flatMap(DockerEngine, f).pipe(
    Effect.provide(DockerEngine.layer({ host: daemon.host, apiVersion: "1.41", retry: false, ...options }))
  )

const failureOf = (daemon: FakeDaemon, path: string, options: Parameters<typeof DockerEngine.layer>[0] = {}) =>
  withEngine(daemon, (engine) => Effect.flip(engine.json(jsonOp(path))), options)

/**
 * Runs a case while counting the fibers it starts (the engine's included), and fails when any is
 * still alive once the case and its engine scope are over: every wait ends, nothing is left behind.
 */
const live = <A, E>(name: string, body: () => Effect.Effect<A, E, Scope.Scope>) =>
  it.live(name, () =>
    Effect.gen(function*() {
      let active = 0
      const counter: Metric.FiberRuntimeMetricsService = {
        recordFiberStart: () => {
          active++
        },
        recordFiberEnd: () => {
          active--
        }
      }
      yield* body().pipe(Effect.scoped, Effect.provideService(Metric.FiberRuntimeMetrics, counter))
      for (let i = 0; i < 200 && active > 0; i++) yield* Effect.sleep("10 millis")
      expect(active, "fibers still running after the case").toBe(0)
    }))

describe("a misbehaving daemon", () => {
  live("reset mid-body: ConnectionError, socket released", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const error = yield* failureOf(daemon, "/reset-mid-body")
      expect(error._tag).toBe("ConnectionError")
      expect(error.message).toContain("FaultProbe")
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("truncated chunked body: ConnectionError", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const error = yield* failureOf(daemon, "/truncated-chunked")
      expect(error._tag).toBe("ConnectionError")
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("invalid JSON: DecodeError that quotes what came", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const error = yield* failureOf(daemon, "/invalid-json")
      expect(error._tag).toBe("DecodeError")
      expect(error.message).toBe("FaultProbe: the daemon's answer is not JSON: {\"Id\": nope")
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("wrong content type (HTML): DecodeError", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const error = yield* failureOf(daemon, "/wrong-content-type")
      expect(error._tag).toBe("DecodeError")
      expect(error.message).toContain("<html>")
    }))

  live("500 with a text body: ServerError carrying the text", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const error = yield* failureOf(daemon, "/server-error-text")
      expect(error._tag).toBe("ServerError")
      if (error._tag !== "ServerError") return
      expect(error.status).toBe(500)
      expect(error.daemonMessage).toBe("internal oops")
    }))

  live("headers arriving byte by byte still decode", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const value = yield* withEngine(daemon, (engine) => engine.json(jsonOp("/headers-byte-by-byte")))
      expect(value).toEqual({ Id: "slow" })
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("a never-ending stream: taking a few messages closes the connection", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const chunks = yield* engine.stream(streamOp("/never-ending")).pipe(Stream.take(3), Stream.runCollect)
          expect(chunks.length).toBe(3)
          // Released while the engine (and its pool) is still alive: the stream's own doing.
          expect(yield* allClosed(daemon)).toBe(0)
        }))
    }))

  live("a never-ending stream: interrupting the consumer closes the connection", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const result = yield* engine.stream(streamOp("/never-ending")).pipe(
            Stream.runDrain,
            Effect.timeoutOption("100 millis")
          )
          expect(result._tag).toBe("None")
          expect(yield* allClosed(daemon)).toBe(0)
        }))
    }))

  live(
    "a consumer that falls behind pushes back: the daemon cannot write much more than it reads",
    () =>
      Effect.gen(function*() {
        const daemon = yield* fakeDaemon
        yield* withEngine(daemon, (engine) =>
          Effect.gen(function*() {
            let received = 0
            // Read one batch, then stall for a while before reading a little more.
            yield* engine.stream(streamOp("/firehose")).pipe(
              Stream.mapArrayEffect((chunks) =>
                Effect.as(
                  Effect.andThen(
                    Effect.sync(() => {
                      for (const c of chunks) received += c.length
                    }),
                    received < 1024 * 1024 ? Effect.sleep("300 millis") : Effect.void
                  ),
                  chunks
                )
              ),
              Stream.takeWhile(() => received < 4 * 1024 * 1024),
              Stream.runDrain
            )
            // Without backpressure the daemon would write until FIREHOSE_LIMIT (256 MiB) while the
            // consumer sleeps; with it, what it wrote is what was read plus the paused queue
            // (256 KiB) and the socket buffers.
            expect(received).toBeGreaterThanOrEqual(4 * 1024 * 1024)
            expect(daemon.firehoseBytes()).toBeLessThan(received + 16 * 1024 * 1024)
            expect(yield* allClosed(daemon)).toBe(0)
          }))
      })
  )

  live("hang after headers: OperationTimeoutError within the bound, socket released", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const started = Date.now()
      const error = yield* failureOf(daemon, "/hang-after-headers", { timeout: "200 millis" })
      expect(error._tag).toBe("OperationTimeoutError")
      expect(Date.now() - started).toBeLessThan(5_000)
      if (error._tag === "OperationTimeoutError") expect(error.millis).toBe(200)
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live(
    "no answer at all: OperationTimeoutError, and a per-call bound overrides the engine's",
    () =>
      Effect.gen(function*() {
        const daemon = yield* fakeDaemon
        const error = yield* withEngine(
          daemon,
          (engine) => Effect.flip(engine.json(jsonOp("/hang"), {}, { timeout: "150 millis" }))
        )
        expect(error._tag).toBe("OperationTimeoutError")
        expect((error as DockerError).message).toBe(`FaultProbe: no complete answer from ${daemon.host} within 150 ms`)
        expect(yield* allClosed(daemon)).toBe(0)
      })
  )

  live("interrupting a waiting call aborts its request", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const result = yield* engine.json(jsonOp("/hang"), {}, { timeout: "none" }).pipe(
            Effect.timeoutOption("100 millis")
          )
          expect(result._tag).toBe("None")
          expect(yield* allClosed(daemon)).toBe(0)
        }))
    }))

  live(
    "interrupting a call still queued for a connection: it returns at once and is never sent",
    () =>
      Effect.gen(function*() {
        const daemon = yield* fakeDaemon
        yield* withEngine(daemon, (engine) =>
          Effect.gen(function*() {
            // One connection, taken by a call the daemon never answers: the next call waits in the
            // queue. (Bounded calls: unbounded ones take connections outside the bounded pool.)
            const blocker = yield* Effect.forkChild(engine.json(jsonOp("/hang"), {}, { timeout: "1 minute" }))
            yield* Effect.sleep("50 millis")
            const started = Date.now()
            const queued = yield* engine.json(jsonOp("/queued"), {}, { timeout: "1 minute" }).pipe(
              Effect.timeoutOption("100 millis")
            )
            expect(queued._tag).toBe("None")
            expect(Date.now() - started).toBeLessThan(2_000)
            yield* Fiber.interrupt(blocker)
            expect(yield* allClosed(daemon)).toBe(0)
            // The interrupted call never reached the daemon, not even once the connection was free.
            expect(daemon.requests().filter((r) => r.includes("/queued"))).toEqual([])
          }), { connections: 1 })
      })
  )

  live("a queued call that is interrupted leaves its connection alone", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const slow = yield* Effect.forkChild(engine.json(jsonOp("/slow")))
          yield* Effect.sleep("50 millis")
          const queued = yield* engine.json(jsonOp("/ok")).pipe(Effect.timeoutOption("50 millis"))
          expect(queued._tag).toBe("None")
          expect((yield* Fiber.join(slow)).Id).toBe("slow")
          expect((yield* engine.json(jsonOp("/ok"))).Id).toBe("ok")
          // Taken out of the queue, not aborted on the connection it would have used.
          expect(daemon.connectionsAccepted()).toBe(1)
        }), { connections: 1 })
    }))

  live("a bound too long for a timer (or infinite) is no bound, not an instant timeout", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          expect((yield* engine.json(jsonOp("/slow"), {}, { timeout: Duration.infinity })).Id).toBe("slow")
          expect((yield* engine.json(jsonOp("/slow"), {}, { timeout: "30 days" })).Id).toBe("slow")
        }))
    }))

  live("a streamed body is read once: a second run dies and says why", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.scoped(Effect.gen(function*() {
          const answer = yield* engine.open(streamOp("/never-ending"))
          expect((yield* answer.body.pipe(Stream.take(1), Stream.runCollect)).length).toBe(1)
          const again = yield* Effect.exit(Stream.runCollect(answer.body))
          expect(again._tag).toBe("Failure")
          expect(String(again)).toContain("a response body can be read once")
        })))
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("a paused stream whose consumer makes calls of its own keeps flowing", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          // The consumer is woken inside the other call's answer, with the firehose paused: it
          // must be able to pull (and so resume the firehose) right there.
          let received = 0
          const calls = yield* engine.stream(streamOp("/firehose")).pipe(
            Stream.mapArrayEffect((chunks) =>
              Effect.as(
                Effect.andThen(
                  Effect.sync(() => {
                    for (const c of chunks) received += c.length
                  }),
                  engine.json(jsonOp("/ok"))
                ),
                chunks
              )
            ),
            Stream.takeWhile(() => received < 8 * 1024 * 1024),
            Stream.runCount
          )
          expect(calls).toBeGreaterThan(1)
          expect(received).toBeGreaterThanOrEqual(8 * 1024 * 1024)
        }))
      // (the /ok calls' keep-alive connection lives as long as the engine)
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("101 then close: the hijacked stream simply ends, nothing hangs or leaks", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const { socket, status } = yield* engine.hijack({
            ...jsonOp("/upgrade-then-close"),
            response: { kind: "hijack" }
          })
          expect(status).toBe(101)
          const bytes = yield* Effect.promise(async () => {
            let n = 0
            for await (const chunk of socket) n += (chunk as Buffer).length
            return n
          }).pipe(Effect.timeout("5 seconds"))
          expect(bytes).toBe(0)
        }).pipe(Effect.scoped))
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("a hijack the daemon never answers is interruptible", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      yield* withEngine(daemon, (engine) =>
        Effect.gen(function*() {
          const result = yield* engine.hijack({ ...jsonOp("/hang"), response: { kind: "hijack" } }).pipe(
            Effect.scoped,
            Effect.timeoutOption("100 millis")
          )
          expect(result._tag).toBe("None")
          expect(yield* allClosed(daemon)).toBe(0)
        }))
    }))

  live("connection failures are retried for idempotent requests only", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const before = daemon.requests().length
      const error = yield* failureOf(daemon, "/reset-mid-body", { retry: undefined })
      expect(error._tag).toBe("ConnectionError")
      // The default schedule: the first try and three retries.
      expect(daemon.requests().slice(before)).toEqual(Array(4).fill("GET /v1.41/reset-mid-body"))
      const posted = daemon.requests().length
      yield* withEngine(
        daemon,
        (engine) => Effect.flip(engine.json({ ...jsonOp("/reset-mid-body"), method: "POST" })),
        {
          retry: undefined
        }
      )
      expect(daemon.requests().slice(posted)).toEqual(["POST /v1.41/reset-mid-body"])
    }))
})

describe("a daemon that accepts and never answers, with an unpinned layer", () => {
  /** An unpinned engine on `daemon`: the first call has to negotiate. */
  const unpinned = <A, E>(
    daemon: FakeDaemon,
    f: (engine: typeof DockerEngine.Service) => Effect.Effect<A, E>,
    options: Parameters<typeof DockerEngine.layer>[0] = {}
  ) =>
    Effect.flatMap(DockerEngine, f).pipe(
      Effect.provide(DockerEngine.layer({ host: daemon.host, retry: false, ...options }))
    )

  live("the negotiation is bounded by the engine's timeout", () =>
    Effect.gen(function*() {
      const daemon = yield* silentDaemon
      const started = Date.now()
      const error = yield* unpinned(daemon, (engine) => Effect.flip(engine.json(jsonOp("/ok"))), {
        timeout: "200 millis"
      })
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(error._tag).toBe("OperationTimeoutError")
      if (error._tag === "OperationTimeoutError") expect(error.millis).toBe(200)
      // Only the negotiation's ping was sent: the call never got a version to send with.
      expect(daemon.requests()).toEqual(["HEAD /_ping"])
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("a call's own bound covers the negotiation it waits for", () =>
    Effect.gen(function*() {
      const daemon = yield* silentDaemon
      yield* unpinned(daemon, (engine) =>
        Effect.gen(function*() {
          const started = Date.now()
          const error = yield* Effect.flip(engine.json(jsonOp("/ok"), {}, { timeout: "150 millis" }))
          expect(Date.now() - started).toBeLessThan(5_000)
          expect(error._tag).toBe("OperationTimeoutError")
          if (error._tag !== "OperationTimeoutError") return
          // The call's error, with the call's bound (the engine's is 2 minutes).
          expect(error.operation).toBe("FaultProbe")
          expect(error.millis).toBe(150)
          expect(error.message).toBe(`FaultProbe: no complete answer from ${daemon.host} within 150 ms`)
        }))
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  live("a stream waiting for the negotiation fails when the engine's bound elapses", () =>
    Effect.gen(function*() {
      const daemon = yield* silentDaemon
      const error = yield* unpinned(
        daemon,
        (engine) => Effect.flip(Stream.runDrain(engine.stream(streamOp("/never-ending")))),
        { timeout: "200 millis" }
      )
      expect(error._tag).toBe("OperationTimeoutError")
      if (error._tag !== "OperationTimeoutError") return
      expect(error.operation).toBe("SystemPing")
      expect(error.millis).toBe(200)
      expect(yield* allClosed(daemon)).toBe(0)
    }))
})

describe("no daemon at the address", () => {
  live("ConnectionError names the address and says what a user can do", () =>
    Effect.gen(function*() {
      const host = "unix:///tmp/effect-docker-no-such-dir/docker.sock"
      const error = yield* Effect.flip(Effect.flatMap(DockerEngine, (engine) => engine.json(jsonOp("/ok")))).pipe(
        Effect.provide(DockerEngine.layer({ host, apiVersion: "1.41", retry: false }))
      )
      expect(error._tag).toBe("ConnectionError")
      if (error._tag !== "ConnectionError") return
      expect(error.endpoint).toBe(host)
      expect(error.code).toBe("ENOENT")
      expect(error.message).toMatch(
        new RegExp(`^FaultProbe: cannot talk to the Docker daemon at ${host} \\(no such socket`)
      )
      expect(error.message).toContain(
        `Is the Docker daemon running and listening at ${host}? Start it, or point DOCKER_HOST at the address it ` +
          "listens on (or check the Docker context in use: `docker context ls`)."
      )
      // Nothing that only exists in this repository.
      expect(error.message).not.toContain("scripts/")
    }))
})
