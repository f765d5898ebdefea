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
import { Context, Duration, Effect, Layer, Option, Schema, type Scope, Stream } from "effect"
import type { ResponseOf } from "../core/descriptor.js"
import { DecodeError, type DockerError, type NotModified } from "../core/errors.js"
import type { CallOptions } from "../core/descriptor.js"
import { DockerEngine } from "../engine/engine.js"
import { ContainerArchive } from "../generated/operations/container/ContainerArchive.js"
import { ContainerArchiveInfo } from "../generated/operations/container/ContainerArchiveInfo.js"
import { ContainerAttach, type ContainerAttachArgs } from "../generated/operations/container/ContainerAttach.js"
import { ContainerChanges } from "../generated/operations/container/ContainerChanges.js"
import { ContainerCreate, type ContainerCreateBody } from "../generated/operations/container/ContainerCreate.js"
import { ContainerDelete, type ContainerDeleteArgs } from "../generated/operations/container/ContainerDelete.js"
import { ContainerExport } from "../generated/operations/container/ContainerExport.js"
import { ContainerInspect } from "../generated/operations/container/ContainerInspect.js"
import { ContainerKill } from "../generated/operations/container/ContainerKill.js"
import { ContainerList, type ContainerListArgs } from "../generated/operations/container/ContainerList.js"
import { ContainerLogs, type ContainerLogsArgs } from "../generated/operations/container/ContainerLogs.js"
import { ContainerPause } from "../generated/operations/container/ContainerPause.js"
import { ContainerPrune, type ContainerPruneArgs } from "../generated/operations/container/ContainerPrune.js"
import { ContainerRename } from "../generated/operations/container/ContainerRename.js"
import { ContainerResize } from "../generated/operations/container/ContainerResize.js"
import { ContainerRestart } from "../generated/operations/container/ContainerRestart.js"
import { ContainerStart } from "../generated/operations/container/ContainerStart.js"
import { ContainerStats } from "../generated/operations/container/ContainerStats.js"
import { ContainerStop } from "../generated/operations/container/ContainerStop.js"
import { ContainerTop } from "../generated/operations/container/ContainerTop.js"
import { ContainerUnpause } from "../generated/operations/container/ContainerUnpause.js"
import { ContainerUpdate, type ContainerUpdateBody } from "../generated/operations/container/ContainerUpdate.js"
import { ContainerWait, type ContainerWaitArgs } from "../generated/operations/container/ContainerWait.js"
import { PutContainerArchive } from "../generated/operations/container/PutContainerArchive.js"
import type { PortBinding } from "../generated/schemas/PortBinding.js"
import { withBodyStream } from "../wire/body-stream.js"
import { decodeJsonBody } from "../wire/decode.js"
import { type StdioFrame, stdioFrames } from "../wire/stdio-frames.js"
import { collectOutput } from "../wire/stdio.js"
import { makeStdioSession, type StdioSession } from "./stdio-session.js"

export type ContainerSummaryList = ResponseOf<typeof ContainerList>
export type ContainerInspectInfo = ResponseOf<typeof ContainerInspect>
export type ContainerCreated = ResponseOf<typeof ContainerCreate>
export type ContainerTopInfo = ResponseOf<typeof ContainerTop>
export type ContainerChangesList = ResponseOf<typeof ContainerChanges>
export type ContainerStatsInfo = ResponseOf<typeof ContainerStats>
export type ContainerUpdated = ResponseOf<typeof ContainerUpdate>
export type ContainerWaitResult = ResponseOf<typeof ContainerWait>
export type ContainerPruned = ResponseOf<typeof ContainerPrune>

/** `logs` options: the operation's query parameters, with friendlier `since` / `until` / `tail`. */
export interface LogsOptions extends Omit<ContainerLogsArgs, "id" | "since" | "until" | "tail"> {
  /** Only lines since this time: Unix seconds (fractions allowed) or a `Date`. */
  readonly since?: number | Date | undefined
  /** Only lines before this time: Unix seconds (fractions allowed) or a `Date`. */
  readonly until?: number | Date | undefined
  /** Only this many lines from the end (`"all"` by default). */
  readonly tail?: number | "all" | undefined
  /** The container's `Config.Tty`, when known (saves an inspect); decides raw vs framed. */
  readonly tty?: boolean | undefined
}

