/**
 * BuildKit progress for people, in the spirit of the Docker CLI's: on a terminal, one line per step
 * redrawn in place (`=> [2/3] RUN make  1.2s`, a running step's last output lines under it); when
 * the output is not a TTY (CI logs, pipes, files), plain lines as `--progress=plain` prints them:
 *
 *     #3 [2/3] RUN make
 *     #3 0.412 compiling…
 *     #3 DONE 1.2s
 *
 * A sink for `images.build(source, { builder: "buildkit", onProgress: buildKitProgress() })`.
 */
import * as Effect from "effect/Effect"
import type { BuildKitEvent, ProtoTimestamp, VertexEvent } from "../wire/buildkit-status.js"

/** Options of `buildKitProgress`. */
export interface BuildKitProgressOptions {
  /** Where to write (default `process.stderr`). */
  readonly output?:
    | NodeJS.WritableStream & {
      /** Whether it is a terminal (then progress is redrawn in place). */
      readonly isTTY?: boolean
      /** Its width, when a terminal. */
      readonly columns?: number
    }
    | undefined
  /** `"auto"` (default): redrawn on a TTY, plain lines otherwise; or force one. */
  readonly mode?: "auto" | "tty" | "plain" | undefined
}

const seconds = (t: ProtoTimestamp | undefined) => t === undefined ? undefined : t.seconds + t.nanos / 1e9
const elapsed = (from: ProtoTimestamp | undefined, to: ProtoTimestamp | undefined) => {
  const a = seconds(from)
  const b = seconds(to)
  return a === undefined || b === undefined ? undefined : Math.max(0, b - a)
}

interface Step {
  readonly number: number
  vertex: VertexEvent
  announced: boolean
  done: boolean
  lines: Array<string>
  partial: string
}

/** Plain lines for one event (exported for tests: the renderer is this plus the writes). */
export const plainRenderer = () => {
  const steps = new Map<string, Step>()
  const decoder = new TextDecoder()
  const stepOf = (digest: string): Step => {
    let step = steps.get(digest)
    if (!step) {
      step = {
        number: steps.size + 1,
        vertex: { _tag: "Vertex", digest, inputs: [], name: "", cached: false },
        announced: false,
        done: false,
        lines: [],
        partial: ""
      }
      steps.set(digest, step)
    }
    return step
  }
  return (event: BuildKitEvent): string => {
    let out = ""
    switch (event._tag) {
      case "Vertex": {
        const step = stepOf(event.digest)
        step.vertex = event
        if (!step.announced && (event.started !== undefined || event.cached)) {
          step.announced = true
          out += `#${step.number} ${event.name}\n`
        }
        if (step.done) break
        if (event.cached) {
          step.done = true
          out += `#${step.number} CACHED\n`
        } else if (event.error !== undefined && event.error !== "") {
          step.done = true
          out += `#${step.number} ERROR: ${event.error}\n`
        } else if (event.completed !== undefined) {
          step.done = true
          const took = elapsed(event.started, event.completed)
          out += `#${step.number} DONE${took === undefined ? "" : ` ${took.toFixed(1)}s`}\n`
        }
        break
      }
      case "VertexLog": {
        const step = stepOf(event.vertex)
        const pieces = (step.partial + decoder.decode(event.data)).split("\n")
        step.partial = pieces.pop()!
        const at = elapsed(step.vertex.started, event.timestamp)
        for (const line of pieces) out += `#${step.number} ${at === undefined ? "" : `${at.toFixed(3)} `}${line}\n`
        break
      }
      case "VertexStatus": {
        if (event.completed === undefined) break
        const step = stepOf(event.vertex)
        const amount = event.total > 0
          ? ` ${event.current} / ${event.total}`
          : event.current > 0
          ? ` ${event.current}`
          : ""
        out += `#${step.number} ${event.name || event.id}${amount} done\n`
        break
      }
      case "VertexWarning":
        out += `WARNING: ${event.short}\n`
        break
      case "ImageId":
        out += `writing image ${event.id}\n`
        break
      case "Message":
        if (typeof event.message.stream === "string") out += event.message.stream
        break
    }
    return out
  }
}

/** The terminal view: every step's line, and the last lines of running steps. */
const ttyRenderer = (columns: () => number) => {
  const steps = new Map<string, { vertex: VertexEvent; lines: Array<string>; partial: string }>()
  const decoder = new TextDecoder()
  const started = Date.now()
  let drawn = 0
  return (event: BuildKitEvent): string => {
    let above = ""
    if (event._tag === "Vertex") {
      const step = steps.get(event.digest)
      if (step) step.vertex = event
      else steps.set(event.digest, { vertex: event, lines: [], partial: "" })
    } else if (event._tag === "VertexLog") {
      const step = steps.get(event.vertex)
      if (step) {
        const pieces = (step.partial + decoder.decode(event.data)).split("\n")
        step.partial = pieces.pop()!
        step.lines.push(...pieces)
        if (step.lines.length > 6) step.lines.splice(0, step.lines.length - 6)
      }
    } else if (event._tag === "VertexWarning") above = `WARNING: ${event.short}\n`
    else if (event._tag === "Message" && typeof event.message.stream === "string") above = event.message.stream
    const width = Math.max(20, columns() - 1)
    const fit = (line: string) => line.length > width ? line.slice(0, width) : line
    const visible = [...steps.values()].filter((s) => s.vertex.started !== undefined || s.vertex.cached)
    const finished = visible.filter((s) => s.vertex.completed !== undefined || s.vertex.cached).length
    const lines = [`[+] Building ${((Date.now() - started) / 1000).toFixed(1)}s (${finished}/${visible.length})`]
    for (const { lines: output, vertex } of visible) {
      const state = vertex.cached
        ? "CACHED"
        : vertex.error
        ? "ERROR"
        : vertex.completed
        ? `${(elapsed(vertex.started, vertex.completed) ?? 0).toFixed(1)}s`
        : ""
      lines.push(fit(` => ${vertex.name}${state === "" ? "" : `  ${state}`}`))
      if (vertex.completed === undefined && !vertex.cached) {
        for (const line of output) lines.push(fit(` => => ${line}`))
      }
    }
    const out = `${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ""}${above}${lines.join("\n")}\n`
    drawn = lines.length
    return out
  }
}

/**
 * A progress sink for BuildKit builds: redrawn on a terminal, plain lines elsewhere (or as
 * `mode` says).
 */
export const buildKitProgress = (
  options: BuildKitProgressOptions = {}
): (event: BuildKitEvent) => Effect.Effect<void> => {
  const output = options.output ?? process.stderr
  const tty = options.mode === "tty" || (options.mode !== "plain" && output.isTTY === true)
  const render = tty ? ttyRenderer(() => output.columns ?? 80) : plainRenderer()
  return (event) =>
    Effect.sync(() => {
      const text = render(event)
      if (text !== "") output.write(text)
    })
}
