/**
 * `Containers`: every container operation of the Engine API (25 of them) on the generated
 * descriptors, plus `run` / `runScoped` / `port`.
 *
 * Decisions that show in the API:
 * - **Framing.** `logs` and `attach` are multiplexed unless the container has a TTY. That comes
 *   from the container's `Config.Tty` (inspected when the caller does not say `tty`), never from
 *   Content-Type, which a 1.41 daemon always sets to `raw-stream`.
 * - **304.** `start` on a running container and `stop` on a stopped one succeed (the daemon answers
 *   304 Not Modified): both are idempotent, as in Docker's Go client and docker-py, so
 *   `NotModified` is not in their error type. The engine's `empty(ContainerStart, …)` still
 *   reports it for anyone who needs to know.
 * - **Time bounds.** `stop` / `restart` bound the call by the grace period `t` plus the engine's
 *   usual 2 minutes (`t` omitted or negative: the container's own `StopTimeout`, unknown here, so
 *   no bound); `wait`, `logs`, `stats`, `export`, `attach` and archive transfers have none
 *   (interrupt them, or use `Effect.timeout`).
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { definedOnly } from "../core/defined.js"
import type { CallOptions, SchemaRef } from "../core/descriptor.js"
import {
  DecodeError,
  type DockerError,
  type NotModified,
  type ServerError,
  type UnexpectedStatus
} from "../core/errors.js"
import { lazyDescriptor, streamWithDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { type ContainerClient, makeContainerClient } from "../generated/clients/container.js"
import type { ContainerAttachArgs } from "../generated/operations/container/ContainerAttach.js"
import type { ContainerCreateBody } from "../generated/operations/container/ContainerCreate.js"
import type { ContainerLogsArgs } from "../generated/operations/container/ContainerLogs.js"
import type { ContainerStats, ContainerStatsArgs } from "../generated/operations/container/ContainerStats.js"
import type { PortBinding } from "../generated/schemas/PortBinding.js"
import { withBodyStream } from "../wire/body-stream.js"
import { decodeJsonBody } from "../wire/decode.js"
import { firstHeader } from "../wire/headers.js"
import { decodeMessages, jsonValues } from "../wire/json-messages.js"
import { type StdioFrame, stdioFrames } from "../wire/stdio-frames.js"
import { collectOutput } from "../wire/stdio.js"
import { logQuery, type LogsOptions } from "./log-query.js"
import type { PathStatWire } from "./path-stat-wire.js"
import { stdioSessions } from "./stdio-session-loader.js"
import type { StdioSession } from "./stdio-session.js"

const ContainerArchive$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerArchive.js").then((m) => m.ContainerArchive)
)
const ContainerArchiveInfo$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerArchiveInfo.js").then((m) => m.ContainerArchiveInfo)
)
const ContainerAttach$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerAttach.js").then((m) => m.ContainerAttach)
)
const ContainerLogs$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerLogs.js").then((m) => m.ContainerLogs)
)
const ContainerRestart$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerRestart.js").then((m) => m.ContainerRestart)
)
const ContainerStart$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerStart.js").then((m) => m.ContainerStart)
)
const ContainerStop$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerStop.js").then((m) => m.ContainerStop)
)
const PutContainerArchive$ = lazyDescriptor(() =>
  import("../generated/operations/container/PutContainerArchive.js").then((m) => m.PutContainerArchive)
)

/** `logs` options: the operation's query parameters, with friendlier `since` / `until` / `tail`. */

// Its Schema (the stats sample) is evaluated on the first call only (src/core/lazy.ts).
const ContainerStats$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerStats.js").then((m) => m.ContainerStats)
)
export interface ContainerLogsOptions extends LogsOptions {
  /** Only lines before this time: Unix seconds (fractions allowed) or a `Date`. */
  readonly until?: number | Date | undefined
  /** The container's `Config.Tty`, when known (saves an inspect); decides raw vs framed. */
  readonly tty?: boolean | undefined
}

