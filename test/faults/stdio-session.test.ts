/**
 * How a hijacked stdio session (attach, exec start) ends, against a fake daemon on a real unix
 * socket: the daemon dying mid-frame, between frames, or with a reset must fail `output` with a
 * typed error, and must not look like the process ending (the daemon half-closing, alive).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref, type Scope, Stream } from "effect"
import { ExecStart } from "../../src/generated/operations/exec/ExecStart.js"
import { Containers, Docker, DockerEngine, type DockerError, Exec } from "../../src/index.js"
import type { StdioSession } from "../../src/services/stdio-session.js"
import type { StdioFrame } from "../../src/wire/stdio-frames.js"
import { frameText } from "../support/container-fixtures.js"
import { type FakeDaemon, fakeDaemon } from "../support/fake-daemon.js"

/** Runs `f` with every service over an engine on the fake daemon (no retries: failures show at once). */
const withDocker = <A, E>(daemon: FakeDaemon, f: Effect.Effect<A, E, Containers | Exec | Scope.Scope>) =>
  f.pipe(Effect.scoped, Effect.provide(Docker.layer({ host: daemon.host, apiVersion: "1.41", retry: false })))

/** Reads `output` to its end (bounded): the frames that arrived, and how it ended. */
const drain = (session: StdioSession) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<StdioFrame>>([])
    const end = yield* session.output.pipe(
      Stream.runForEach((frame) =>
        Ref.update(seen, (all) => [...all, { stream: frame.stream, data: frame.data.slice() }])
      ),
      Effect.timeout("10 seconds"),
      Effect.result
    )
    return { output: frameText(yield* Ref.get(seen)), end }
  })

/** Polls (bounded) until the fake daemon sees no open connection: the session's socket was released. */
const allClosed = (daemon: FakeDaemon) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && daemon.openConnections() > 0; i++) yield* Effect.sleep("10 millis")
    return daemon.openConnections()
  })

/**
 * Starts the fake's exec `fault` (after `meanwhile` on the session), reads its output to the end
 * and checks that it failed after delivering the frames sent before, and that the socket was
 * released; the failure.
 */
const execSessionFailure = (
  fault: string,
  meanwhile: (session: StdioSession) => Effect.Effect<void> = () => Effect.void
) =>
  Effect.gen(function*() {
    const daemon = yield* fakeDaemon
    const { end, output } = yield* withDocker(
      daemon,
      Effect.gen(function*() {
        const session = yield* (yield* Exec).start(fault, { tty: false })
        yield* meanwhile(session)
        return yield* drain(session)
      })
    )
    expect(output).toEqual({ stdout: "out-1\n", stderr: "err-1\n" })
    expect(end._tag, "output should have failed").toBe("Failure")
    expect(yield* allClosed(daemon)).toBe(0)
    return { daemon, error: (end as unknown as { readonly failure: DockerError }).failure }
  })

describe("a hijacked stdio session", () => {
  it.live("ends successfully when the daemon half-closes and is still there (the process ended)", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const result = yield* withDocker(
        daemon,
        Effect.gen(function*() {
          const exec = yield* drain(yield* (yield* Exec).start("end-normally", { tty: false }))
          const attach = yield* drain(yield* (yield* Containers).attach("end-normally", { tty: false }))
          return { exec, attach }
        })
      )
      for (const { end, output } of [result.exec, result.attach]) {
        expect(end._tag).toBe("Success")
        expect(output).toEqual({ stdout: "out-1\n", stderr: "err-1\n" })
      }
      expect(yield* allClosed(daemon)).toBe(0)
    }))

  it.live("fails with ConnectionError when the daemon died between frames (EOF, then no daemon)", () =>
    Effect.gen(function*() {
      const { daemon, error } = yield* execSessionFailure("die-between-frames")
      expect(error._tag).toBe("ConnectionError")
      expect(error).toMatchObject({ operation: "ExecStart", endpoint: daemon.host, code: "ENOENT" })
      expect(error.message).toContain("ExecStart")
      expect(error.message).toContain("no longer answers")
    }))

  it.live("fails with StdioStreamError (Truncated) when the daemon died inside a frame", () =>
    Effect.gen(function*() {
      const { error } = yield* execSessionFailure("die-mid-frame")
      expect(error).toMatchObject({ _tag: "StdioStreamError", operation: "ExecStart", reason: "Truncated" })
      expect(error.message).toContain("3 of 10 payload bytes")
    }))

  it.live("fails with ConnectionError ECONNRESET when the daemon reset the connection between frames", () =>
    Effect.gen(function*() {
      const { error } = yield* execSessionFailure("reset-between-frames", (session) =>
        // The daemon stopped reading: more stdin than its buffers hold stays unread in the
        // kernel when it closes, which resets the connection. (The write itself fails then.)
        Effect.asVoid(Effect.forkChild(Effect.ignore(session.write(new Uint8Array(1 << 20))))))
      expect(error).toMatchObject({ _tag: "ConnectionError", operation: "ExecStart", code: "ECONNRESET" })
    }))
})

describe("a hijacked socket from engine.hijack", () => {
  it.live("is handed out not yet flowing: a late on(\"data\") gets every byte, those behind the headers first", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeDaemon
      const received = yield* Effect.gen(function*() {
        const engine = yield* DockerEngine
        // The fake writes the 101 head and both frames in one write: the frames arrive with the head.
        const { socket } = yield* engine.hijack(ExecStart, { id: "end-normally", body: { Detach: false, Tty: false } })
        expect(socket.readableFlowing).toBe(null)
        // Attach late, after everything (and the daemon's half-close) has arrived.
        yield* Effect.sleep("100 millis")
        return yield* Effect.callback<Buffer>((resume) => {
          const chunks: Array<Buffer> = []
          socket.on("data", (chunk: Buffer) => chunks.push(chunk))
          socket.on("end", () => resume(Effect.succeed(Buffer.concat(chunks))))
        }).pipe(Effect.timeout("5 seconds"))
      }).pipe(
        Effect.scoped,
        Effect.provide(DockerEngine.layer({ host: daemon.host, apiVersion: "1.41", retry: false }))
      )
      const frame = (type: number, text: string) =>
        Buffer.concat([Buffer.from([type, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)])
      expect(received.equals(Buffer.concat([frame(1, "out-1\n"), frame(2, "err-1\n")]))).toBe(true)
      expect(yield* allClosed(daemon)).toBe(0)
    }))
})
