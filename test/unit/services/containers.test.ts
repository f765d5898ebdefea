/**
 * `Containers`' own decisions, on a scripted daemon: 304 as success, when an inspect decides the
 * framing, how options become query values, and that `run({ remove: true })` always removes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { Containers, type ContainersShape } from "../../../src/index.js"
import {
  bytes,
  containerInspectAnswer,
  empty,
  frameTexts,
  type Handler,
  hijack,
  json,
  refuse,
  routes,
  type ScriptedResponse,
  scriptedService,
  stdioFrame
} from "../../support/scripted-daemon.js"

const withContainers = scriptedService(Containers, Containers.layer)

const inspected = (tty: boolean) => containerInspectAnswer({ Config: { Tty: tty } })
const framed = Buffer.concat([
  stdioFrame("stdout", "out 1\n"),
  stdioFrame("stderr", "err 1\n"),
  stdioFrame("stdout", "out 2\n")
])
const collectLogs = (options?: Parameters<ContainersShape["logs"]>[1]) => (containers: ContainersShape) =>
  Effect.map(Stream.runCollect(containers.logs("abc", options)), frameTexts)

describe("Containers: 304", () => {
  it.live("start on a running container and stop on a stopped one (304) succeed", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        routes({ "POST /containers/abc/start": empty(304), "POST /containers/abc/stop": empty(304) }),
        (containers) => Effect.andThen(containers.start("abc"), containers.stop("abc"))
      )
      expect(daemon.calls()).toEqual(["POST /containers/abc/start", "POST /containers/abc/stop"])
    }))

  it.live("start and stop of a missing container still fail with NotFound", () =>
    Effect.gen(function*() {
      const { result } = yield* withContainers(
        routes({
          "POST /containers/nope/start": refuse(404, "No such container: nope"),
          "POST /containers/nope/stop": refuse(404, "No such container: nope")
        }),
        (containers) => Effect.all([Effect.flip(containers.start("nope")), Effect.flip(containers.stop("nope"))])
      )
      for (const error of result) {
        expect(error._tag).toBe("NotFound")
        expect(error).toMatchObject({ status: 404, daemonMessage: "No such container: nope" })
      }
    }))

  it.live("start forwards detachKeys", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        routes({ "POST /containers/abc/start": empty() }),
        (containers) => containers.start("abc", { detachKeys: "ctrl-x" })
      )
      expect(daemon.queryOf("POST /containers/abc/start")).toEqual({ detachKeys: "ctrl-x" })
    }))
})

describe("Containers: stop and restart options", () => {
  const stopAndRestart = routes({ "POST /containers/abc/stop": empty(), "POST /containers/abc/restart": empty() })

  it.live("without options: neither t nor signal", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        stopAndRestart,
        (containers) => Effect.andThen(containers.stop("abc"), containers.restart("abc"))
      )
      expect(daemon.queryOf("POST /containers/abc/stop")).toEqual({})
      expect(daemon.queryOf("POST /containers/abc/restart")).toEqual({})
    }))

  it.live("t and signal when given (signal needs API 1.42)", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        stopAndRestart,
        (containers) =>
          Effect.andThen(
            containers.stop("abc", { t: 5, signal: "SIGINT" }),
            containers.restart("abc", { t: 0, signal: "SIGKILL" })
          ),
        "1.42"
      )
      expect(daemon.queryOf("POST /containers/abc/stop")).toEqual({ t: "5", signal: "SIGINT" })
      expect(daemon.queryOf("POST /containers/abc/restart")).toEqual({ t: "0", signal: "SIGKILL" })
    }))

  it.live("t alone sends no signal", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(stopAndRestart, (containers) => containers.stop("abc", { t: 3 }))
      expect(daemon.queryOf("POST /containers/abc/stop")).toEqual({ t: "3" })
    }))
})

describe("Containers: logs", () => {
  it.live("without a tty option: one inspect first, then the frames demultiplexed", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/json": inspected(false), "GET /containers/abc/logs": bytes(framed) }),
        collectLogs()
      )
      expect(daemon.calls()).toEqual(["GET /containers/abc/json", "GET /containers/abc/logs"])
      expect(result).toEqual([["stdout", "out 1\n"], ["stderr", "err 1\n"], ["stdout", "out 2\n"]])
      // stdout and stderr are on by default; nothing else is sent.
      expect(daemon.queryOf("GET /containers/abc/logs")).toEqual({ stdout: "1", stderr: "1" })
    }))

  it.live("tty: true: no inspect, the bytes as they came, as stdout", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/logs": bytes(framed) }),
        collectLogs({ tty: true })
      )
      expect(daemon.calls()).toEqual(["GET /containers/abc/logs"])
      expect(Buffer.concat(result.map(([stream, text]) => (expect(stream).toBe("stdout"), Buffer.from(text)))))
        .toEqual(framed)
    }))

  it.live("Config.Tty true from the inspect: raw", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/json": inspected(true), "GET /containers/abc/logs": bytes("a tty line\r\n") }),
        collectLogs()
      )
      expect(daemon.calls()).toEqual(["GET /containers/abc/json", "GET /containers/abc/logs"])
      expect(result).toEqual([["stdout", "a tty line\r\n"]])
    }))

  it.live("tty: false: no inspect, framed", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/logs": bytes(stdioFrame("stderr", "only err")) }),
        collectLogs({ tty: false })
      )
      expect(daemon.calls()).toEqual(["GET /containers/abc/logs"])
      expect(result).toEqual([["stderr", "only err"]])
    }))

  it.live("since/until as Date become Unix seconds, tail a string, stdout/stderr overridable", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        routes({ "GET /containers/abc/logs": bytes("") }),
        collectLogs({
          tty: false,
          since: new Date("2023-11-14T22:13:20Z"),
          until: new Date("2023-11-14T22:15:00.250Z"),
          tail: 5,
          stderr: false,
          timestamps: true,
          follow: true
        })
      )
      expect(daemon.queryOf("GET /containers/abc/logs")).toEqual({
        since: "1700000000",
        until: "1700000100.25",
        tail: "5",
        stdout: "1",
        stderr: "0",
        timestamps: "1",
        follow: "1"
      })
    }))

  it.live("since as a number and tail \"all\" pass as they are", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        routes({ "GET /containers/abc/logs": bytes("") }),
        collectLogs({ tty: true, since: 1700000000, tail: "all" })
      )
      expect(daemon.queryOf("GET /containers/abc/logs")).toEqual({
        since: "1700000000",
        tail: "all",
        stdout: "1",
        stderr: "1"
      })
    }))

  it.live("a failed inspect fails the stream before any logs request", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/gone/json": refuse(404, "No such container: gone") }),
        (containers) => Effect.flip(Stream.runCollect(containers.logs("gone")))
      )
      expect(result._tag).toBe("NotFound")
      expect(daemon.calls()).toEqual(["GET /containers/gone/json"])
    }))
})

describe("Containers: putArchive", () => {
  const put = routes({ "PUT /containers/abc/archive": empty(200) })
  const tar = Stream.make(new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]))

  it.live("booleans become \"1\"/\"0\"; the tar is the body", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        put,
        (containers) => containers.putArchive("abc", "/tmp/dir", tar, { noOverwriteDirNonDir: true, copyUIDGID: false })
      )
      const request = daemon.only("PUT /containers/abc/archive")
      expect(Object.fromEntries(request.query)).toEqual({
        path: "/tmp/dir",
        noOverwriteDirNonDir: "1",
        copyUIDGID: "0"
      })
      expect(request.headers["content-type"]).toBe("application/x-tar")
      expect([...request.body]).toEqual([1, 2, 3, 4, 5])
    }))

  it.live("options omitted: only the path", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(put, (containers) => containers.putArchive("abc", "/", tar))
      expect(daemon.queryOf("PUT /containers/abc/archive")).toEqual({ path: "/" })
    }))
})

describe("Containers: attach", () => {
  it.live("stream=1, stdin/stdout/stderr on by default; the framed output decoded", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/json": inspected(false), "POST /containers/abc/attach": hijack(framed) }),
        (containers) =>
          Effect.flatMap(
            containers.attach("abc"),
            (session) => Effect.map(Stream.runCollect(session.output), (frames) => ({ tty: session.tty, frames }))
          )
      )
      // the session's end is checked with a ping (a daemon that died also closes at a frame boundary)
      expect(daemon.calls()).toEqual(["GET /containers/abc/json", "POST /containers/abc/attach", "GET /_ping"])
      expect(daemon.queryOf("POST /containers/abc/attach")).toEqual({
        stream: "1",
        stdin: "1",
        stdout: "1",
        stderr: "1"
      })
      const attach = daemon.only("POST /containers/abc/attach")
      expect(attach.headers.upgrade).toBe("tcp")
      expect(attach.headers.connection?.toLowerCase()).toBe("upgrade")
      expect(result.tty).toBe(false)
      expect(frameTexts(result.frames)).toEqual([["stdout", "out 1\n"], ["stderr", "err 1\n"], ["stdout", "out 2\n"]])
    }))

  it.live("logs, stream and stdin options are passed; tty and stream given mean no inspect and raw output", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "POST /containers/abc/attach": hijack("raw tty\r\n") }),
        (containers) =>
          Effect.flatMap(
            containers.attach("abc", { tty: true, logs: true, stdin: false, stream: true }),
            (session) => Effect.map(Stream.runCollect(session.output), frameTexts)
          )
      )
      expect(daemon.calls()).toEqual(["POST /containers/abc/attach", "GET /_ping"])
      expect(daemon.queryOf("POST /containers/abc/attach")).toEqual({
        stream: "1",
        stdin: "0",
        stdout: "1",
        stderr: "1",
        logs: "1"
      })
      expect(result).toEqual([["stdout", "raw tty\r\n"]])
    }))
})

describe("Containers: port, rename, pass-throughs", () => {
  const published = {
    "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }, { HostIp: "::", HostPort: "8080" }],
    "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }]
  }

  it.live("port reads NetworkSettings.Ports (tcp by default; empty when not published)", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({ "GET /containers/abc/json": containerInspectAnswer({ NetworkSettings: { Ports: published } }) }),
        (containers) =>
          Effect.all([containers.port("abc", 80), containers.port("abc", 53, "udp"), containers.port("abc", 53)])
      )
      expect(result).toEqual([published["80/tcp"], published["53/udp"], []])
      expect(daemon.calls()).toEqual(Array(3).fill("GET /containers/abc/json"))
    }))

  // A running container on a bridge network with an exposed but unpublished port: the daemon
  // sends `"443/tcp": null` (moby's PortMap is map[Port][]PortBinding, the slice nil).
  it.live("port of an exposed, unpublished port (Ports value null) is empty", () =>
    Effect.gen(function*() {
      const { result } = yield* withContainers(
        routes({
          "GET /containers/abc/json": containerInspectAnswer({
            NetworkSettings: { Ports: { ...published, "443/tcp": null } }
          })
        }),
        (containers) => Effect.all([containers.port("abc", 443), containers.port("abc", 80)])
      )
      expect(result).toEqual([[], published["80/tcp"]])
    }))

  it.live("rename sends ?name=", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withContainers(
        routes({ "POST /containers/abc/rename": empty() }),
        (containers) => containers.rename("abc", { name: "new-name" })
      )
      expect(daemon.queryOf("POST /containers/abc/rename")).toEqual({ name: "new-name" })
    }))

  it.live("inspect forwards size=1; list forwards all=1 and JSON-encoded filters", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        routes({
          "GET /containers/abc/json": containerInspectAnswer({ SizeRw: 12 }),
          "GET /containers/json": json([
            {
              Id: "abc",
              Names: ["/one"],
              Image: "busybox",
              ImageID: "sha256:0123",
              Command: "sh",
              Created: 0,
              State: "running",
              Status: "Up"
            }
          ])
        }),
        (containers) =>
          Effect.all([
            containers.inspect("abc", { size: true }),
            containers.list({ all: true, filters: { status: ["running"], label: ["a=b"] } })
          ])
      )
      expect(result[0].SizeRw).toBe(12)
      expect(result[1].map((c) => c.Id)).toEqual(["abc"])
      expect(daemon.queryOf("GET /containers/abc/json")).toEqual({ size: "1" })
      const list = daemon.only("GET /containers/json").query
      expect(list.get("all")).toBe("1")
      expect(JSON.parse(list.get("filters") ?? "null")).toEqual({ status: ["running"], label: ["a=b"] })
    }))
})

describe("Containers: run", () => {
  const lifecycle = (logs: ScriptedResponse): Handler =>
    routes({
      "POST /containers/create": json({ Id: "abc", Warnings: [] }, 201),
      "POST /containers/abc/start": empty(),
      "GET /containers/abc/logs": logs,
      "POST /containers/abc/wait": json({ StatusCode: 3 }),
      "DELETE /containers/abc": empty()
    })

  it.live("create, start, logs (follow), wait; remove: true deletes with force=1&v=1", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        lifecycle(bytes(framed)),
        (containers) => containers.run({ Image: "busybox", Cmd: ["sh"] }, { remove: true, name: "runner" })
      )
      expect(result).toEqual({ id: "abc", exitCode: 3, outputRead: true, stdout: "out 1\nout 2\n", stderr: "err 1\n" })
      // The follow, then (after the exit) the finished log once more, for what the follow may miss.
      expect(daemon.calls()).toEqual([
        "POST /containers/create",
        "POST /containers/abc/start",
        "GET /containers/abc/logs",
        "POST /containers/abc/wait",
        "GET /containers/abc/logs",
        "DELETE /containers/abc"
      ])
      expect(daemon.queryOf("POST /containers/create")).toEqual({ name: "runner" })
      expect(daemon.bodyOf("POST /containers/create")).toEqual({ Image: "busybox", Cmd: ["sh"] })
      expect(daemon.requests().filter((r) => r.path === "/containers/abc/logs").map((r) => r.query.get("follow")))
        .toEqual(["1", null])
      expect(daemon.queryOf("POST /containers/abc/wait")).toEqual({ condition: "not-running" })
      expect(daemon.queryOf("DELETE /containers/abc")).toEqual({ force: "1", v: "1" })
    }))

  it.live("what a follow missed at the exit (Docker 20.10's race) is read from the finished log", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const base = lifecycle(bytes(framed))
      const { result } = yield* withContainers(
        // The follow ends one frame short; the finished log has it.
        (request) =>
          request.path === "/containers/abc/logs" && request.query.get("follow") === "1"
            ? bytes(framed.subarray(0, framed.length - stdioFrame("stdout", "out 2\n").length))
            : base(request),
        (containers) =>
          containers.run({ Image: "busybox" }, {
            onOutput: (frame) => Effect.sync(() => seen.push(new TextDecoder().decode(frame.data)))
          })
      )
      expect(result).toMatchObject({ outputRead: true, stdout: "out 1\nout 2\n", stderr: "err 1\n" })
      expect(seen).toEqual(["out 1\n", "err 1\n", "out 2\n"])
    }))

  it.live("remove: true deletes the container also when the run fails midway", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        lifecycle(refuse(500, "logs exploded")),
        (containers) => Effect.flip(containers.run({ Image: "busybox" }, { remove: true }))
      )
      // a failure after create names the container, with the step's own error as the cause
      expect(result).toMatchObject({ _tag: "ContainerRunError", containerId: "abc", operation: "ContainerLogs" })
      expect(result._tag === "ContainerRunError" && result.cause).toMatchObject({
        _tag: "ServerError",
        status: 500,
        daemonMessage: "logs exploded"
      })
      expect(daemon.calls()).toEqual([
        "POST /containers/create",
        "POST /containers/abc/start",
        "GET /containers/abc/logs",
        "DELETE /containers/abc"
      ])
      expect(daemon.queryOf("DELETE /containers/abc")).toEqual({ force: "1", v: "1" })
    }))

  it.live("without remove: no delete; Tty in the config means raw output", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withContainers(
        lifecycle(bytes("tty out\r\n")),
        (containers) => containers.run({ Image: "busybox", Tty: true })
      )
      expect(result).toEqual({ id: "abc", exitCode: 3, outputRead: true, stdout: "tty out\r\n", stderr: "" })
      expect(daemon.calls()).not.toContain("DELETE /containers/abc")
      expect(daemon.calls()).not.toContain("GET /containers/abc/json")
    }))
})