/** `attach` options: which streams (stdin, stdout and stderr by default), plus `logs` replay. */
export interface ContainerAttachOptions extends Omit<ContainerAttachArgs, "id" | "stream"> {
  /** The container's `Config.Tty`, when known (saves an inspect); decides raw vs framed. */
  readonly tty?: boolean | undefined
  /**
   * Follow the container's live output (and feed its stdin) after the `logs` replay. `false`:
   * replay the logs (with `logs: true`), then the session ends.
   *
   * Default `true` — except with `logs: true` on a container that has exited (or is dead), where
   * it is `false`: the daemon keeps an exited container's streams open until its next start, so
   * the session would never end. Pass `stream: true` there to also follow a restart.
   */
  readonly stream?: boolean | undefined
}

/** `X-Docker-Container-Path-Stat`, decoded: what `archiveInfo` / `getArchive` say about the path. */
export interface PathStat {
  /** The path's base name. */
  readonly name: string
  /** Its size in bytes. */
  readonly size: number
  /** Go's `os.FileMode` bits as sent: permissions in the low 9 bits, type bits high (dir = 2^31). */
  readonly mode: number
  /** `mode & 0o7777`: permission, setuid/setgid and sticky bits. */
  readonly permissions: number
  /** A directory. */
  readonly isDirectory: boolean
  /** A symbolic link. */
  readonly isSymlink: boolean
  /** RFC 3339, as the daemon wrote it. */
  readonly mtime: string
  /** The target, for a symbolic link (`""` otherwise). */
  readonly linkTarget: string
}

/** What `getArchive` opens: the path's stat and its tar stream (read it within the scope). */
export interface ArchiveDownload {
  /** The stat of the path. */
  readonly stat: PathStat
  /** The tar archive of the path (a directory's contents under its name); read it before the scope closes. */
  readonly tar: Stream.Stream<Uint8Array, DockerError>
}

/** Options of `putArchive`. */
export interface ContainerPutArchiveOptions {
  /** Fail rather than replace a directory with a non-directory or the other way round. */
  readonly noOverwriteDirNonDir?: boolean | undefined
  /** Give the extracted files the container user's UID/GID. */
  readonly copyUIDGID?: boolean | undefined
  /** Bound on the whole upload (default none: the body flows as fast as its source). */
  readonly timeout?: Duration.Input | "none" | undefined
}

/** Options of `stop`. */
export interface ContainerStopOptions {
  /** Seconds to wait after the stop signal before killing (default: the container's `StopTimeout`, 10 s). */
  readonly t?: number | undefined
  /** Signal to stop with (API 1.42+; default the container's `StopSignal`, SIGTERM). */
  readonly signal?: string | undefined
  /** Overrides the call's bound (default: `t` seconds + 2 minutes; none when `t` is omitted). */
  readonly timeout?: Duration.Input | "none" | undefined
}

/** Options of `run` and `runScoped`. */
export interface ContainerRunOptions {
  /** The container's name. */
  readonly name?: string | undefined
  /** `os[/arch[/variant]]` for the image lookup. */
  readonly platform?: string | undefined
  /**
   * Remove the container (with its anonymous volumes) once its output and exit code were read —
   * and also if anything fails or the run is interrupted. Default `false`, as `docker run`
   * without `--rm`.
   */
  readonly remove?: boolean | undefined
  /** Called with every output frame as it arrives (the output is collected as well). */
  readonly onOutput?: ((frame: StdioFrame) => Effect.Effect<void>) | undefined
}

/**
 * What `run` returns: the container's id and exit code, and its output when the daemon could read
 * it back. `outputRead` tells which: `false` when the container's log driver cannot be read
 * (`none`, or e.g. `syslog` without the daemon's dual logging) — the daemon answers its logs with
 * 501 — and then `stdout` and `stderr` are `undefined` (docker-py returns `None`), the exit code
 * is still the real one. `if (result.outputRead)` narrows `stdout` / `stderr` to strings.
 */
