/**
 * Containers on a real engine (issue #5): every request–response operation, each test asserting
 * the effect it had on the container (state, inspect fields, what the process saw).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, type Scope, Stream } from "effect"
import * as tar from "tar-stream"
import { DockerEngine } from "../../src/engine/engine.js"
import type { ContainerCreateBody } from "../../src/generated/operations/container/ContainerCreate.js"
import { ContainerStart } from "../../src/generated/operations/container/ContainerStart.js"
import { Containers, type ContainersShape, Docker, stdoutLines } from "../../src/index.js"
import { runningContainer, testContainer } from "../support/container-fixtures.js"
import { currentEngine } from "../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../support/labels.js"
import { podmanOr } from "../support/podman-limitations.js"
import { pollUntil, scopedNetwork, TEST_IMAGE, uniqueName } from "../support/resources.js"

const target = currentEngine()
const layer = Docker.layer({ host: target.host })
const live = <A, E>(name: string, body: Effect.Effect<A, E, Containers | DockerEngine | Scope.Scope>) =>
  it.live(name, () => body.pipe(Effect.scoped, Effect.provide(layer)), 60_000)

const status = (id: string) => Effect.flatMap(Containers, (c) => Effect.map(c.inspect(id), (i) => i.State?.Status))
/** `run` with `remove: true` (busybox, labelled, no network); `seen`: the streams of the frames `onOutput` got. */
const runRemoved = (cmd: ReadonlyArray<string>, hostConfig: ContainerCreateBody["HostConfig"] = {}) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    const result = yield* (yield* Containers).run({
      Image: TEST_IMAGE,
      Cmd: [...cmd],
      Labels: testLabels(),
      HostConfig: { NetworkMode: "none", ...hostConfig }
    }, { remove: true, onOutput: (frame) => Effect.sync(() => seen.push(frame.stream)) })
    return { result, seen }
  })

const logText = (containers: ContainersShape, id: string) =>
  Stream.mkString(Stream.decodeText(Stream.map(containers.logs(id), (f) => f.data)))

