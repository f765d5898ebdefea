/**
 * What callers do with stdio frames (from `stdio-frames.ts`): pick one stream, split into text
 * lines, collect everything, read the timestamps of `logs?timestamps=1`. Pure Stream transforms.
 *
 * Like Go's `stdcopy`, these treat a `"stdin"` frame (type 0, which the daemon does not send in
 * practice) as stdout. Text is decoded as UTF-8 per stream, so a character or a line split across
 * chunks or frames — even with frames of the other stream in between — comes out whole.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { StdioFrame } from "./stdio-frames.js"

/** A line of output, without its line terminator, tagged with the stream it came from. */
export interface StdioLine {
  /** Which stream it came from. */
  readonly stream: "stdout" | "stderr"
  /** The text, without its line terminator. */
  readonly line: string
}

/** A line of `logs` output requested with `timestamps`, split into the daemon's time and the text. */
export interface TimestampedLine extends StdioLine {
  /**
   * The RFC 3339 timestamp exactly as the daemon sent it (e.g. `2024-05-01T12:00:00.123456789Z`),
   * nanoseconds included; `undefined` when the line does not start with one (timestamps were not
   * requested). {@link timestampToDate} converts it (to millisecond precision).
   */
  readonly time: string | undefined
}

/** Frames of one stream → that stream's bytes (one view per frame, no copy). */
const bytesOf = (wanted: "stdout" | "stderr") => <E, R>(frames: Stream.Stream<StdioFrame, E, R>) =>
  Stream.mapAccumArray(frames, () => undefined, (_, chunk) => {
    const out: Array<Uint8Array> = []
    for (const frame of chunk) {
      if ((frame.stream === "stderr" ? "stderr" : "stdout") === wanted) out.push(frame.data)
    }
    return [undefined, out] as const
  })

/** Only the stdout bytes (stdin frames included, as in Go's stdcopy). */
export const stdoutBytes: <E, R>(frames: Stream.Stream<StdioFrame, E, R>) => Stream.Stream<Uint8Array, E, R> = bytesOf(
  "stdout"
)

/** Only the stderr bytes. */
export const stderrBytes: <E, R>(frames: Stream.Stream<StdioFrame, E, R>) => Stream.Stream<Uint8Array, E, R> = bytesOf(
  "stderr"
)

/**
 * Incremental UTF-8 → lines for one stream. Lines end at `\n`; one `\r` before it is dropped
 * (`\r\n` from a TTY). A lone `\r` (progress bars) stays in the line.
 */
class LineSplitter {
  private readonly decoder = new TextDecoder()
  private carry = ""

  push(bytes: Uint8Array, emit: (line: string) => void): void {
    const text = this.decoder.decode(bytes, { stream: true })
    let newline = text.indexOf("\n")
    if (newline < 0) {
      this.carry += text
      return
    }
    emit(chomp(this.carry + text.slice(0, newline)))
    let start = newline + 1
    while ((newline = text.indexOf("\n", start)) >= 0) {
      emit(chomp(text.slice(start, newline)))
      start = newline + 1
    }
    this.carry = text.slice(start)
  }

  /** The last, unterminated line (if any), with an incomplete UTF-8 sequence as U+FFFD. */
  end(emit: (line: string) => void): void {
    const rest = this.carry + this.decoder.decode()
    this.carry = ""
    if (rest.length > 0) emit(chomp(rest))
  }
}

const chomp = (line: string): string => line.endsWith("\r") ? line.slice(0, -1) : line

/**
 * Lines of stdout and stderr, each tagged with its stream, in the order their line ends arrived.
 * When the input ends, an unterminated last line is emitted (stdout's before stderr's).
 */
export const lines = <E, R>(frames: Stream.Stream<StdioFrame, E, R>): Stream.Stream<StdioLine, E, R> =>
  Stream.mapAccumArray(
    frames,
    () => ({ stdout: new LineSplitter(), stderr: new LineSplitter() }),
    (state, chunk) => {
      const out: Array<StdioLine> = []
      const emitOut = (line: string) => out.push({ stream: "stdout", line })
      const emitErr = (line: string) => out.push({ stream: "stderr", line })
      for (const frame of chunk) {
        if (frame.stream === "stderr") state.stderr.push(frame.data, emitErr)
        else state.stdout.push(frame.data, emitOut)
      }
      return [state, out] as const
    },
    {
      onHalt: (state) => {
        const out: Array<StdioLine> = []
        state.stdout.end((line) => out.push({ stream: "stdout", line }))
        state.stderr.end((line) => out.push({ stream: "stderr", line }))
        return out
      }
    }
  )

