/**
 * `Exec`: processes run inside a running container — the 4 exec operations (create, start attached
 * or detached, resize, inspect) on the generated descriptors, plus `run` (argv → exit code, stdout,
 * stderr) and `spawn` (the same as streams, with stdin).
 *
 * **Framing follows the ExecStart body's `Tty`**, not the `Tty` given at create (which only
 * decides whether a pty is allocated) and not Content-Type (a 1.41 daemon always says
 * `raw-stream`). `start` always sends `Tty` explicitly — the caller's, else the exec's own
 * (`ProcessConfig.tty`, as the Docker CLI does) — and frames by what it sent. Podman frames by
 * the create-time `Tty` whatever start says: on a Podman engine (as the layer learnt it from
 * earlier answers: the 101 itself carries no Libpod headers) the session is framed by the exec's
 * own `ProcessConfig.tty`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { type ExecClient, makeExecClient } from "../generated/clients/exec.js"
import type { ContainerExecBody } from "../generated/operations/exec/ContainerExec.js"
import { collectOutput } from "../wire/stdio.js"
import { stdioSessions } from "./stdio-session-loader.js"
import type { StdioSession } from "./stdio-session.js"

const ExecStart$ = lazyDescriptor(() => import("../generated/operations/exec/ExecStart.js").then((m) => m.ExecStart))

/** Options of `Exec.start`. */
export interface ExecStartOptions {
  /** Raw (TTY) or multiplexed output; default: the `Tty` the exec was created with. */
  readonly tty?: boolean | undefined
  /** Initial console size `[height, width]` (API 1.42+). */
  readonly consoleSize?: readonly [number, number] | undefined
}

/** What `run` and `spawn` create the process with. */
export interface ExecSpawnOptions {
  /** Extra environment: `{ NAME: "value" }` or `["NAME=value"]`. */
  readonly env?: Readonly<Record<string, string>> | ReadonlyArray<string> | undefined
  /** The working directory of the process. */
  readonly workingDir?: string | undefined
  /** `user`, `user:group`, `uid` or `uid:gid`. */
  readonly user?: string | undefined
  /** Run with extended privileges. */
  readonly privileged?: boolean | undefined
  /** Allocate a pty: output is raw, stderr merged into stdout, lines end with `\r\n`. */
  readonly tty?: boolean | undefined
}

/** Options of `Exec.run`. */
export interface ExecRunOptions extends ExecSpawnOptions {
  /** Written to the process's stdin, which is then closed. Without it, stdin is not attached. */
  readonly stdin?: string | Uint8Array | undefined
}

/** What `Exec.run` returns. */
export interface ExecRunResult {
  /** The process's exit code. */
  readonly exitCode: number
  /** Everything it wrote to stdout (or the TTY). */
  readonly stdout: string
  /** Everything it wrote to stderr (empty with a TTY). */
  readonly stderr: string
}

/** A running exec (from `spawn`): its stdio session, its id and, once it ended, its exit code. */
export interface ExecProcess extends StdioSession {
  /** The exec's ID. */
  readonly id: string
  /** Waits until the process has ended (polling `ExecInspect`, interruptible); its exit code. */
  readonly exitCode: Effect.Effect<number, DockerError>
}

/**
 * Every exec operation: the generated pass-throughs (`ExecClient`: `create(container, config)`
 * sets up a process, `Cmd` an argv array; `inspect`; `resize`) and the methods below.
 */
export interface ExecShape extends ExecClient {
  /**
   * `POST /exec/{id}/start`, attached (hijacked): output frames and stdin for as long as `scope`
   * is open. Framing follows the `tty` sent here (default: the exec's own).
   */
  readonly start: (id: string, options?: ExecStartOptions) => Effect.Effect<StdioSession, DockerError, Scope.Scope>
  /** `POST /exec/{id}/start` with `Detach: true`: starts it and returns at once. */
  readonly startDetached: (id: string, options?: ExecStartOptions) => Effect.Effect<void, DockerError>
  /**
   * Runs `cmd` (an argv array: never split on spaces; use `["sh", "-c", script]` for a shell) in
   * a running container and returns its exit code, stdout and stderr (with `tty`, everything is in
   * stdout).
   */
  readonly run: (
    container: string,
    cmd: ReadonlyArray<string>,
    options?: ExecRunOptions
  ) => Effect.Effect<ExecRunResult, DockerError>
  /**
   * Starts `cmd` with stdin, stdout and stderr attached, as streams: write `stdin` (ending it
   * gives the process EOF), read `output`, then `exitCode`. The connection closes with `scope`.
   */
  readonly spawn: (
    container: string,
    cmd: ReadonlyArray<string>,
    options?: ExecSpawnOptions
  ) => Effect.Effect<ExecProcess, DockerError, Scope.Scope>
}