describe(`Containers on engine ${target.id}`, () => {
  live(
    "create, inspect, list (filters, all, limit, size), rename, remove",
    Effect.gen(function*() {
      const containers = yield* Containers
      const name = uniqueName("life")
      const c = yield* testContainer({ Cmd: ["true"], Env: ["A=1"], Labels: { "effect-docker.case": "life" } }, name)
      const inspected = yield* containers.inspect(c.id)
      expect(inspected.Name).toBe(`/${name}`)
      expect(inspected.Config?.Env).toContain("A=1")
      expect(inspected.State?.Status).toBe("created")

      const filters = { label: [`${TEST_LABEL}=${runId()}`, "effect-docker.case=life"], name: [name] }
      expect(yield* containers.list({ filters })).toEqual([]) // created, not running: only with `all`
      const listed = yield* containers.list({ all: true, filters, size: true })
      expect(listed.map((s) => s.Id)).toEqual([c.id])
      // SizeRw is omitted when 0 (nothing written yet); SizeRootFs is the image's size.
      expect(listed[0]!.SizeRootFs).toBeGreaterThan(0)
      expect(listed[0]!.SizeRw ?? 0).toBe(0)
      expect((yield* containers.list({ all: true, limit: 1 })).length).toBe(1)

      const renamed = uniqueName("renamed")
      yield* containers.rename(c.id, { name: renamed })
      expect((yield* containers.inspect(c.id)).Name).toBe(`/${renamed}`)
      expect((yield* containers.inspect(renamed)).Id).toBe(c.id)

      yield* containers.remove(c.id, { v: true })
      const gone = yield* Effect.flip(containers.inspect(c.id))
      expect(gone._tag).toBe("NotFound")
      expect((yield* Effect.flip(containers.remove(c.id)))._tag).toBe("NotFound")
    })
  )

  live(
    "start/stop are idempotent (304 is success); the engine itself still reports NotModified",
    Effect.gen(function*() {
      const containers = yield* Containers
      const engine = yield* DockerEngine
      const c = yield* testContainer({ Cmd: ["sleep", "600"] })
      yield* containers.start(c.id)
      yield* containers.start(c.id) // 304 from the daemon
      expect(yield* status(c.id)).toBe("running")
      expect((yield* Effect.flip(engine.empty(ContainerStart, { id: c.id })))._tag).toBe("NotModified")
      // PID 1 ignores SIGTERM without a handler: stop must wait t seconds, then kill.
      const before = Date.now()
      yield* containers.stop(c.id, { t: 1 })
      expect(Date.now() - before).toBeGreaterThanOrEqual(900)
      const stopped = yield* containers.inspect(c.id)
      expect(stopped.State?.Status).toBe("exited")
      expect(stopped.State?.ExitCode).toBe(137)
      yield* containers.stop(c.id) // 304 again
      expect(yield* status(c.id)).toBe("exited")
    })
  )

  live(
    "restart starts it again (new StartedAt); stop on a missing container is NotFound",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sleep", "600"])
      const first = (yield* containers.inspect(c.id)).State?.StartedAt
      yield* containers.restart(c.id, { t: 0 })
      const after = yield* containers.inspect(c.id)
      expect(after.State?.Status).toBe("running")
      expect(after.State?.StartedAt).not.toBe(first)
      expect(after.RestartCount).toBe(0) // a manual restart is not a policy restart
      expect((yield* Effect.flip(containers.stop("no-such-container-effect-docker")))._tag).toBe("NotFound")
    })
  )

  live(
    "kill delivers the signal: a trap in the container sees SIGUSR1; default SIGKILL exits 137",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer([
        "sh",
        "-c",
        "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done"
      ])
      yield* pollUntil(logText(containers, c.id), (t) => t.includes("ready"), { what: "trap installed" })
      yield* containers.kill(c.id, { signal: "SIGUSR1" })
      const seen = yield* pollUntil(logText(containers, c.id), (t) => t.includes("got-usr1"), { what: "trap ran" })
      expect(seen).toBe("ready\ngot-usr1\n")
      expect(yield* status(c.id)).toBe("running")
      yield* containers.kill(c.id)
      expect((yield* containers.wait(c.id)).StatusCode).toBe(137)
      expect((yield* Effect.flip(containers.kill(c.id)))._tag).toBe("Conflict") // not running
    })
  )

  live(
    "update changes HostConfig.Memory of a running container",
    podmanOr(
      "container-update",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sleep", "600"], { HostConfig: { Memory: 64 * 1024 * 1024 } })
        expect((yield* containers.inspect(c.id)).HostConfig?.Memory).toBe(64 * 1024 * 1024)
        const result = yield* containers.update(c.id, { Memory: 96 * 1024 * 1024, MemorySwap: 192 * 1024 * 1024 })
        expect(Array.isArray(result.Warnings ?? [])).toBe(true)
        const updated = yield* containers.inspect(c.id)
        expect(updated.HostConfig?.Memory).toBe(96 * 1024 * 1024)
        expect(updated.HostConfig?.MemorySwap).toBe(192 * 1024 * 1024)
      })
    )
  )

  live(
    "pause and unpause change the state; top lists the process",
    podmanOr(
      "top-titles",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sleep", "4242"])
        const top = yield* containers.top(c.id)
        expect(top.Titles).toContain("PID")
        const cmdColumn = top.Titles!.findIndex((t) => t === "CMD" || t === "COMMAND")
        expect(top.Processes!.some((p) => p[cmdColumn]!.includes("sleep 4242"))).toBe(true)
        const custom = yield* containers.top(c.id, { psArgs: "-o pid,comm" })
        expect(custom.Titles).toEqual(["PID", "COMMAND"])
        yield* containers.pause(c.id)
        const paused = yield* containers.inspect(c.id)
        expect(paused.State?.Paused).toBe(true)
        expect(paused.State?.Status).toBe("paused")
        expect((yield* Effect.flip(containers.pause(c.id)))._tag).toBe("Conflict")
        yield* containers.unpause(c.id)
        const resumed = yield* containers.inspect(c.id)
        expect(resumed.State?.Paused).toBe(false)
        expect(resumed.State?.Status).toBe("running")
      })
    )
  )

  live(
    "changes lists a written file; export's tar contains it with its bytes",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", "mkdir /made && echo written-by-test > /made/file.txt"])
      expect((yield* containers.wait(c.id)).StatusCode).toBe(0)
      const changes = yield* containers.changes(c.id)
      expect(changes).toContainEqual({ Path: "/made", Kind: 1 })
      expect(changes).toContainEqual({ Path: "/made/file.txt", Kind: 1 })

      const exported = yield* Effect.promise(async () => {
        const found = new Map<string, string>()
        const extract = tar.extract()
        const feeding = Effect.runPromise(
          Stream.runForEach(
            containers.export(c.id),
            (chunk) =>
              Effect.promise(() =>
                new Promise<void>((resolve) =>
                  extract.write(chunk) ? resolve() : extract.once("drain", () => resolve())
                )
              )
          )
        ).then(() => extract.end(undefined))
        for await (const entry of extract) {
          const parts: Array<Buffer> = []
          for await (const part of entry) parts.push(part as Buffer)
          found.set(entry.header.name, Buffer.concat(parts).toString("utf8"))
        }
        await feeding
        return found
      })
      expect(exported.get("made/file.txt")).toBe("written-by-test\n")
      expect(exported.has("bin/busybox") || exported.has("bin/sh")).toBe(true)
    })
  )

  live(
    "resize reaches the container's TTY (the shell's WINCH trap reports the new size)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(
        ["sh", "-c", "trap 'stty size' WINCH; echo ready; while true; do sleep 0.1; done"],
        { Tty: true, OpenStdin: true }
      )
      yield* pollUntil(logText(containers, c.id), (t) => t.includes("ready"), { what: "trap installed" })
      yield* containers.resize(c.id, { h: 37, w: 101 })
      yield* pollUntil(logText(containers, c.id), (t) => t.includes("37 101"), { what: "new size seen" })
    })
  )

  live(
    "wait: exit codes exact; not-running returns at once for a stopped container",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sh", "-c", "exit 42"])
      expect((yield* containers.wait(c.id)).StatusCode).toBe(42)
      expect((yield* containers.wait(c.id, { condition: "not-running" })).StatusCode).toBe(42)
      expect((yield* Effect.flip(containers.wait("no-such-container-effect-docker")))._tag).toBe("NotFound")
    })
  )

  live(
    "wait next-exit resolves on the next exit; removed resolves on removal",
    podmanOr(
      "wait-removed",
      Effect.gen(function*() {
        const containers = yield* Containers
        const c = yield* runningContainer(["sleep", "600"])
        const nextExit = yield* Effect.forkChild(containers.wait(c.id, { condition: "next-exit" }))
        const removed = yield* Effect.forkChild(containers.wait(c.id, { condition: "removed" }))
        yield* Effect.sleep("300 millis") // a long poll: nothing comes back while it runs
        expect(nextExit.pollUnsafe()).toBeUndefined()
        yield* containers.kill(c.id, { signal: "SIGKILL" })
        expect((yield* Fiber.join(nextExit).pipe(Effect.timeout("20 seconds"))).StatusCode).toBe(137)
        expect(removed.pollUnsafe()).toBeUndefined()
        yield* containers.remove(c.id)
        expect((yield* Fiber.join(removed).pipe(Effect.timeout("20 seconds"))).StatusCode).toBe(137)
      })
    )
  )

  live(
    "wait has no time bound and is interruptible",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sleep", "600"])
      const waiting = yield* Effect.forkChild(containers.wait(c.id))
      yield* Effect.sleep("500 millis")
      expect(waiting.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(waiting).pipe(Effect.timeout("5 seconds"))
      const exit = yield* Fiber.await(waiting)
      expect(Exit.hasInterrupts(exit)).toBe(true)
      expect(yield* status(c.id)).toBe("running")
    })
  )

  live(
    "prune with a label filter removes exactly the labelled stopped containers",
    Effect.gen(function*() {
      const containers = yield* Containers
      const mark = `effect-docker.prune-${runId()}-${process.pid}`
      const doomed = yield* testContainer({ Cmd: ["true"], Labels: { [mark]: "yes" } })
      const kept = yield* testContainer({ Cmd: ["true"] })
      const result = yield* containers.prune({ filters: { label: [`${mark}=yes`, `${TEST_LABEL}=${runId()}`] } })
      expect(result.ContainersDeleted).toEqual([doomed.id])
      expect((yield* Effect.flip(containers.inspect(doomed.id)))._tag).toBe("NotFound")
      expect((yield* containers.inspect(kept.id)).Id).toBe(kept.id)
    })
  )

  live(
    "stats: a typed stream of samples, and one-shot",
    Effect.gen(function*() {
      const containers = yield* Containers
      const c = yield* runningContainer(["sleep", "600"])
      const samples = yield* containers.stats(c.id).pipe(
        Stream.take(2),
        Stream.runCollect,
        Effect.timeout("20 seconds")
      )
      expect(samples.length).toBe(2)
      for (const s of samples) {
        expect(s.id).toBe(c.id)
        expect(typeof s.read).toBe("string")
        expect(typeof s.memory_stats?.usage === "number" || s.memory_stats?.usage === undefined).toBe(true)
        expect(typeof s.pids_stats?.current).toBe("number")
      }
      expect(Date.parse(samples[1]!.read!)).toBeGreaterThan(Date.parse(samples[0]!.read!))
      // Without one-shot the daemon takes a priming sample first (preread set; Podman never does) …
      const once = yield* containers.statsOnce(c.id)
      // Podman's sample names the container without the leading "/".
      expect(once.name).toBe(target.kind === "podman" ? c.name : `/${c.name}`)
      expect(once.preread === "0001-01-01T00:00:00Z").toBe(target.kind === "podman")
      expect(once.pids_stats?.current).toBeGreaterThanOrEqual(1)
      // … with it, it answers at once (no preread; 28.x also leaves out name and id).
      const oneShot = yield* containers.statsOnce(c.id, { oneShot: true })
      expect(oneShot.preread).toBe("0001-01-01T00:00:00Z")
      expect(oneShot.pids_stats?.current).toBeGreaterThanOrEqual(1)
    })
  )

  live(
    "port: the host bindings of a published port (like docker-py's port)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const engine = yield* DockerEngine
      const network = yield* scopedNetwork(engine)
      const c = yield* runningContainer(["sleep", "600"], {
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: {
          NetworkMode: network.name,
          PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] }
        }
      })
      const bindings = yield* containers.port(c.id, 8080)
      expect(bindings.length).toBe(1)
      expect(bindings[0]!.HostIp).toBe("127.0.0.1")
      expect(Number(bindings[0]!.HostPort)).toBeGreaterThan(0)
      expect(yield* containers.port(c.id, 9999)).toEqual([])
      expect(yield* containers.port(c.id, 8080, "udp")).toEqual([])
    })
  )

  live(
    "run: exit code and separate stdout/stderr; remove: true leaves nothing; onOutput sees frames",
    Effect.gen(function*() {
      const containers = yield* Containers
      const { result, seen } = yield* runRemoved(["sh", "-c", "echo out; echo err >&2; exit 7"])
      expect(result).toEqual({ id: result.id, exitCode: 7, outputRead: true, stdout: "out\n", stderr: "err\n" })
      expect([...seen].sort()).toEqual(["stderr", "stdout"])
      expect((yield* Effect.flip(containers.inspect(result.id)))._tag).toBe("NotFound")
    })
  )

  live(
    "run with a log driver that cannot be read: the exit code, no output, outputRead false",
    Effect.gen(function*() {
      const containers = yield* Containers
      const { result, seen } = yield* runRemoved(["sh", "-c", "echo out; echo err >&2; exit 3"], {
        LogConfig: { Type: "none" }
      })
      expect(result).toEqual({
        id: result.id,
        exitCode: 3,
        outputRead: false,
        stdout: undefined,
        stderr: undefined,
        // Docker: "configured logging driver does not support reading"; Podman: "… cannot read logs: …".
        unreadableBecause: expect.stringContaining(
          target.kind === "podman" ? "cannot read logs" : "does not support reading"
        )
      })
      expect(seen).toEqual([])
      expect((yield* Effect.flip(containers.inspect(result.id)))._tag).toBe("NotFound")
    })
  )

  live(
    "run: a failure after create is a ContainerRunError naming the container (kept, or removed with remove)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const name = uniqueName("nostart")
      yield* Effect.addFinalizer(() => containers.remove(name, { force: true }).pipe(Effect.ignore))
      const config = {
        Image: TEST_IMAGE,
        Cmd: ["/no/such/binary"],
        Labels: testLabels(),
        HostConfig: { NetworkMode: "none" }
      }
      const kept = yield* Effect.flip(containers.run(config, { name }))
      expect(kept._tag).toBe("ContainerRunError")
      if (kept._tag !== "ContainerRunError") return
      // The daemon holds exactly that container, created but never started.
      const held = yield* containers.inspect(name)
      expect(kept.containerId).toBe(held.Id)
      expect(held.State?.Status).toBe("created")
      expect(kept.operation).toBe("ContainerStart")
      expect(kept.cause).toMatchObject({ operation: "ContainerStart" })
      expect(kept.message).toContain(held.Id)
      expect(kept.message).toContain("/no/such/binary")

      const removed = yield* Effect.flip(containers.run(config, { remove: true }))
      expect(removed._tag).toBe("ContainerRunError")
      if (removed._tag !== "ContainerRunError") return
      expect((yield* Effect.flip(containers.inspect(removed.containerId)))._tag).toBe("NotFound")
    })
  )

  live(
    "run without remove keeps the container (and the test removes it)",
    Effect.gen(function*() {
      const containers = yield* Containers
      const name = uniqueName("kept")
      const result = yield* containers.run({
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", "printf 'a\\nb'"],
        Tty: true,
        Labels: testLabels(),
        HostConfig: { NetworkMode: "none" }
      }, { name })
      yield* Effect.addFinalizer(() => containers.remove(result.id, { force: true }).pipe(Effect.ignore))
      expect(result.exitCode).toBe(0)
      expect(result.outputRead).toBe(true)
      expect(result.stdout).toBe("a\r\nb") // a TTY: raw, with the terminal's line ends
      expect(result.stderr).toBe("")
      expect((yield* containers.inspect(name)).State?.Status).toBe("exited")
    })
  )

  live(
    "runScoped removes the container when the scope closes: on success, failure and interruption",
    Effect.gen(function*() {
      const containers = yield* Containers
      const config = {
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", "echo hello; sleep 600"],
        Labels: testLabels(),
        HostConfig: { NetworkMode: "none" }
      }
      let id = ""
      const lines = yield* Effect.scoped(Effect.gen(function*() {
        const running = yield* containers.runScoped(config)
        id = running.id
        return yield* running.output.pipe(stdoutLines, Stream.take(1), Stream.runCollect)
      }))
      expect(lines).toEqual(["hello"])
      expect((yield* Effect.flip(containers.inspect(id)))._tag).toBe("NotFound")

      const failed = yield* Effect.exit(Effect.scoped(Effect.gen(function*() {
        const running = yield* containers.runScoped(config)
        id = running.id
        return yield* Effect.fail("boom" as const)
      })))
      expect(Exit.isFailure(failed)).toBe(true)
      expect((yield* Effect.flip(containers.inspect(id)))._tag).toBe("NotFound")

      id = ""
      const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const running = yield* containers.runScoped(config)
        id = running.id
        return yield* running.exitCode // never: sleep 600
      })))
      yield* pollUntil(Effect.sync(() => id), (current) => current !== "", { what: "started" })
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      expect((yield* Effect.flip(containers.inspect(id)))._tag).toBe("NotFound")
    })
  )
})
