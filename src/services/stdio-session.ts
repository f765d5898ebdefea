/**
 * A hijacked attach / exec-start connection as Effect values: the process's output as a `Stream`
 * of stdio frames, its stdin as a `Sink` (or chunk by chunk), and a half-close that gives the
 * process EOF while the output keeps flowing until the daemon closes the connection.
 *
 * How a session ends, and why `output` asks the daemon once it has: when the process's streams
 * are done, moby's attach and exec-start handlers return and `httputils.CloseStreams` half-closes
 * the hijacked connection (`CloseWrite`); the daemon lives on. When dockerd crashes, the kernel
 * closes its sockets, which the client reads as the very same EOF (or as ECONNRESET, if the
 * daemon died with stdin bytes of ours unread). The bytes cannot tell the two apart, so a clean
 * end is only believed once the daemon answers a ping.
 */
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Effect from "effect/Effect"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { ConnectionError, type DockerError } from "../core/errors.js"
import type { DockerEngineShape, HijackedConnection } from "../engine/engine.js"
import { SystemPing } from "../generated/operations/system/SystemPing.js"
import { type StdioFrame, stdioFrames } from "../wire/stdio-frames.js"

/** An attached process: output out, stdin in. Lives as long as the scope it was opened in. */
export interface StdioSession {
  /**
   * What the daemon sends until it closes the connection: multiplexed frames, or with a TTY raw
   * terminal output as `"stdout"` frames. Run it once; a second run sees only what the first did
   * not read. Stopping early does not close the connection (stdin may still be in use): closing
   * the scope does.
   *
   * How it ends:
   * - **successfully** when the daemon closes the connection at a frame boundary (any point, with
   *   a TTY) and then still answers `GET /_ping`: the process ended or its streams were closed
   *   (an attach with `stream: false` also ends so, after the replay);
   * - with **`ConnectionError`** (`code` of the ping's failure, e.g. `ECONNREFUSED`, `ENOENT`)
   *   when the daemon no longer answers after that close (or the ping times out after 30 s): the
   *   daemon went away during the session and the process's end is unknown;
   * - with **`ConnectionError`** (`code` `ECONNRESET`, `EPIPE`…) when the connection fails;
   * - with **`StdioStreamError`** (`reason: "Truncated"`) when it closes inside a frame, and with
   *   its other reasons on a type-3 frame or a corrupt header.
   * Frames that arrived before a failure are delivered first.
   */
  readonly output: Stream.Stream<StdioFrame, DockerError>
  /**
   * Writes everything it receives to the process's stdin (with backpressure), then half-closes:
   * the process sees EOF, and `output` keeps flowing. It half-closes too when its input fails or
   * is interrupted.
   */
  readonly stdin: Sink.Sink<void, Uint8Array | string, never, ConnectionError>
  /** Writes one chunk to stdin; completes once the chunk has been handed to the socket. */
  readonly write: (data: Uint8Array | string) => Effect.Effect<void, ConnectionError>
  /** Half-closes stdin (EOF for the process); `output` keeps flowing. Idempotent. */
  readonly closeStdin: Effect.Effect<void>
  /** `true` when the stream is raw (TTY), `false` when it is multiplexed. */
  readonly tty: boolean
}

/** The ping that confirms a clean end: long enough for a busy daemon, short enough not to hang. */
const PROBE_TIMEOUT = "30 seconds"

/**
 * After the daemon closed a session's connection cleanly: fails with a `ConnectionError` for
 * `operation` if the daemon cannot be reached any more. Any answer, even a refusal, means it is
 * there (the process ended).
 */
const daemonStillThere = (engine: DockerEngineShape, operation: string): Effect.Effect<void, ConnectionError> =>
  engine.raw(SystemPing, {}, { timeout: PROBE_TIMEOUT }).pipe(
    Effect.asVoid,
    Effect.catch((error: DockerError) =>
      error._tag === "ConnectionError" || error._tag === "OperationTimeoutError"
        ? Effect.fail(
          new ConnectionError({
            operation,
            endpoint: engine.address,
            code: error._tag === "ConnectionError" ? error.code : undefined,
            message: `${operation}: the daemon closed the session's connection and no longer answers ` +
              `(${error.message}): it went away during the session, so how the process ended is unknown`,
            cause: error
          })
        )
        : Effect.void
    )
  )

export const makeStdioSession = (
  engine: DockerEngineShape,
  operation: string,
  connection: HijackedConnection,
  tty: boolean
): StdioSession => {
  const socket = connection.socket
  const onError = connection.connectionError
  const closeStdin = Effect.sync(() => {
    if (!socket.destroyed && !socket.writableEnded) socket.end()
  })
  const output = NodeStream.fromReadable<Uint8Array, ConnectionError>({
    evaluate: () => socket,
    onError,
    // The socket belongs to the scope the session was opened in: stdin may outlive the output.
    closeOnDone: false
  }).pipe(
    stdioFrames(operation, { tty }),
    // Runs only after a clean end at a frame boundary (not when the consumer stops early).
    Stream.concat(Stream.fromEffectDrain(daemonStillThere(engine, operation)))
  )
  const stdin = NodeSink.fromWritable<ConnectionError, Uint8Array | string>({
    evaluate: () => socket,
    onError,
    endOnDone: false
  }).pipe(Sink.ensuring(closeStdin))
  const write = (data: Uint8Array | string) =>
    Effect.callback<void, ConnectionError>((resume) => {
      socket.write(data, (error) => resume(error ? Effect.fail(onError(error)) : Effect.void))
    })
  return { output, stdin, write, closeStdin, tty }
}