export type ContainerRunResult = ContainerRunResultWithOutput | ContainerRunResultWithoutOutput

/** A `ContainerRunResult` whose output was read. */
export interface ContainerRunResultWithOutput {
  /** The container's ID. */
  readonly id: string
  /** Its exit code. */
  readonly exitCode: number
  /** The output was read. */
  readonly outputRead: true
  /** Everything it wrote to stdout (or the TTY). */
  readonly stdout: string
  /** Everything it wrote to stderr (empty with a TTY). */
  readonly stderr: string
}

/** A `ContainerRunResult` whose output the daemon could not read back. */
export interface ContainerRunResultWithoutOutput {
  /** The container's ID. */
  readonly id: string
  /** Its exit code. */
  readonly exitCode: number
  /** The output was not read. */
  readonly outputRead: false
  /** Not read. */
  readonly stdout: undefined
  /** Not read. */
  readonly stderr: undefined
  /** Why, in the daemon's words ("configured logging driver does not support reading"). */
  readonly unreadableBecause: string
}

/**
 * `run` created the container, then a later step failed (start, reading the output, waiting for
 * the exit). `containerId` names the container — removed again with `remove: true`, left as it is
 * otherwise — and `cause` is the step's own error (`operation` is the step's).
 */
export class ContainerRunError extends Data.TaggedError("ContainerRunError")<{
  /** The container `run` created. */
  readonly containerId: string
  /** The step that failed (its operationId). */
  readonly operation: string
  /** The step's own error. */
  readonly cause: DockerError
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** A started container that is removed (forcibly) when the scope it was started in closes. */
export interface RunningContainer {
  /** The container's ID. */
  readonly id: string
  /** Whether it has a TTY (then `output` is raw, not multiplexed). */
  readonly tty: boolean
  /** Its output from the start, following until it stops (`logs?follow=1`); can be run repeatedly. */
  readonly output: Stream.Stream<StdioFrame, DockerError>
  /** Waits until it is no longer running; its exit code. */
  readonly exitCode: Effect.Effect<number, DockerError>
}

/**
 * Every container operation: the pass-throughs generated from the spec (`ContainerClient`: list,
 * create, inspect, top, changes, export, resize, kill, update, rename, pause, unpause, wait,
 * remove, prune) and the methods below, which decide something.
 */
export interface ContainersShape extends ContainerClient {
  /**
   * `GET /containers/{id}/logs` as stdio frames (stdout and stderr unless told otherwise). Ends at
   * the end of the log, or with `follow` when the container stops; a consumer that stops early
   * closes the connection. Pipe into `stdoutLines`, `collectOutput`… from this package. Framing
   * follows the container's `Config.Tty` (inspected unless `tty` is given).
   */
  readonly logs: (id: string, options?: ContainerLogsOptions) => Stream.Stream<StdioFrame, DockerError>
  /** `GET /containers/{id}/stats?stream=1`: a sample about every second, until the consumer stops. */
  readonly stats: (id: string) => Stream.Stream<ContainerStats.Message, DockerError>
  /** `GET /containers/{id}/stats?stream=0`: one sample (`oneShot: true` skips the priming second). */
  readonly statsOnce: (
    id: string,
    options?: { readonly oneShot?: boolean | undefined }
  ) => Effect.Effect<ContainerStats.Message, DockerError>
  /** `POST /containers/{id}/start`; succeeds if it was already running (304). */
  readonly start: (
    id: string,
    options?: { readonly detachKeys?: string | undefined }
  ) => Effect.Effect<void, Exclude<DockerError, NotModified>>
  /** `POST /containers/{id}/stop`; succeeds if it was already stopped (304). Bounded by `t` + 2 minutes. */
  readonly stop: (id: string, options?: ContainerStopOptions) => Effect.Effect<void, Exclude<DockerError, NotModified>>
  /** `POST /containers/{id}/restart`, bounded by `t` + 2 minutes. */
  readonly restart: (id: string, options?: ContainerStopOptions) => Effect.Effect<void, DockerError>
  /**
   * `POST /containers/{id}/attach` (hijacked): output frames and stdin, for as long as `scope` is
   * open. Attach before `start` to see the output from the first byte (or ask for `logs: true`).
   * `stream: false` replays the logs and ends; `logs: true` on an exited container does so by
   * default (see `ContainerAttachOptions.stream`).
   */
  readonly attach: (
    id: string,
    options?: ContainerAttachOptions
  ) => Effect.Effect<StdioSession, DockerError, Scope.Scope>
  /** `HEAD /containers/{id}/archive`: stat a path in the container. */
  readonly archiveInfo: (id: string, path: string) => Effect.Effect<PathStat, DockerError>
  /**
   * `GET /containers/{id}/archive`: a path in the container as a tar stream (a directory with its
   * contents) and its stat. The connection is released when `scope` closes.
   */
  readonly getArchive: (id: string, path: string) => Effect.Effect<ArchiveDownload, DockerError, Scope.Scope>
  /**
   * `PUT /containers/{id}/archive`: extracts a tar stream into the directory `path` of the
   * container. A failure of `tar` itself fails the call with that error.
   */
  readonly putArchive: <E = never>(
    id: string,
    path: string,
    tar: Stream.Stream<Uint8Array, E>,
    options?: ContainerPutArchiveOptions
  ) => Effect.Effect<void, DockerError | E>