const envList = (env: ExecSpawnOptions["env"]): Array<string> | undefined =>
  env === undefined ? undefined : Array.isArray(env) ? [...env] : Object.entries(env).map(([k, v]) => `${k}=${v}`)

const execBody = (cmd: ReadonlyArray<string>, options: ExecSpawnOptions, stdin: boolean): ContainerExecBody => {
  const env = envList(options.env)
  return {
    Cmd: [...cmd],
    AttachStdin: stdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: options.tty === true,
    ...(env !== undefined ? { Env: env } : {}),
    ...(options.workingDir !== undefined ? { WorkingDir: options.workingDir } : {}),
    ...(options.user !== undefined ? { User: options.user } : {}),
    ...(options.privileged !== undefined ? { Privileged: options.privileged } : {})
  }
}

/** The Exec service over `engine`: the generated pass-throughs, and the decisions. */
export const makeExec = (engine: DockerEngineShape): ExecShape => {
  const client = makeExecClient(engine)
  const { create, inspect } = client

  const startBody = (id: string, options: ExecStartOptions, detach: boolean) =>
    Effect.map(
      options.tty !== undefined
        ? Effect.succeed(options.tty)
        : Effect.map(inspect(id), (info) => info.ProcessConfig?.tty === true),
      (tty) => ({
        tty,
        body: {
          Detach: detach,
          Tty: tty,
          ...(options.consoleSize !== undefined ? { ConsoleSize: [...options.consoleSize] } : {})
        }
      })
    )

  const start: ExecShape["start"] = (id, options = {}) =>
    Effect.gen(function*() {
      const { body, tty } = yield* startBody(id, options, false)
      const connection = yield* withDescriptor(ExecStart$, (d) => engine.hijack(d, { id, body }))
      // Podman: framed as created. Only a `tty` given here can differ from that (the default is
      // read from the exec itself), so only then is the exec inspected after the switch.
      const framing = options.tty !== undefined && engine.identity().kind === "podman"
        ? (yield* inspect(id)).ProcessConfig?.tty === true
        : tty
      const { makeStdioSession } = yield* withDescriptor(stdioSessions, Effect.succeed)
      return makeStdioSession(engine, "ExecStart", connection, framing)
    })

  // The stream ends when the process's output closes; the daemon records the exit code right
  // about then, so poll briefly rather than trust one inspect.
  const exitCodeOf = (id: string): Effect.Effect<number, DockerError> =>
    Effect.gen(function*() {
      for (let delay = 5;; delay = Math.min(delay * 2, 200)) {
        const info = yield* inspect(id)
        if (info.Running === false && typeof info.ExitCode === "number") return info.ExitCode
        yield* Effect.sleep(delay)
      }
    })

  const spawn: ExecShape["spawn"] = (container, cmd, options = {}) =>
    Effect.gen(function*() {
      const created = yield* create(container, execBody(cmd, options, true))
      const session = yield* start(created.Id, { tty: options.tty === true })
      return { ...session, id: created.Id, exitCode: exitCodeOf(created.Id) } satisfies ExecProcess
    })

  const run: ExecShape["run"] = (container, cmd, options = {}) =>
    Effect.scoped(Effect.gen(function*() {
      const input = options.stdin
      const created = yield* create(container, execBody(cmd, options, input !== undefined))
      const session = yield* start(created.Id, { tty: options.tty === true })
      // Write and read at once: a process that echoes would otherwise block on a full pipe.
      const [, output] = yield* Effect.all([
        input !== undefined ? Stream.run(Stream.make(input), session.stdin) : Effect.void,
        collectOutput(session.output)
      ], { concurrency: 2 })
      const exitCode = yield* exitCodeOf(created.Id)
      return { exitCode, ...output } satisfies ExecRunResult
    }))

  return {
    ...client,
    start,
    startDetached: (id, options = {}) =>
      Effect.flatMap(
        startBody(id, options, true),
        ({ body }) => withDescriptor(ExecStart$, (d) => engine.empty(d, { id, body }))
      ),
    run,
    spawn
  }
}

/**
 * The Exec service: commands in running containers (see `ExecShape`).
 *
 * @example
 * ```ts
 * import { Exec } from "effect-docker"
 *
 * const exec = yield* Exec
 * const { exitCode, stdout } = yield* exec.run("web", ["sh", "-c", "wc -l"], { stdin: "a\
 * b\
 * " }) // argv, never split
 * ```
 */
export class Exec extends Context.Service<Exec, ExecShape>()("effect-docker/Exec") {
  /** Exec over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Exec, never, DockerEngine> = Layer.effect(Exec)(Effect.map(DockerEngine, makeExec))
}
