/**
 * `Exec`'s own decisions, on a scripted daemon: the ExecStart body (`Tty` from the exec itself
 * unless given, `Detach`, `ConsoleSize`), the create body of `run`, and the exit-code polling.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { Exec, type ExecShape } from "../../../src/index.js"
import {
  empty,
  frameTexts,
  type Handler,
  hijack,
  json,
  routes,
  scriptedService,
  stdioFrame
} from "../../support/scripted-daemon.js"

const withExec = scriptedService(Exec, Exec.layer)

const execWithTty = (tty: boolean) => json({ ID: "e1", Running: false, ProcessConfig: { tty, entrypoint: "sh" } })
const framed = Buffer.concat([stdioFrame("stdout", "to out\n"), stdioFrame("stderr", "to err\n")])
const outputOf = (exec: ExecShape, options?: Parameters<ExecShape["start"]>[1]) =>
  Effect.flatMap(
    exec.start("e1", options),
    (session) =>
      Effect.map(Stream.runCollect(session.output), (frames) => ({ tty: session.tty, frames: frameTexts(frames) }))
  )

describe("Exec: start", () => {
  it.live("without tty: inspect first; the body carries ProcessConfig.tty (true) and Detach false; raw output", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        routes({ "GET /exec/e1/json": execWithTty(true), "POST /exec/e1/start": hijack(framed) }),
        (exec) => outputOf(exec)
      )
      expect(daemon.calls()).toEqual(["GET /exec/e1/json", "POST /exec/e1/start", "GET /_ping"])
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: true })
      expect(daemon.only("POST /exec/e1/start").headers.upgrade).toBe("tcp")
      // Raw: the frame headers are part of the output.
      expect(result.tty).toBe(true)
      expect(Buffer.concat(result.frames.map(([, text]) => Buffer.from(text)))).toEqual(framed)
      expect(result.frames.every(([stream]) => stream === "stdout")).toBe(true)
    }))

  it.live("without tty: ProcessConfig.tty false → Tty false in the body, framed output", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        routes({ "GET /exec/e1/json": execWithTty(false), "POST /exec/e1/start": hijack(framed) }),
        (exec) => outputOf(exec)
      )
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: false })
      expect(result).toEqual({ tty: false, frames: [["stdout", "to out\n"], ["stderr", "to err\n"]] })
    }))

  it.live("tty given: no inspect; the body carries the caller's Tty (it decides the framing)", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        routes({ "POST /exec/e1/start": hijack(framed) }),
        (exec) => outputOf(exec, { tty: false })
      )
      expect(daemon.calls()).toEqual(["POST /exec/e1/start", "GET /_ping"])
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: false })
      expect(result.frames).toEqual([["stdout", "to out\n"], ["stderr", "to err\n"]])
    }))

  it.live("consoleSize is sent as ConsoleSize (API 1.42)", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withExec(
        routes({ "POST /exec/e1/start": hijack("") }),
        (exec) => outputOf(exec, { tty: true, consoleSize: [24, 80] }),
        "1.42"
      )
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: true, ConsoleSize: [24, 80] })
    }))

  it.live("consoleSize on API 1.41: ApiVersionError, nothing started", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        routes({ "POST /exec/e1/start": hijack("") }),
        (exec) => Effect.flip(outputOf(exec, { tty: true, consoleSize: [24, 80] }))
      )
      expect(result._tag).toBe("ApiVersionError")
      expect(daemon.calls()).toEqual([])
    }))
})

describe("Exec: startDetached", () => {
  it.live("sends Detach true (Tty from the exec) without hijacking", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withExec(
        routes({ "GET /exec/e1/json": execWithTty(true), "POST /exec/e1/start": empty(200) }),
        (exec) => exec.startDetached("e1")
      )
      expect(daemon.calls()).toEqual(["GET /exec/e1/json", "POST /exec/e1/start"])
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: true, Tty: true })
      expect(daemon.only("POST /exec/e1/start").headers.upgrade).toBeUndefined()
    }))

  it.live("tty given: no inspect", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withExec(
        routes({ "POST /exec/e1/start": empty(200) }),
        (exec) => exec.startDetached("e1", { tty: false })
      )
      expect(daemon.calls()).toEqual(["POST /exec/e1/start"])
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: true, Tty: false })
    }))
})

describe("Exec: run", () => {
  /** An exec that reports Running for `polls` inspects, then its exit code. */
  const process = (output: Uint8Array | string, polls: number, exitCode: number): Handler => {
    let inspects = 0
    return routes({
      "POST /containers/c1/exec": json({ Id: "e1" }, 201),
      "POST /exec/e1/start": hijack(output),
      "GET /exec/e1/json": () =>
        ++inspects <= polls
          ? json({ ID: "e1", Running: true, ExitCode: null })
          : json({ ID: "e1", Running: false, ExitCode: exitCode })
    })
  }

  it.live("creates, starts (no inspect first), collects stdout/stderr, polls until Running false", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        process(framed, 2, 7),
        (exec) =>
          exec.run("c1", ["sh", "-c", "echo hi"], { env: { A: "1", B: "two" }, workingDir: "/w", user: "nobody" })
      )
      expect(result).toEqual({ exitCode: 7, stdout: "to out\n", stderr: "to err\n" })
      expect(daemon.bodyOf("POST /containers/c1/exec")).toEqual({
        Cmd: ["sh", "-c", "echo hi"],
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Env: ["A=1", "B=two"],
        WorkingDir: "/w",
        User: "nobody"
      })
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: false })
      expect(daemon.calls()).toEqual([
        "POST /containers/c1/exec",
        "POST /exec/e1/start",
        "GET /_ping",
        "GET /exec/e1/json",
        "GET /exec/e1/json",
        "GET /exec/e1/json"
      ])
    }))

  it.live("tty: Tty true at create and start, everything in stdout", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withExec(
        process("line\r\n", 0, 0),
        (exec) => exec.run("c1", ["top"], { tty: true, env: ["X=y"], privileged: true })
      )
      expect(result).toEqual({ exitCode: 0, stdout: "line\r\n", stderr: "" })
      expect(daemon.bodyOf("POST /containers/c1/exec")).toMatchObject({ Tty: true, Env: ["X=y"], Privileged: true })
      expect(daemon.bodyOf("POST /exec/e1/start")).toEqual({ Detach: false, Tty: true })
    }))
})