  /**
   * Create, start, read its output until it exits, and its exit code (docker-py's
   * `containers.run` without `detach`). With `remove: true` the container is removed afterwards,
   * and also when the run fails or is interrupted. A log driver that cannot be read is not a
   * failure: the result says `outputRead: false`. Failing to create is the create's own error;
   * any failure after that is a `ContainerRunError` naming the container.
   */
  readonly run: (
    config: ContainerCreateBody,
    options?: ContainerRunOptions
  ) => Effect.Effect<ContainerRunResult, DockerError | ContainerRunError>
  /** Create and start a container that is removed (forcibly) when `scope` closes, whatever happens. */
  readonly runScoped: (
    config: ContainerCreateBody,
    options?: Omit<ContainerRunOptions, "remove" | "onOutput">
  ) => Effect.Effect<RunningContainer, DockerError, Scope.Scope>
  /**
   * The host bindings of a container port (docker-py's `port`): `[{ HostIp, HostPort }]`, empty
   * when the port is not published.
   */
  readonly port: (
    id: string,
    privatePort: number,
    protocol?: "tcp" | "udp" | "sctp"
  ) => Effect.Effect<ReadonlyArray<PortBinding>, DockerError>
}

/** The bound for a call that may wait `t` seconds for a container to stop. */
const graceTimeout = (options: ContainerStopOptions): CallOptions => {
  if (options.timeout !== undefined) return { timeout: options.timeout }
  if (options.t === undefined || options.t < 0) return { timeout: "none" }
  return { timeout: Duration.sum(Duration.seconds(options.t), Duration.minutes(2)) }
}

const GO_MODE_DIR = 2 ** 31
const GO_MODE_SYMLINK = 2 ** 27

/** Decodes `X-Docker-Container-Path-Stat`: base64 (standard alphabet) of JSON. */
export const decodePathStat = (operation: string, value: string | undefined) => {
  if (typeof value !== "string" || value === "") {
    return Effect.fail(
      new DecodeError({
        operation,
        detail: "no X-Docker-Container-Path-Stat header",
        message: `${operation}: the daemon's answer has no X-Docker-Container-Path-Stat header`
      })
    )
  }
  return Effect.flatMap(
    decodeJsonBody(operation, pathStatWire, Buffer.from(value, "base64").toString("utf8")),
    (wire) => {
      const stat = wire as PathStatWire
      const mode = stat.mode
      return Effect.succeed<PathStat>({
        name: stat.name,
        size: stat.size,
        mode,
        permissions: mode % 0o10000,
        isDirectory: Math.floor(mode / GO_MODE_DIR) % 2 === 1,
        isSymlink: Math.floor(mode / GO_MODE_SYMLINK) % 2 === 1,
        mtime: stat.mtime,
        linkTarget: stat.linkTarget ?? ""
      })
    }
  )
}

const pathStatWire: SchemaRef = async () => (await import("./path-stat-wire.js")).PathStatWire

/**
 * Podman names a sample's container id `Id` (Docker: `id`, which the spec has). A sample with only
 * `Id` gets `id` too, the same value, before it is decoded (the sample's Schema keeps only the
 * spec's keys), so code reading `id` works on both.
 */
const withStatsId = (sample: unknown): unknown => {
  if (typeof sample !== "object" || sample === null) return sample
  const { id, Id } = sample as { readonly id?: unknown; readonly Id?: unknown }
  return id === undefined && typeof Id === "string" ? { ...sample, id: Id } : sample
}

/** The stats samples of `args`, decoded (see {@link withStatsId}). */
const statsSamples = (engine: DockerEngineShape, args: ContainerStatsArgs) =>
  streamWithDescriptor(ContainerStats$, (d) => {
    const response = d.response as Extract<typeof d.response, { readonly kind: "jsonStream" }>
    return engine.stream(d, args).pipe(
      jsonValues,
      Stream.map(withStatsId),
      decodeMessages(d.operationId, response.schema, response.decode)
    ) as Stream.Stream<ContainerStats.Message, DockerError>
  })

/** The Containers service over `engine`: the generated pass-throughs, and the decisions. */
export const makeContainers = (engine: DockerEngineShape): ContainersShape => {
  const client = makeContainerClient(engine)

  // Framing comes from the container's own Config.Tty, never from Content-Type.
  const ttyOf = (id: string, tty: boolean | undefined): Effect.Effect<boolean, DockerError> =>
    tty !== undefined ? Effect.succeed(tty) : Effect.map(client.inspect(id), (c) => c.Config?.Tty === true)

  const logs: ContainersShape["logs"] = (id, options = {}) =>
    Stream.unwrap(Effect.map(ttyOf(id, options.tty), (tty) => {
      const args: ContainerLogsArgs = { id, ...logQuery(options) }
      return streamWithDescriptor(ContainerLogs$, (d) => engine.stream(d, args)).pipe(
        stdioFrames("ContainerLogs", { tty })
      )
    }))

  // 304 means "already in that state": start and stop are idempotent, as in moby's client.
  const start: ContainersShape["start"] = (id, options = {}) =>
    withDescriptor(ContainerStart$, (d) => engine.empty(d, { id, ...definedOnly(options) })).pipe(
      Effect.catchTag("NotModified", () => Effect.void)
    )

  const stopArgs = (id: string, options: ContainerStopOptions) => ({
    id,
    ...definedOnly({ t: options.t, signal: options.signal })
  })

  const running = (id: string, tty: boolean): RunningContainer => ({
    id,
    tty,
    output: logs(id, { follow: true, tty }),
    exitCode: Effect.map(client.wait(id, { condition: "not-running" }), (result) => result.StatusCode)
  })

  const createFor = (config: ContainerCreateBody, options: ContainerRunOptions) =>
    client.create(config, definedOnly({ name: options.name, platform: options.platform }))
  const createRemovedWithScope = (config: ContainerCreateBody, options: ContainerRunOptions) =>
    Effect.acquireRelease(
      createFor(config, options),
      (created) => client.remove(created.Id, { force: true, v: true }).pipe(Effect.ignore)
    )

  const runScoped: ContainersShape["runScoped"] = (config, options = {}) =>
    Effect.gen(function*() {
      const created = yield* createRemovedWithScope(config, options)
      yield* start(created.Id)
      return running(created.Id, config.Tty === true)
    })

  const runToEnd = (container: RunningContainer, onOutput: ContainerRunOptions["onOutput"]) =>
    Effect.gen(function*() {
      const output = onOutput === undefined ? container.output : container.output.pipe(Stream.tap(onOutput))
      const read = yield* collectOutput(output).pipe(
        Effect.map((text) => ({ outputRead: true as const, ...text })),
        // The daemon's answer for a log driver it cannot read back: the run itself is fine.
        Effect.catchIf(unreadableLogs, (error) =>
          Effect.succeed({
            outputRead: false as const,
            stdout: undefined,
            stderr: undefined,
            unreadableBecause: error.daemonMessage
          }))
      )
      const exitCode = yield* container.exitCode
      if (!read.outputRead) return { id: container.id, exitCode, ...read } satisfies ContainerRunResult
      // Docker 20.10 can end a follow stream at the container's exit before the last chunk reached
      // its log (seen under load: a TTY's final "b" without a newline went missing). The finished
      // log is complete: read it once more and take what the follow missed (given to `onOutput`).
      const full = yield* collectOutput(logs(container.id, { tty: container.tty }))
      const missed = (seen: string, all: string) => all.startsWith(seen) ? all.slice(seen.length) : ""
      const tail = { stdout: missed(read.stdout, full.stdout), stderr: missed(read.stderr, full.stderr) }
      if (onOutput !== undefined) {
        for (const stream of ["stdout", "stderr"] as const) {
          if (tail[stream] !== "") yield* onOutput({ stream, data: new TextEncoder().encode(tail[stream]) })
        }
      }
      return {
        id: container.id,
        exitCode,
        outputRead: true,
        stdout: read.stdout + tail.stdout,
        stderr: read.stderr + tail.stderr
      } satisfies ContainerRunResult
    })

  const run: ContainersShape["run"] = (config, options = {}) =>
    Effect.scoped(Effect.gen(function*() {
      const created = yield* (options.remove === true ? createRemovedWithScope : createFor)(config, options)
      const id = created.Id
      return yield* Effect.andThen(start(id), runToEnd(running(id, config.Tty === true), options.onOutput)).pipe(
        Effect.mapError((cause) => {
          const operation = "operation" in cause ? cause.operation : "ContainerRun"
          return new ContainerRunError({
            containerId: id,
            operation,
            cause,
            message: `Containers.run: container ${id} was created, then ${operation} failed: ${cause.message}`
          })
        })
      )
    }))

  return {
    ...client,
    logs,
    stats: (id) => statsSamples(engine, { id, stream: true }),
    statsOnce: (id, options = {}) =>
      statsSamples(engine, { id, stream: false, ...definedOnly(options) })
        .pipe(
          Stream.runHead,
          Effect.flatMap(Option.match({
            onNone: () =>
              Effect.fail(
                new DecodeError({
                  operation: "ContainerStats",
                  detail: "empty answer",
                  message: "ContainerStats: the daemon answered without a sample"
                })
              ),
            onSome: Effect.succeed
          }))
        ),
    start,
    stop: (id, options = {}) =>
      withDescriptor(ContainerStop$, (d) => engine.empty(d, stopArgs(id, options), graceTimeout(options))).pipe(
        Effect.catchTag("NotModified", () => Effect.void)
      ),
    restart: (id, options = {}) =>
      withDescriptor(ContainerRestart$, (d) => engine.empty(d, stopArgs(id, options), graceTimeout(options))),
    attach: (id, options = {}) =>
      Effect.gen(function*() {
        const { stream: askedStream, tty: askedTty, ...rest } = options
        // One inspect, and only if the caller did not say: framing, and whether it has exited.
        const state = askedTty === undefined || (askedStream === undefined && rest.logs === true)
          ? yield* Effect.map(client.inspect(id), (c) => ({ tty: c.Config?.Tty === true, status: c.State?.Status }))
          : undefined
        const tty = askedTty ?? state?.tty === true
        const stream = askedStream ?? !(rest.logs === true && STOPPED.has(state?.status ?? ""))
        const connection = yield* withDescriptor(ContainerAttach$, (d) =>
          engine.hijack(d, {
            id,
            stdin: true,
            stdout: true,
            stderr: true,
            ...definedOnly(rest),
            stream
          }))
        const { makeStdioSession } = yield* withDescriptor(stdioSessions, Effect.succeed)
        return makeStdioSession(engine, "ContainerAttach", connection, tty)
      }),
    archiveInfo: (id, path) =>
      Effect.flatMap(
        withDescriptor(ContainerArchiveInfo$, (d) => engine.raw(d, { id, path })),
        (answer) => decodePathStat("ContainerArchiveInfo", firstHeader(answer.headers, PATH_STAT))
      ),
    getArchive: (id, path) =>
      Effect.gen(function*() {
        const answer = yield* withDescriptor(ContainerArchive$, (d) => engine.open(d, { id, path }))
        const stat = yield* decodePathStat("ContainerArchive", firstHeader(answer.headers, PATH_STAT))
        return { stat, tar: answer.body } satisfies ArchiveDownload
      }),
    putArchive: <E>(
      id: string,
      path: string,
      tar: Stream.Stream<Uint8Array, E>,
      options: ContainerPutArchiveOptions = {}
    ) =>
      withBodyStream(tar, (body) =>
        withDescriptor(PutContainerArchive$, (d) =>
          engine.empty(
            d,
            {
              id,
              path,
              ...(options.noOverwriteDirNonDir !== undefined
                ? { noOverwriteDirNonDir: options.noOverwriteDirNonDir ? "1" : "0" }
                : {}),
              ...(options.copyUIDGID !== undefined ? { copyUIDGID: options.copyUIDGID ? "1" : "0" } : {}),
              body
            },
            { timeout: options.timeout ?? "none" }
          ))),
    run,
    runScoped,
    port: (id, privatePort, protocol = "tcp") =>
      Effect.map(client.inspect(id), (c) => c.NetworkSettings?.Ports?.[`${privatePort}/${protocol}`] ?? [])
  }
}

const PATH_STAT = "x-docker-container-path-stat"

/**
 * The daemon's answer to `logs` for a container whose log driver cannot be read back: Docker's 501,
 * Podman's 500 `… cannot read logs: this container is not logging output`.
 */
const unreadableLogs = (error: DockerError): error is UnexpectedStatus | ServerError =>
  error._tag === "UnexpectedStatus" && error.status === 501 && error.operation === "ContainerLogs" ||
  error._tag === "ServerError" && error.operation === "ContainerLogs" &&
    error.daemonMessage.endsWith("this container is not logging output")

/** States whose streams stay shut until the next start: an attach that follows them waits for it. */
const STOPPED: ReadonlySet<string> = new Set(["exited", "dead"])

/**
 * The Containers service: every container operation (see `ContainersShape`).
 *
 * @example
 * ```ts
 * import { Containers, Docker } from "effect-docker"
 *
 * const program = Effect.gen(function*() {
 *   const containers = yield* Containers
 *   const result = yield* containers.run({ Image: "busybox", Cmd: ["echo", "hi"] }, { remove: true })
 *   if (result.outputRead) yield* Console.log(result.exitCode, result.stdout)
 * }).pipe(Effect.provide(Docker.layerFromEnv))
 * ```
 */
export class Containers extends Context.Service<Containers, ContainersShape>()("effect-docker/Containers") {
  /** Containers over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Containers, never, DockerEngine> = Layer.effect(Containers)(
    Effect.map(DockerEngine, makeContainers)
  )
}
