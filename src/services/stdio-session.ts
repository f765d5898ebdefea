/**
 * A hijacked attach / exec-start connection as Effect values: the process's output as a `Stream`
 * of stdio frames, its stdin as a `Sink` (or chunk by chunk), and a half-close that gives the
 * process EOF while the output keeps flowing until the daemon closes the connection.
 */
import { NodeSink, NodeStream } from "@effect/platform-node"
import { Effect, Sink, Stream } from "effect"
import type { ConnectionError, DockerError } from "../core/errors.js"
import type { HijackedConnection } from "../engine/engine.js"
import { type StdioFrame, stdioFrames } from "../wire/stdio-frames.js"

/** An attached process: output out, stdin in. Lives as long as the scope it was opened in. */
export interface StdioSession {
  /**
   * What the daemon sends until it closes the connection (the process ended, or its streams were
   * closed): multiplexed frames, or with a TTY raw terminal output as `"stdout"` frames. Run it
   * once; a second run sees only what the first did not read. Stopping early does not close the
   * connection (stdin may still be in use): closing the scope does.
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

export const makeStdioSession = (operation: string, connection: HijackedConnection, tty: boolean): StdioSession => {
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
  }).pipe(stdioFrames(operation, { tty }))
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