/** `attach` options: which streams (stdin, stdout and stderr by default), plus `logs` replay. */
export interface AttachOptions extends Omit<ContainerAttachArgs, "id" | "stream"> {
  /** The container's `Config.Tty`, when known (saves an inspect); decides raw vs framed. */
  readonly tty?: boolean | undefined
}

/** `X-Docker-Container-Path-Stat`, decoded: what `archiveInfo` / `getArchive` say about the path. */
export interface PathStat {
  readonly name: string
  readonly size: number
  /** Go's `os.FileMode` bits as sent: permissions in the low 9 bits, type bits high (dir = 2^31). */
  readonly mode: number
  /** `mode & 0o7777`: permission, setuid/setgid and sticky bits. */
  readonly permissions: number
  readonly isDirectory: boolean
  readonly isSymlink: boolean
  /** RFC 3339, as the daemon wrote it. */
  readonly mtime: string
  /** The target, for a symbolic link (`""` otherwise). */
  readonly linkTarget: string
}

/** What `getArchive` opens: the path's stat and its tar stream (read it within the scope). */
export interface ArchiveDownload {
  readonly stat: PathStat
  readonly tar: Stream.Stream<Uint8Array, DockerError>
}

export interface PutArchiveOptions {
  /** Fail rather than replace a directory with a non-directory or the other way round. */
  readonly noOverwriteDirNonDir?: boolean | undefined
  /** Give the extracted files the container user's UID/GID. */
  readonly copyUIDGID?: boolean | undefined
  /** Bound on the whole upload (default none: the body flows as fast as its source). */
  readonly timeout?: Duration.Input | "none" | undefined
}

export interface StopOptions {
  /** Seconds to wait after the stop signal before killing (default: the container's `StopTimeout`, 10 s). */
  readonly t?: number | undefined
  /** Signal to stop with (API 1.42+; default the container's `StopSignal`, SIGTERM). */
  readonly signal?: string | undefined
  /** Overrides the call's bound (default: `t` seconds + 2 minutes; none when `t` is omitted). */
  readonly timeout?: Duration.Input | "none" | undefined
}

