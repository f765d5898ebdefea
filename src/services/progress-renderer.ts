/**
 * Progress on a terminal, as the Docker CLI shows it: one line per layer with a bar, redrawn in
 * place, and build output above it. Nothing is written when the output is not a TTY (CI logs,
 * pipes), so the same program can always pass a renderer.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ProgressBoard, type ProgressMessage } from "../wire/progress.js"

/** Options of `terminalProgress`. */
export interface TerminalProgressOptions {
  /** Where to draw (default `process.stderr`); nothing is drawn unless it is a TTY. */
  readonly output?:
    | NodeJS.WritableStream & {
      /** Whether it is a terminal (then progress is redrawn in place). */
      readonly isTTY?: boolean
      /** Its width, when a terminal. */
      readonly columns?: number
    }
    | undefined
}

/**
 * A progress sink for a run-to-completion call (`images.pull(ref, { onProgress: terminalProgress() })`):
 * each message redraws the per-layer lines; build output is printed above them.
 *
 * @example
 * ```ts
 * import { Images, terminalProgress } from "effect-docker"
 *
 * yield* (yield* Images).pull("busybox:latest", { onProgress: terminalProgress() })
 * ```
 */
export const terminalProgress = (
  options: TerminalProgressOptions = {}
): (message: ProgressMessage) => Effect.Effect<void> => {
  const output = options.output ?? process.stderr
  if (output.isTTY !== true) return () => Effect.void
  const board = new ProgressBoard()
  let drawn = 0
  return (message) =>
    Effect.sync(() => {
      const text = board.apply(message)
      const width = Math.max(20, (output.columns ?? 80) - 1)
      let out = drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ""
      if (text !== undefined) out += text
      const lines = board.render()
      for (const line of lines) out += `${line.length > width ? line.slice(0, width) : line}\n`
      drawn = lines.length
      output.write(out)
    })
}

/** Draws a progress stream's messages on the terminal as they pass (see `terminalProgress`). */
export const renderProgress = (options: TerminalProgressOptions = {}) => {
  const sink = terminalProgress(options)
  return <A extends ProgressMessage, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.tap(stream, sink)
}
