import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { Duplex } from "node:stream"
import { ContainerStart } from "../../src/generated/operations/container/ContainerStart.js"
import { ContainerExec, type ContainerExecBody } from "../../src/generated/operations/exec/ContainerExec.js"
import { ExecInspect } from "../../src/generated/operations/exec/ExecInspect.js"
import { ExecStart } from "../../src/generated/operations/exec/ExecStart.js"
import { DockerEngine, type DockerEngineShape } from "../../src/index.js"
import { currentEngine } from "../support/engines.js"
import { pollUntil, scopedContainer } from "../support/resources.js"

const target = currentEngine()

/** Reads a hijacked socket to its end and splits Docker's 8-byte frames (kept naive on purpose). */
const readFrames = (socket: Duplex) =>
  Effect.promise(async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of socket) chunks.push(chunk as Buffer)
    const all = Buffer.concat(chunks)
    const out = { stdout: "", stderr: "" }
    for (let offset = 0; offset + 8 <= all.length;) {
      const size = all.readUInt32BE(offset + 4)
      const text = all.subarray(offset + 8, offset + 8 + size).toString("utf8")
      if (all[offset] === 1) out.stdout += text
      else out.stderr += text
      offset += 8 + size
    }
    return out
  })

/** An exec created (not started) in a running container of its own, removed with the scope. */
const execInContainer = (engine: DockerEngineShape, body: ContainerExecBody) =>
  Effect.gen(function*() {
    const container = yield* scopedContainer(engine, { Cmd: ["sleep", "60"] })
    yield* engine.empty(ContainerStart, { id: container.id })
    return yield* engine.json(ContainerExec, { id: container.id, body })
  })

describe(`hijacked connections on engine ${target.id}`, () => {
  it.live("exec start: stdin reaches the process, half-close ends it, output after EOF is kept", () =>
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      const exec = yield* execInContainer(engine, {
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        // Output written after stdin closed must still arrive.
        Cmd: ["sh", "-c", "cat; sleep 0.2; echo after-eof >&2"]
      })
      const { socket, status } = yield* engine.hijack(ExecStart, { id: exec.Id, body: { Detach: false, Tty: false } })
      // 20.10 and 28.x both switch protocols when asked with Upgrade headers.
      expect(status).toBe(101)
      const reader = yield* Effect.forkChild(readFrames(socket))
      socket.write("hello\n")
      socket.write("world\n")
      socket.end() // half-close: the process sees EOF, the read side stays open
      const output = yield* Fiber.join(reader).pipe(Effect.timeout("20 seconds"))
      expect(output).toEqual({ stdout: "hello\nworld\n", stderr: "after-eof\n" })
    }).pipe(Effect.scoped, Effect.provide(DockerEngine.layer({ host: target.host }))))

  it.live("the socket is handed out not yet flowing: a plain on(\"data\") attached late gets all the output", () =>
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      const exec = yield* execInContainer(engine, {
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        Cmd: ["sh", "-c", "echo one; echo two"]
      })
      const { socket } = yield* engine.hijack(ExecStart, { id: exec.Id, body: { Detach: false, Tty: true } })
      expect(socket.readableFlowing).toBe(null)
      // Nobody reads until the process has ended: its whole output is already waiting.
      yield* pollUntil(engine.json(ExecInspect, { id: exec.Id }), (info) => info.Running === false, {
        what: "exec ended"
      })
      const output = yield* Effect.callback<string>((resume) => {
        let text = ""
        socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")))
        socket.on("end", () => resume(Effect.succeed(text)))
      }).pipe(Effect.timeout("20 seconds"))
      expect(output).toBe("one\r\ntwo\r\n")
    }).pipe(Effect.scoped, Effect.provide(DockerEngine.layer({ host: target.host }))))

  it.live("a refused hijack is a typed error with the daemon's message", () =>
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      const error = yield* Effect.flip(engine.hijack(ExecStart, { id: "no-such-exec-effect-docker", body: {} }))
      expect(error._tag).toBe("NotFound")
      expect(error.message).toContain("no-such-exec-effect-docker")
      expect(error.message).toContain("ExecStart")
    }).pipe(Effect.scoped, Effect.provide(DockerEngine.layer({ host: target.host }))))
})