export interface RunOptions {
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

export interface RunResult {
  readonly id: string
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** A started container that is removed (forcibly) when the scope it was started in closes. */
export interface RunningContainer {
  readonly id: string
  readonly tty: boolean
  /** Its output from the start, following until it stops (`logs?follow=1`); can be run repeatedly. */
  readonly output: Stream.Stream<StdioFrame, DockerError>
  /** Waits until it is no longer running; its exit code. */
  readonly exitCode: Effect.Effect<number, DockerError>
}

export interface ContainersShape {
  /** `GET /containers/json`: running containers, or all with `all: true` (`filters`, `limit`, `size`). */
  readonly list: (options?: ContainerListArgs) => Effect.Effect<ContainerSummaryList, DockerError>
  /** `POST /containers/create`: the container config with `HostConfig` and `NetworkingConfig`. */
  readonly create: (
    config: ContainerCreateBody,
    options?: { readonly name?: string | undefined; readonly platform?: string | undefined }
  ) => Effect.Effect<ContainerCreated, DockerError>
  /** `GET /containers/{id}/json` (`size: true` adds `SizeRw` / `SizeRootFs`). */
  readonly inspect: (
    id: string,
    options?: { readonly size?: boolean | undefined }
  ) => Effect.Effect<ContainerInspectInfo, DockerError>
  /** `GET /containers/{id}/top`: the processes (`psArgs` default `-ef`). */
  readonly top: (
    id: string,
    options?: { readonly psArgs?: string | undefined }
  ) => Effect.Effect<ContainerTopInfo, DockerError>
  /**
   * `GET /containers/{id}/logs` as stdio frames (stdout and stderr unless told otherwise). Ends at
   * the end of the log, or with `follow` when the container stops; a consumer that stops early
   * closes the connection. Pipe into `stdoutLines`, `collectOutput`… from this package.
   */
  readonly logs: (id: string, options?: LogsOptions) => Stream.Stream<StdioFrame, DockerError>
  /** `GET /containers/{id}/changes`: files added (1), changed (0) or deleted (2) vs the image. */
  readonly changes: (id: string) => Effect.Effect<ContainerChangesList, DockerError>
  /** `GET /containers/{id}/export`: the filesystem as a tar byte stream. */
  readonly export: (id: string) => Stream.Stream<Uint8Array, DockerError>
  /** `GET /containers/{id}/stats?stream=1`: a sample about every second, until the consumer stops. */
  readonly stats: (id: string) => Stream.Stream<ContainerStatsInfo, DockerError>
  /** `GET /containers/{id}/stats?stream=0`: one sample (`oneShot: true` skips the priming second). */
  readonly statsOnce: (
    id: string,
    options?: { readonly oneShot?: boolean | undefined }
  ) => Effect.Effect<ContainerStatsInfo, DockerError>
  /** `POST /containers/{id}/resize`: the TTY size, in characters. */
  readonly resize: (id: string, size: { readonly h: number; readonly w: number }) => Effect.Effect<void, DockerError>
  /** `POST /containers/{id}/start`; succeeds if it was already running (304). */
  readonly start: (
    id: string,
    options?: { readonly detachKeys?: string | undefined }
  ) => Effect.Effect<void, Exclude<DockerError, NotModified>>
  /** `POST /containers/{id}/stop`; succeeds if it was already stopped (304). */
  readonly stop: (id: string, options?: StopOptions) => Effect.Effect<void, Exclude<DockerError, NotModified>>
  /** `POST /containers/{id}/restart`. */
  readonly restart: (id: string, options?: StopOptions) => Effect.Effect<void, DockerError>
  /** `POST /containers/{id}/kill` (`SIGKILL` unless `signal` says otherwise; a name or a number). */
  readonly kill: (id: string, options?: { readonly signal?: string | undefined }) => Effect.Effect<void, DockerError>
  /** `POST /containers/{id}/update`: resources and restart policy of a (running) container. */
  readonly update: (id: string, changes: ContainerUpdateBody) => Effect.Effect<ContainerUpdated, DockerError>
  /** `POST /containers/{id}/rename`. */
  readonly rename: (id: string, name: string) => Effect.Effect<void, DockerError>
  /** `POST /containers/{id}/pause` (freezes every process). */
  readonly pause: (id: string) => Effect.Effect<void, DockerError>
  /** `POST /containers/{id}/unpause`. */
  readonly unpause: (id: string) => Effect.Effect<void, DockerError>
  /**
   * `POST /containers/{id}/attach` (hijacked): output frames and stdin, for as long as `scope` is
   * open. Attach before `start` to see the output from the first byte (or ask for `logs: true`).
   */
  readonly attach: (id: string, options?: AttachOptions) => Effect.Effect<StdioSession, DockerError, Scope.Scope>
  /**
   * `POST /containers/{id}/wait`: a long poll with no time bound, interruptible. `condition`:
   * `not-running` (default; returns at once for a stopped container), `next-exit`, `removed`.
   */
  readonly wait: (
    id: string,
    options?: Omit<ContainerWaitArgs, "id">
  ) => Effect.Effect<ContainerWaitResult, DockerError>
  /** `DELETE /containers/{id}` (`force` kills it first, `v` removes anonymous volumes, `link` a link). */
  readonly remove: (id: string, options?: Omit<ContainerDeleteArgs, "id">) => Effect.Effect<void, DockerError>
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
    options?: PutArchiveOptions
  ) => Effect.Effect<void, DockerError | E>
  /** `POST /containers/prune`: removes stopped containers (narrow it with `filters`, e.g. `label`). */
  readonly prune: (options?: Omit<ContainerPruneArgs, never>) => Effect.Effect<ContainerPruned, DockerError>