const linesOf = (wanted: "stdout" | "stderr") => <E, R>(frames: Stream.Stream<StdioFrame, E, R>) =>
  Stream.mapAccumArray(
    frames,
    () => new LineSplitter(),
    (splitter, chunk) => {
      const out: Array<string> = []
      const emit = (line: string) => out.push(line)
      for (const frame of chunk) {
        if ((frame.stream === "stderr" ? "stderr" : "stdout") === wanted) splitter.push(frame.data, emit)
      }
      return [splitter, out] as const
    },
    {
      onHalt: (splitter) => {
        const out: Array<string> = []
        splitter.end((line) => out.push(line))
        return out
      }
    }
  )

/**
 * Lines of stdout only.
 *
 * @example
 * ```ts
 * import { Containers, stdoutLines } from "effect-docker"
 *
 * const logs = (yield* Containers).logs("web", { follow: true })
 * const ready = yield* logs.pipe(stdoutLines, Stream.takeUntil((line) => line.includes("ready")), Stream.runCollect)
 * ```
 */
export const stdoutLines: <E, R>(frames: Stream.Stream<StdioFrame, E, R>) => Stream.Stream<string, E, R> = linesOf(
  "stdout"
)

/** Lines of stderr only. */
export const stderrLines: <E, R>(frames: Stream.Stream<StdioFrame, E, R>) => Stream.Stream<string, E, R> = linesOf(
  "stderr"
)

/**
 * Runs the stream and returns everything written to stdout and to stderr, as text.
 *
 * @example
 * ```ts
 * import { collectOutput, Containers } from "effect-docker"
 *
 * const { stdout, stderr } = yield* collectOutput((yield* Containers).logs("web"))
 * ```
 */
export const collectOutput = <E, R>(
  frames: Stream.Stream<StdioFrame, E, R>
): Effect.Effect<
  {
    /** Everything written to stdout (or the TTY). */
    readonly stdout: string
    /** Everything written to stderr. */
    readonly stderr: string
  },
  E,
  R
> =>
  Effect.suspend(() => {
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
    const parts = { stdout: [] as Array<string>, stderr: [] as Array<string> }
    return Stream.runForEachArray(frames, (chunk) => {
      for (const frame of chunk) {
        const key = frame.stream === "stderr" ? "stderr" : "stdout"
        parts[key].push(decoders[key].decode(frame.data, { stream: true }))
      }
      return Effect.void
    }).pipe(Effect.map(() => ({
      stdout: parts.stdout.join("") + decoders.stdout.decode(),
      stderr: parts.stderr.join("") + decoders.stderr.decode()
    })))
  })

// RFC 3339 as the daemon writes it (Go's RFC3339Nano, or the fixed 9-digit form), then one space.
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) /

/**
 * Splits the leading timestamp off a line of `logs?timestamps=1` output: `"<time> <text>"` →
 * `{ time, line: text }`, keeping `time` in its wire form. `undefined` if the line has none.
 */
export const splitTimestamp = (line: string): {
  /** The RFC 3339 timestamp as the daemon sent it. */
  readonly time: string
  /** The rest of the line. */
  readonly line: string
} | undefined => {
  const match = TIMESTAMP.exec(line)
  return match ? { time: match[1]!, line: line.slice(match[0].length) } : undefined
}

/** `stdioLines` of `logs?timestamps=1` output, with each line's timestamp split off. */
export const timestampedLines = <E, R>(
  lines: Stream.Stream<StdioLine, E, R>
): Stream.Stream<TimestampedLine, E, R> =>
  Stream.map(lines, (l): TimestampedLine => {
    const split = splitTimestamp(l.line)
    return split
      ? { stream: l.stream, time: split.time, line: split.line }
      : { stream: l.stream, time: undefined, line: l.line }
  })

/** A wire timestamp as a `Date` (which keeps milliseconds only; the wire form keeps nanoseconds). */
export const timestampToDate = (time: string): Date => new Date(time.replace(/(\.\d{3})\d+/, "$1"))
