/**
 * Exec on a real engine (issue #5): the four operations, framing decided by the ExecStart body's
 * Tty (not create's, not Content-Type), stdin with half-close, exact exit codes and streams.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, type Scope, Stream } from "effect"
import type { DockerEngine } from "../../src/engine/engine.js"
import { Containers, Docker, Exec, stdoutLines } from "../../src/index.js"
import { collectFrames, runningContainer } from "../support/container-fixtures.js"
import { currentEngine } from "../support/engines.js"
import { podmanOr } from "../support/podman-limitations.js"
import { pollUntil } from "../support/resources.js"

const target = currentEngine()
const layer = Docker.layer({ host: target.host })
const live = <A, E>(name: string, body: Effect.Effect<A, E, Exec | Containers | DockerEngine | Scope.Scope>) =>
  it.live(name, () => body.pipe(Effect.scoped, Effect.provide(layer)), 60_000)

const sleeper = runningContainer(["sleep", "600"])

describe(`Exec on engine ${target.id}`, () => {
  live(
    "run: exit codes exact, stdout and stderr separate and exact",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      expect(yield* exec.run(c.id, ["sh", "-c", "printf 'a\\nb'; echo oops >&2; exit 3"])).toEqual({
        exitCode: 3,
        stdout: "a\nb",
        stderr: "oops\n"
      })
      expect((yield* exec.run(c.id, ["true"])).exitCode).toBe(0)
      expect((yield* exec.run(c.id, ["sh", "-c", "exit 255"])).exitCode).toBe(255)
      expect((yield* exec.run(c.id, ["sh", "-c", "kill -9 $$"])).exitCode).toBe(137)
    })
  )

  live(
    "run: argv is never split; env, workingDir and user apply",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      expect((yield* exec.run(c.id, ["echo", "two  spaces", "$HOME"])).stdout).toBe("two  spaces $HOME\n")
      const r = yield* exec.run(c.id, ["sh", "-c", "echo $GREETING; pwd; id -u"], {
        env: { GREETING: "hi there" },
        workingDir: "/tmp",
        user: "65534"
      })
      expect(r.stdout).toBe("hi there\n/tmp\n65534\n")
      // A binary that does not exist: the daemon reports it in the output (20.10: 126, 28.x: 127;
      // Podman: 127, the runtime's words on stderr).
      const missing = yield* exec.run(c.id, ["/no/such/binary"])
      expect(target.id === "docker-20.10" ? 126 : 127).toBe(missing.exitCode)
      expect(target.kind === "podman" ? missing.stderr : missing.stdout).toContain("no such file or directory")
    })
  )

  live(
    "run with stdin: the process reads it, then EOF",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      const r = yield* exec.run(c.id, ["sh", "-c", "wc -c; echo done >&2"], { stdin: "x".repeat(100_000) })
      expect(r).toEqual({ exitCode: 0, stdout: "100000\n", stderr: "done\n" })
    })
  )

  live(
    "run with tty: raw output, stderr merged, \\r\\n line ends",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      expect(yield* exec.run(c.id, ["sh", "-c", "echo out; echo err >&2; exit 4"], { tty: true })).toEqual({
        exitCode: 4,
        stdout: "out\r\nerr\r\n",
        stderr: ""
      })
    })
  )

  live(
    "spawn: cat echoes bytes sent after start; output after stdin EOF is not lost",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      const proc = yield* exec.spawn(c.id, ["sh", "-c", "cat; sleep 0.3; echo after-eof >&2; exit 5"])
      const seen = yield* Ref.make("")
      const decoder = new TextDecoder()
      const frames = yield* Ref.make<Array<string>>([])
      const reader = yield* Effect.forkChild(Stream.runForEach(proc.output, (frame) =>
        Effect.andThen(
          Ref.update(frames, (all) => [...all, frame.stream]),
          frame.stream === "stdout" ? Ref.update(seen, (s) => s + decoder.decode(frame.data)) : Effect.void
        )))
      yield* proc.write("first\n")
      yield* pollUntil(Ref.get(seen), (s) => s === "first\n", { what: "echo of first" })
      yield* proc.write("second\n")
      yield* proc.closeStdin
      yield* Fiber.join(reader).pipe(Effect.timeout("20 seconds"))
      expect(yield* Ref.get(seen)).toBe("first\nsecond\n")
      expect((yield* Ref.get(frames)).at(-1)).toBe("stderr") // after-eof came last
      expect(yield* proc.exitCode).toBe(5)
    })
  )

  live(
    "framing follows the ExecStart body's Tty, not create's",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      // Created with a pty but started with Tty: false: framed (multiplexed) output, pty semantics.
      const ptyFramed = yield* exec.create(c.id, {
        Cmd: ["sh", "-c", "echo framed; echo err >&2"],
        AttachStdout: true,
        AttachStderr: true,
        Tty: true
      })
      const framed = yield* Effect.scoped(
        Effect.flatMap(exec.start(ptyFramed.Id, { tty: false }), (session) => collectFrames(session.output))
      )
      expect(framed).toEqual({ stdout: "framed\r\nerr\r\n", stderr: "" })
      // Created without a pty, started with Tty: true: a raw stream (no frames), plain "\n".
      const rawStart = yield* exec.create(c.id, {
        Cmd: ["sh", "-c", "echo raw"],
        AttachStdout: true,
        AttachStderr: true,
        Tty: false
      })
      const raw = yield* Effect.scoped(
        Effect.flatMap(
          exec.start(rawStart.Id, { tty: true }),
          (session) => Effect.map(collectFrames(session.output), (out) => ({ out, tty: session.tty }))
        )
      )
      // Podman frames by the create-time Tty whatever start says: the client reads it framed, as sent.
      expect(raw).toEqual({ out: { stdout: "raw\n", stderr: "" }, tty: target.kind !== "podman" })
      // Without a tty option, start uses the exec's own Tty (as the CLI does).
      const own = yield* exec.create(c.id, { Cmd: ["echo", "own"], AttachStdout: true, Tty: true })
      const ownOut = yield* Effect.scoped(
        Effect.flatMap(
          exec.start(own.Id),
          (session) => Effect.map(collectFrames(session.output), (out) => ({ out, tty: session.tty }))
        )
      )
      expect(ownOut).toEqual({ out: { stdout: "own\r\n", stderr: "" }, tty: true })
    })
  )

  live(
    "startDetached returns at once; inspect reports the process and its exit code",
    podmanOr(
      "exec-detached-status",
      Effect.gen(function*() {
        const exec = yield* Exec
        const c = yield* sleeper
        const created = yield* exec.create(c.id, { Cmd: ["sh", "-c", "sleep 0.5; echo done > /tmp/marker; exit 6"] })
        const before = yield* exec.inspect(created.Id)
        expect(before.Running).toBe(false)
        expect(before.ContainerID).toBe(c.id)
        expect(before.ProcessConfig?.entrypoint).toBe("sh")
        expect(before.ProcessConfig?.arguments).toEqual(["-c", "sleep 0.5; echo done > /tmp/marker; exit 6"])
        yield* exec.startDetached(created.Id)
        expect((yield* exec.inspect(created.Id)).Running).toBe(true)
        const finished = yield* pollUntil(exec.inspect(created.Id), (i) => i.Running === false, { what: "exec ended" })
        expect(finished.ExitCode).toBe(6)
        expect((yield* exec.run(c.id, ["cat", "/tmp/marker"])).stdout).toBe("done\n")
        expect((yield* Effect.flip(exec.startDetached(created.Id)))._tag).toBe("Conflict") // cannot run twice
      })
    )
  )

  live(
    "resize reaches the exec's pty",
    Effect.gen(function*() {
      const exec = yield* Exec
      const c = yield* sleeper
      const proc = yield* exec.spawn(
        c.id,
        ["sh", "-c", "trap 'stty size; exit 0' WINCH; echo ready; while true; do sleep 0.1; done"],
        { tty: true }
      )
      const lines = yield* Effect.forkChild(Stream.runCollect(stdoutLines(proc.output)))
      yield* Effect.sleep("500 millis")
      yield* exec.resize(proc.id, { h: 21, w: 63 })
      const output = yield* Fiber.join(lines).pipe(Effect.timeout("20 seconds"))
      expect(output).toContain("21 63")
      expect(yield* proc.exitCode).toBe(0)
    })
  )

  live(
    "errors are typed: missing exec NotFound, exec in a stopped container Conflict",
    Effect.gen(function*() {
      const exec = yield* Exec
      expect((yield* Effect.flip(exec.inspect("no-such-exec-effect-docker")))._tag).toBe("NotFound")
      expect((yield* Effect.flip(exec.resize("no-such-exec-effect-docker", { h: 1, w: 1 })))._tag).toBe("NotFound")
      const stopped = yield* runningContainer(["true"])
      expect((yield* (yield* Containers).wait(stopped.id)).StatusCode).toBe(0)
      const refused = yield* Effect.flip(exec.run(stopped.id, ["true"]))
      expect(refused._tag).toBe("Conflict")
      // Podman: "can only create exec sessions on running containers: container state improper".
      expect(refused.message).toMatch(target.kind === "podman" ? /on running containers/ : /not running/)
    })
  )
})