  /**
   * Create, start, read its output until it exits, and its exit code (docker-py's
   * `containers.run` without `detach`). With `remove: true` the container is removed afterwards,
   * and also when the run fails or is interrupted.
   */
  readonly run: (config: ContainerCreateBody, options?: RunOptions) => Effect.Effect<RunResult, DockerError>
  /** Create and start a container that is removed (forcibly) when `scope` closes, whatever happens. */
  readonly runScoped: (
    config: ContainerCreateBody,
    options?: Omit<RunOptions, "remove" | "onOutput">
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

/** Drops `undefined` members, so options typed `x?: T | undefined` meet the generated `x?: T`. */
const compact = <T extends object>(options: T): { [K in keyof T]: Exclude<T[K], undefined> } => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value
  return out as { [K in keyof T]: Exclude<T[K], undefined> }
}

const seconds = (time: number | Date): number => typeof time === "number" ? time : time.getTime() / 1000

/** The bound for a call that may wait `t` seconds for a container to stop. */
const graceTimeout = (options: StopOptions): CallOptions => {
  if (options.timeout !== undefined) return { timeout: options.timeout }
  if (options.t === undefined || options.t < 0) return { timeout: "none" }
  return { timeout: Duration.sum(Duration.seconds(options.t), Duration.minutes(2)) }
}

const GO_MODE_DIR = 2 ** 31
const GO_MODE_SYMLINK = 2 ** 27

/** Decodes `X-Docker-Container-Path-Stat`: base64 (standard alphabet) of JSON. */
export const decodePathStat = (operation: string, header: string | ReadonlyArray<string> | undefined) => {
  const value = Array.isArray(header) ? header[0] : header
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
    decodeJsonBody(operation, PathStatWire, Buffer.from(value, "base64").toString("utf8")),
    (wire) => {
      const stat = wire as typeof PathStatWire.Type
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

const PathStatWire = Schema.Struct({
  name: Schema.String,
  size: Schema.Number,
  mode: Schema.Number,
  mtime: Schema.String,
  linkTarget: Schema.optionalKey(Schema.NullOr(Schema.String))
})

export class Containers extends Context.Service<Containers, ContainersShape>()("effect-docker/Containers") {
  static readonly layer: Layer.Layer<Containers, never, DockerEngine> = Layer.effect(Containers)(
    Effect.gen(function*() {
      const engine = yield* DockerEngine

      const inspect: ContainersShape["inspect"] = (id, options = {}) =>
        engine.json(ContainerInspect, { id, ...compact(options) })
      const ttyOf = (id: string, tty: boolean | undefined): Effect.Effect<boolean, DockerError> =>
        tty !== undefined ? Effect.succeed(tty) : Effect.map(inspect(id), (c) => c.Config?.Tty === true)

      const logs: ContainersShape["logs"] = (id, options = {}) =>
        Stream.unwrap(Effect.map(ttyOf(id, options.tty), (tty) => {
          const { since, tail, tty: _tty, until, ...rest } = options
          const args: ContainerLogsArgs = {
            id,
            stdout: true,
            stderr: true,
            ...rest,
            ...(since !== undefined ? { since: seconds(since) } : {}),
            ...(until !== undefined ? { until: seconds(until) } : {}),
            ...(tail !== undefined ? { tail: String(tail) } : {})
          }
          return engine.stream(ContainerLogs, args).pipe(stdioFrames("ContainerLogs", { tty }))
        }))

      const start: ContainersShape["start"] = (id, options = {}) =>
        engine.empty(ContainerStart, { id, ...compact(options) }).pipe(
          Effect.catchTag("NotModified", () => Effect.void)
        )

      const wait: ContainersShape["wait"] = (id, options = {}) => engine.json(ContainerWait, { id, ...options })

      const remove: ContainersShape["remove"] = (id, options = {}) => engine.empty(ContainerDelete, { id, ...options })

      const create: ContainersShape["create"] = (config, options = {}) =>
        engine.json(ContainerCreate, { ...compact({ name: options.name, platform: options.platform }), body: config })

      const runScoped: ContainersShape["runScoped"] = (config, options = {}) =>
        Effect.gen(function*() {
          const created = yield* Effect.acquireRelease(
            create(config, options),
            (created) => remove(created.Id, { force: true, v: true }).pipe(Effect.ignore)
          )
          const id = created.Id
          yield* start(id)
          const tty = config.Tty === true
          return {
            id,
            tty,
            output: logs(id, { follow: true, tty }),
            exitCode: Effect.map(wait(id, { condition: "not-running" }), (result) => result.StatusCode)
          } satisfies RunningContainer
        })

      const runToEnd = (running: RunningContainer, onOutput: RunOptions["onOutput"]) =>
        Effect.gen(function*() {
          const output = onOutput === undefined
            ? running.output
            : running.output.pipe(Stream.tap(onOutput))
          const { stderr, stdout } = yield* collectOutput(output)
          const exitCode = yield* running.exitCode
          return { id: running.id, exitCode, stdout, stderr } satisfies RunResult
        })

      const run: ContainersShape["run"] = (config, options = {}) =>
        options.remove === true
          ? Effect.scoped(Effect.flatMap(runScoped(config, options), (running) => runToEnd(running, options.onOutput)))
          : Effect.gen(function*() {
            const created = yield* create(config, options)
            yield* start(created.Id)
            const tty = config.Tty === true
            return yield* runToEnd({
              id: created.Id,
              tty,
              output: logs(created.Id, { follow: true, tty }),
              exitCode: Effect.map(wait(created.Id, { condition: "not-running" }), (result) => result.StatusCode)
            }, options.onOutput)
          })

      return {
        list: (options = {}) => engine.json(ContainerList, options),
        create,
        inspect,
        top: (id, options = {}) => engine.json(ContainerTop, { id, ...compact(options) }),
        logs,
        changes: (id) => engine.json(ContainerChanges, { id }),
        export: (id) => engine.stream(ContainerExport, { id }),
        stats: (id) => engine.messages(ContainerStats, { id, stream: true }),
        statsOnce: (id, options = {}) =>
          engine.messages(ContainerStats, { id, stream: false, ...compact(options) }).pipe(
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
        resize: (id, size) => engine.empty(ContainerResize, { id, ...size }),
        start,
        stop: (id, options = {}) =>
          engine.empty(
            ContainerStop,
            {
              id,
              ...(options.t !== undefined ? { t: options.t } : {}),
              ...(options.signal !== undefined ? { signal: options.signal } : {})
            },
            graceTimeout(options)
          ).pipe(Effect.catchTag("NotModified", () => Effect.void)),
        restart: (id, options = {}) =>
          engine.empty(
            ContainerRestart,
            {
              id,
              ...(options.t !== undefined ? { t: options.t } : {}),
              ...(options.signal !== undefined ? { signal: options.signal } : {})
            },
            graceTimeout(options)
          ),
        kill: (id, options = {}) => engine.empty(ContainerKill, { id, ...compact(options) }),
        update: (id, changes) => engine.json(ContainerUpdate, { id, body: changes }),
        rename: (id, name) => engine.empty(ContainerRename, { id, name }),
        pause: (id) => engine.empty(ContainerPause, { id }),
        unpause: (id) => engine.empty(ContainerUnpause, { id }),
        attach: (id, options = {}) =>
          Effect.gen(function*() {
            const tty = yield* ttyOf(id, options.tty)
            const { tty: _tty, ...rest } = options
            const connection = yield* engine.hijack(ContainerAttach, {
              id,
              stdin: true,
              stdout: true,
              stderr: true,
              ...rest,
              stream: true
            })
            return makeStdioSession("ContainerAttach", connection, tty)
          }),
        wait,
        remove,
        archiveInfo: (id, path) =>
          Effect.flatMap(
            engine.raw(ContainerArchiveInfo, { id, path }),
            (answer) => decodePathStat("ContainerArchiveInfo", answer.headers["x-docker-container-path-stat"])
          ),
        getArchive: (id, path) =>
          Effect.gen(function*() {
            const answer = yield* engine.open(ContainerArchive, { id, path })
            const stat = yield* decodePathStat("ContainerArchive", answer.headers["x-docker-container-path-stat"])
            return { stat, tar: answer.body } satisfies ArchiveDownload
          }),
        putArchive: <E>(id: string, path: string, tar: Stream.Stream<Uint8Array, E>, options: PutArchiveOptions = {}) =>
          withBodyStream(tar, (body) =>
            engine.empty(
              PutContainerArchive,
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
            )),
        prune: (options = {}) => engine.json(ContainerPrune, options),
        run,
        runScoped,
        port: (id, privatePort, protocol = "tcp") =>
          Effect.map(inspect(id), (c) => c.NetworkSettings?.Ports?.[`${privatePort}/${protocol}`] ?? [])
      } satisfies ContainersShape
    })
  )
}
