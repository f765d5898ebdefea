/**
 * What flows in and out of containers (issue #5): logs (framing from the container's TTY,
 * follow/since/until/tail/timestamps, early stop closes the connection), attach (stdin with
 * half-close, output after EOF kept) and the archive round trip.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref, type Scope, Stream } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DockerEngine } from "../../src/engine/engine.js"
import {
  collectOutput,
  Containers,
  type ContainersShape,
  Docker,
  packTar,
  stdioLines,
  stdoutLines,
  timestampedLines,
  timestampToDate,
  unpackTar
} from "../../src/index.js"
import { collectFrames, runningContainer, testContainer } from "../support/container-fixtures.js"
import { countingProxy } from "../support/counting-proxy.js"
import { currentEngine } from "../support/engines.js"
import { podmanOr } from "../support/podman-limitations.js"
import { pollUntil } from "../support/resources.js"

const target = currentEngine()
const layer = Docker.layer({ host: target.host })
const live = <A, E>(name: string, body: Effect.Effect<A, E, Containers | DockerEngine | Scope.Scope>) =>
  it.live(name, () => body.pipe(Effect.scoped, Effect.provide(layer)), 60_000)

const exited = (containers: ContainersShape, id: string) => Effect.map(containers.wait(id), (r) => r.StatusCode)

const SCRIPT = "echo out1; echo err1 >&2; printf 'out2 no newline'; printf 'err2\\n' >&2"

describe(`Container I/O on engine ${target.id}`, () => {
  live(
    "logs separate stdout and stderr exactly (framing from Config.Tty, inspected)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", SCRIPT])
      expect(yield* exited(containers, c.id)).toBe(0)
      expect(yield* collectOutput(containers.logs(c.id))).toEqual({
        stdout: "out1\nout2 no newline",
        stderr: "err1\nerr2\n"
      })
      expect(yield* collectOutput(containers.logs(c.id, { stderr: false }))).toEqual({
        stdout: "out1\nout2 no newline",
        stderr: ""
      })
      const lines = yield* Stream.runCollect(stdioLines(containers.logs(c.id, { tty: false })))
      expect(lines.filter((l) => l.stream === "stderr").map((l) => l.line)).toEqual(["err1", "err2"])
    })
  )

  live(
    "logs of a TTY container are raw (one stream, the terminal's \\r\\n)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", "echo out1; echo err1 >&2"], { Tty: true })
      expect(yield* exited(containers, c.id)).toBe(0)
      const frames = yield* collectFrames(containers.logs(c.id))
      expect(frames).toEqual({ stdout: "out1\r\nerr1\r\n", stderr: "" })
    })
  )

  live(
    "logs follow ends when the container stops; tail and timestamps",
    Effect.gen(function*() {
      const containers = yield* Containers
      // 1.2 s from the first line to the last: at least a second apart even in Podman's
      // whole-second timestamps.
      const c = yield* runningContainer(["sh", "-c", "for i in 1 2 3 4; do echo line$i; sleep 0.4; done"])
      const followed = yield* containers.logs(c.id, { follow: true }).pipe(
        stdoutLines,
        Stream.runCollect,
        Effect.timeout("20 seconds")
      )
      expect(followed).toEqual(["line1", "line2", "line3", "line4"])
      expect(yield* Stream.runCollect(stdoutLines(containers.logs(c.id, { tail: 2 })))).toEqual(["line3", "line4"])
      expect(yield* Stream.runCollect(stdoutLines(containers.logs(c.id, { tail: 0 })))).toEqual([])
      const stamped = yield* Stream.runCollect(
        timestampedLines(stdioLines(containers.logs(c.id, { timestamps: true })))
      )
      expect(stamped.map((l) => l.line)).toEqual(["line1", "line2", "line3", "line4"])
      const times = stamped.map((l) => timestampToDate(l.time!).getTime())
      expect(times.every((t) => Math.abs(t - Date.now()) < 120_000)).toBe(true)
      expect(times[3]! - times[0]!).toBeGreaterThanOrEqual(500)
    })
  )

  live(
    "logs since / until select by time (Dates and Unix seconds)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", "echo early; sleep 1.5; echo late"])
      expect(yield* exited(containers, c.id)).toBe(0)
      const stamped = yield* Stream.runCollect(
        timestampedLines(stdioLines(containers.logs(c.id, { timestamps: true })))
      )
      const [early, late] = stamped.map((l) => timestampToDate(l.time!).getTime())
      const middle = (early! + late!) / 2
      expect(yield* Stream.runCollect(stdoutLines(containers.logs(c.id, { since: new Date(middle) })))).toEqual([
        "late"
      ])
      expect(yield* Stream.runCollect(stdoutLines(containers.logs(c.id, { until: middle / 1000 })))).toEqual(["early"])
    })
  )

  live(
    "a logs consumer that stops early closes its connection",
    Effect.gen(function*() {
      const proxy = yield* countingProxy(target.host)
      const program = Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sh", "-c", "while true; do echo tick; sleep 0.05; done"])
        const logsOpen = Effect.sync(() => proxy.openWith("/logs"))
        const first = yield* containers.logs(c.id, { follow: true }).pipe(
          stdoutLines,
          Stream.take(3),
          Stream.runCollect
        )
        expect(first).toEqual(["tick", "tick", "tick"])
        // The daemon keeps writing to a follow stream forever: only closing the connection ends it.
        yield* pollUntil(logsOpen, (open) => open === 0, { what: "logs connection closed after take" })
        // The same for an interrupted consumer.
        const fiber = yield* Effect.forkChild(Stream.runDrain(containers.logs(c.id, { follow: true })))
        yield* pollUntil(logsOpen, (open) => open === 1, { what: "logs connection open" })
        yield* Fiber.interrupt(fiber)
        yield* pollUntil(logsOpen, (open) => open === 0, { what: "logs connection closed after interrupt" })
        // And the engine is still fine for the next call.
        expect((yield* containers.inspect(c.id)).State?.Running).toBe(true)
      })
      // A layer of its own over the proxy, so the count is this test's connections only.
      yield* program.pipe(Effect.scoped, Effect.provide(Layer.fresh(Docker.layer({ host: proxy.host }))))
    })
  )

  live(
    "attach: cat echoes bytes sent after start; output after stdin EOF is not lost",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* testContainer({
        Cmd: ["sh", "-c", "cat; sleep 0.3; echo after-eof >&2"],
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true
      })
      const session = yield* containers.attach(c.id) // before start: nothing is missed
      expect(session.tty).toBe(false)
      const seen = yield* Ref.make({ stdout: "", stderr: "" })
      const decoder = new TextDecoder()
      const reader = yield* Effect.forkChild(
        Stream.runForEach(session.output, (frame) =>
          Ref.update(seen, (s) =>
            frame.stream === "stderr"
              ? { ...s, stderr: s.stderr + decoder.decode(frame.data) }
              : { ...s, stdout: s.stdout + decoder.decode(frame.data) }))
      )
      yield* containers.start(c.id)
      yield* session.write("hello\n")
      // The echo arrives while stdin is still open.
      yield* pollUntil(Ref.get(seen), (s) => s.stdout === "hello\n", { what: "echo of hello" })
      // Then the rest through the Sink, whose end half-closes stdin (cat sees EOF).
      yield* Stream.run(Stream.make(new TextEncoder().encode("world\n")), session.stdin)
      yield* Fiber.join(reader).pipe(Effect.timeout("20 seconds"))
      expect(yield* Ref.get(seen)).toEqual({ stdout: "hello\nworld\n", stderr: "after-eof\n" })
      expect(yield* exited(containers, c.id)).toBe(0)
    })
  )

  live(
    "attach to a TTY container: raw output, the pty echoes input",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* testContainer({ Cmd: ["cat"], Tty: true, OpenStdin: true, StdinOnce: true, AttachStdin: true })
      const session = yield* containers.attach(c.id)
      expect(session.tty).toBe(true)
      yield* containers.start(c.id)
      const reader = yield* Effect.forkChild(collectFrames(session.output))
      yield* session.write("ping\n")
      yield* Effect.sleep("300 millis")
      yield* session.write("\u0004") // ^D on the terminal: EOF for cat
      const output = yield* Fiber.join(reader).pipe(Effect.timeout("20 seconds"))
      expect(output.stderr).toBe("")
      // The pty echoes the input and cat writes it back: both with \r\n.
      expect(output.stdout.startsWith("ping\r\nping\r\n")).toBe(true)
    })
  )

  live(
    "attach stream: false replays the logs so far, then ends, while the container keeps running",
    podmanOr(
      "attach-replay",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sh", "-c", "echo one; echo two >&2; sleep 60"])
        yield* pollUntil(collectOutput(containers.logs(c.id)), (o) => o.stdout === "one\n" && o.stderr === "two\n", {
          what: "both lines logged"
        })
        const session = yield* containers.attach(c.id, { logs: true, stream: false })
        const output = yield* collectFrames(session.output).pipe(Effect.timeout("20 seconds"))
        expect(output).toEqual({ stdout: "one\n", stderr: "two\n" })
        expect((yield* containers.inspect(c.id)).State?.Running).toBe(true)
      })
    )
  )

  live(
    "attach logs: true on an exited container replays its output and ends; stream: true follows a restart",
    podmanOr(
      "attach-replay",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sh", "-c", "echo out; echo err >&2"])
        expect(yield* exited(containers, c.id)).toBe(0)
        // The default: replay, then the end (the daemon would hold the streams open until a start).
        const replay = yield* containers.attach(c.id, { logs: true })
        expect(yield* collectFrames(replay.output).pipe(Effect.timeout("20 seconds"))).toEqual({
          stdout: "out\n",
          stderr: "err\n"
        })
        // Asked to stream, it waits for the next run and ends with it: the replay, then run 2.
        const followed = yield* containers.attach(c.id, { logs: true, stream: true, stdin: false })
        const reader = yield* Effect.forkChild(collectFrames(followed.output))
        yield* Effect.sleep("300 millis") // (the replay is read; the session now waits for a start)
        yield* containers.start(c.id)
        expect(yield* Fiber.join(reader).pipe(Effect.timeout("20 seconds"))).toEqual({
          stdout: "out\nout\n",
          stderr: "err\nerr\n"
        })
      })
    )
  )

  live(
    "attach to a missing container is NotFound",
    Effect.gen(function*() {
      const containers = yield* Containers
      const error = yield* Effect.flip(containers.attach("no-such-container-effect-docker", { tty: false }))
      expect(error._tag).toBe("NotFound")
    })
  )

  live(
    "archive: put a packed directory, stat it, get it back: bytes and modes round-trip",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* testContainer({ Cmd: ["true"] })
      const payload = randomBytes(200_000)
      yield* containers.putArchive(
        c.id,
        "/tmp",
        packTar([
          { name: "up/data.bin", content: payload, mode: 0o640 },
          { name: "up/run.sh", content: "#!/bin/sh\necho hi\n", mode: 0o755 }
        ])
      )
      const stat = yield* containers.archiveInfo(c.id, "/tmp/up/data.bin")
      expect(stat).toMatchObject({ name: "data.bin", size: payload.length, permissions: 0o640, isDirectory: false })
      expect((yield* containers.archiveInfo(c.id, "/tmp/up")).isDirectory).toBe(true)
      expect((yield* Effect.flip(containers.archiveInfo(c.id, "/tmp/missing")))._tag).toBe("NotFound")

      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "ed-archive-it-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const download = yield* containers.getArchive(c.id, "/tmp/up")
      expect(download.stat).toMatchObject({ name: "up", isDirectory: true })
      const unpacked = yield* unpackTar(download.tar, dir)
      expect([...unpacked.files].sort()).toEqual(["up/data.bin", "up/run.sh"])
      expect(Buffer.compare(readFileSync(join(dir, "up/data.bin")), payload)).toBe(0)
      expect(statSync(join(dir, "up/data.bin")).mode & 0o777).toBe(0o640)
      expect(statSync(join(dir, "up/run.sh")).mode & 0o777).toBe(0o755)
    })
  )

  live(
    "putArchive fails with the tar source's own error; a missing target is NotFound",
    podmanOr(
      "archive-missing-path",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* testContainer({ Cmd: ["true"] })
        const broken = Stream.concat(Stream.make(new Uint8Array(512)), Stream.fail("tar source broke" as const))
        expect(yield* Effect.flip(containers.putArchive(c.id, "/tmp", broken))).toBe("tar source broke")
        const missing = yield* Effect.flip(
          containers.putArchive(c.id, "/no/such/dir", packTar([{ name: "x", content: "x" }]))
        )
        expect(missing._tag).toBe("NotFound")
      })
    )
  )
})
