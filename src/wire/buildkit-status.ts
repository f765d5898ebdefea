/**
 * BuildKit progress: the `moby.buildkit.trace` messages of a `version=2` build carry, in `aux`,
 * base64 of a protobuf `moby.buildkit.v1.StatusResponse` (moby/buildkit
 * `api/services/control/control.proto`). Decoded here into typed events — vertices (build steps),
 * their byte progress, their log output and warnings — in the order of the message, and folded
 * into what a build's caller wants at the end: the image ID, or the failing step and its last log
 * lines.
 *
 * Decoding is lossless: fields this decoder does not name (a newer BuildKit's) are kept, raw, in
 * `unknownFields`; warnings' source info and ranges are kept as their protobuf bytes.
 */
import { BuildFailedError } from "../core/errors.js"
import type { BuildInfo } from "../generated/schemas/BuildInfo.js"
import { type ProtoField, readFields, text } from "./protobuf.js"

export { BuildFailedError } from "../core/errors.js"

/** `google.protobuf.Timestamp`: seconds since the Unix epoch and nanoseconds within the second. */
export interface ProtoTimestamp {
  /** Whole seconds since the Unix epoch. */
  readonly seconds: number
  /** Nanoseconds within the second. */
  readonly nanos: number
}

/** `pb.ProgressGroup`: vertices shown as one step. */
export interface ProgressGroup {
  /** The group's id. */
  readonly id: string
  /** The name the group is shown under. */
  readonly name: string
  /** BuildKit's `weak` flag of the group (how its progress UI groups the vertices). */
  readonly weak: boolean
}

/** A build step (`Vertex`): sent again whenever its state changes (started, completed, cached, error). */
export interface VertexEvent {
  /** The event's kind. */
  readonly _tag: "Vertex"
  /** The vertex's digest: the step's identity within the build. */
  readonly digest: string
  /** The digests of the vertices it depends on. */
  readonly inputs: ReadonlyArray<string>
  /** The step's name as BuildKit shows it (`[2/3] RUN make`, `load build context`). */
  readonly name: string
  /** Answered from the build cache. */
  readonly cached: boolean
  /** When it started. */
  readonly started?: ProtoTimestamp | undefined
  /** When it completed (with or without an error). */
  readonly completed?: ProtoTimestamp | undefined
  /** Set when the step failed (with the daemon's words). */
  readonly error?: string | undefined
  /** The group it is shown in, if any. */
  readonly progressGroup?: ProgressGroup | undefined
  /** Protobuf fields this decoder does not name (from a newer BuildKit), raw. */
  readonly unknownFields?: ReadonlyArray<ProtoField> | undefined
}

/** Progress of one task of a step (`VertexStatus`): bytes of a layer, files of a context. */
export interface VertexStatusEvent {
  /** The event's kind. */
  readonly _tag: "VertexStatus"
  /** The task's id within the step (a layer digest, `transferring context`). */
  readonly id: string
  /** The digest of the step it belongs to. */
  readonly vertex: string
  /** What the task does, as BuildKit names it. */
  readonly name: string
  /** Units done so far (bytes, files). */
  readonly current: number
  /** Units in all; 0 when unknown. */
  readonly total: number
  /** When this status was sampled. */
  readonly timestamp?: ProtoTimestamp | undefined
  /** When the task started. */
  readonly started?: ProtoTimestamp | undefined
  /** When it completed. */
  readonly completed?: ProtoTimestamp | undefined
  /** Protobuf fields this decoder does not name (from a newer BuildKit), raw. */
  readonly unknownFields?: ReadonlyArray<ProtoField> | undefined
}

/** Output of a step (`VertexLog`): `stream` 1 is stdout, 2 stderr; `data` as sent (any bytes). */
export interface VertexLogEvent {
  /** The event's kind. */
  readonly _tag: "VertexLog"
  /** The digest of the step whose output this is. */
  readonly vertex: string
  /** When BuildKit read it. */
  readonly timestamp?: ProtoTimestamp | undefined
  /** 1 stdout, 2 stderr. */
  readonly stream: number
  /** The output bytes, as sent. */
  readonly data: Uint8Array
  /** Protobuf fields this decoder does not name (from a newer BuildKit), raw. */
  readonly unknownFields?: ReadonlyArray<ProtoField> | undefined
}

/** A warning about a step (`VertexWarning`, BuildKit 0.10+: Docker 23+). */
export interface VertexWarningEvent {
  /** The event's kind. */
  readonly _tag: "VertexWarning"
  /** The digest of the step it is about. */
  readonly vertex: string
  /** Its level (BuildKit's severity number). */
  readonly level: number
  /** The warning in one line. */
  readonly short: string
  /** More lines about it. */
  readonly detail: ReadonlyArray<string>
  /** A page explaining it, when BuildKit gives one. */
  readonly url: string
  /** `pb.SourceInfo` (the Dockerfile it refers to), as protobuf bytes. */
  readonly info?: Uint8Array | undefined
  /** `pb.Range`s within it, as protobuf bytes. */
  readonly ranges: ReadonlyArray<Uint8Array>
  /** Protobuf fields this decoder does not name (from a newer BuildKit), raw. */
  readonly unknownFields?: ReadonlyArray<ProtoField> | undefined
}

/** The built image (`moby.image.id`). */
export interface ImageIdEvent {
  /** The event's kind. */
  readonly _tag: "ImageId"
  /** The built image's ID (`sha256:…`). */
  readonly id: string
}

/** Any other message of the build stream (`Successfully tagged …`, a classic-style `stream`). */
export interface BuildMessageEvent {
  /** The event's kind. */
  readonly _tag: "Message"
  /** The message as the daemon sent it. */
  readonly message: BuildInfo
}

/** One decoded event of a BuildKit build's progress, told apart by `_tag`. */
export type BuildKitEvent =
  | VertexEvent
  | VertexStatusEvent
  | VertexLogEvent
  | VertexWarningEvent
  | ImageIdEvent
  | BuildMessageEvent

const timestamp = (bytes: Uint8Array): ProtoTimestamp => {
  let seconds = 0
  let nanos = 0
  for (const f of readFields(bytes)) {
    if (f.wire === 0 && f.field === 1) seconds = f.value
    else if (f.wire === 0 && f.field === 2) nanos = f.value
  }
  return { seconds, nanos }
}

const progressGroup = (bytes: Uint8Array): ProgressGroup => {
  let id = ""
  let name = ""
  let weak = false
  for (const f of readFields(bytes)) {
    if (f.wire === 2 && f.field === 1) id = text(f.value)
    else if (f.wire === 2 && f.field === 2) name = text(f.value)
    else if (f.wire === 0 && f.field === 3) weak = f.value !== 0
  }
  return { id, name, weak }
}

/** Adds `unknownFields` only when there are some, so known messages stay plain. */
const withUnknown = <A extends object>(value: A, unknown: Array<ProtoField> | undefined): A =>
  unknown === undefined ? value : { ...value, unknownFields: unknown }

const vertex = (bytes: Uint8Array): VertexEvent => {
  let digest = ""
  const inputs: Array<string> = []
  let name = ""
  let cached = false
  let started: ProtoTimestamp | undefined
  let completed: ProtoTimestamp | undefined
  let error: string | undefined
  let group: ProgressGroup | undefined
  let unknown: Array<ProtoField> | undefined
  for (const f of readFields(bytes)) {
    if (f.wire === 2 && f.field === 1) digest = text(f.value)
    else if (f.wire === 2 && f.field === 2) inputs.push(text(f.value))
    else if (f.wire === 2 && f.field === 3) name = text(f.value)
    else if (f.wire === 0 && f.field === 4) cached = f.value !== 0
    else if (f.wire === 2 && f.field === 5) started = timestamp(f.value)
    else if (f.wire === 2 && f.field === 6) completed = timestamp(f.value)
    else if (f.wire === 2 && f.field === 7) error = text(f.value)
    else if (f.wire === 2 && f.field === 8) group = progressGroup(f.value)
    else (unknown ??= []).push(f)
  }
  return withUnknown(
    { _tag: "Vertex", digest, inputs, name, cached, started, completed, error, progressGroup: group },
    unknown
  )
}

const vertexStatus = (bytes: Uint8Array): VertexStatusEvent => {
  let id = ""
  let vertexDigest = ""
  let name = ""
  let current = 0
  let total = 0
  let at: ProtoTimestamp | undefined
  let started: ProtoTimestamp | undefined
  let completed: ProtoTimestamp | undefined
  let unknown: Array<ProtoField> | undefined
  for (const f of readFields(bytes)) {
    if (f.wire === 2 && f.field === 1) id = text(f.value)
    else if (f.wire === 2 && f.field === 2) vertexDigest = text(f.value)
    else if (f.wire === 2 && f.field === 3) name = text(f.value)
    else if (f.wire === 0 && f.field === 4) current = f.value
    else if (f.wire === 0 && f.field === 5) total = f.value
    else if (f.wire === 2 && f.field === 6) at = timestamp(f.value)
    else if (f.wire === 2 && f.field === 7) started = timestamp(f.value)
    else if (f.wire === 2 && f.field === 8) completed = timestamp(f.value)
    else (unknown ??= []).push(f)
  }
  return withUnknown(
    { _tag: "VertexStatus", id, vertex: vertexDigest, name, current, total, timestamp: at, started, completed },
    unknown
  )
}

const vertexLog = (bytes: Uint8Array): VertexLogEvent => {
  let vertexDigest = ""
  let at: ProtoTimestamp | undefined
  let stream = 0
  let data: Uint8Array = new Uint8Array(0)
  let unknown: Array<ProtoField> | undefined
  for (const f of readFields(bytes)) {
    if (f.wire === 2 && f.field === 1) vertexDigest = text(f.value)
    else if (f.wire === 2 && f.field === 2) at = timestamp(f.value)
    else if (f.wire === 0 && f.field === 3) stream = f.value
    else if (f.wire === 2 && f.field === 4) data = f.value
    else (unknown ??= []).push(f)
  }
  return withUnknown({ _tag: "VertexLog", vertex: vertexDigest, timestamp: at, stream, data }, unknown)
}

const vertexWarning = (bytes: Uint8Array): VertexWarningEvent => {
  let vertexDigest = ""
  let level = 0
  let short = ""
  const detail: Array<string> = []
  let url = ""
  let info: Uint8Array | undefined
  const ranges: Array<Uint8Array> = []
  let unknown: Array<ProtoField> | undefined
  for (const f of readFields(bytes)) {
    if (f.wire === 2 && f.field === 1) vertexDigest = text(f.value)
    else if (f.wire === 0 && f.field === 2) level = f.value
    else if (f.wire === 2 && f.field === 3) short = text(f.value)
    else if (f.wire === 2 && f.field === 4) detail.push(text(f.value))
    else if (f.wire === 2 && f.field === 5) url = text(f.value)
    else if (f.wire === 2 && f.field === 6) info = f.value
    else if (f.wire === 2 && f.field === 7) ranges.push(f.value)
    else (unknown ??= []).push(f)
  }
  return withUnknown(
    { _tag: "VertexWarning", vertex: vertexDigest, level, short, detail, url, info, ranges },
    unknown
  )
}

/**
 * The events of one `StatusResponse` (protobuf bytes): its vertices, then statuses, logs and
 * warnings, each in wire order. Throws `ProtoDecodeError` on bytes that are not protobuf.
 */
export const decodeStatusResponse = (bytes: Uint8Array): Array<BuildKitEvent> => {
  const vertexes: Array<BuildKitEvent> = []
  const statuses: Array<BuildKitEvent> = []
  const logs: Array<BuildKitEvent> = []
  const warnings: Array<BuildKitEvent> = []
  for (const f of readFields(bytes)) {
    if (f.wire !== 2) continue
    if (f.field === 1) vertexes.push(vertex(f.value))
    else if (f.field === 2) statuses.push(vertexStatus(f.value))
    else if (f.field === 3) logs.push(vertexLog(f.value))
    else if (f.field === 4) warnings.push(vertexWarning(f.value))
  }
  return [...vertexes, ...statuses, ...logs, ...warnings]
}

/** The trace message's `aux` (base64 of a `StatusResponse`). */
export const decodeTraceAux = (aux: string): Array<BuildKitEvent> => decodeStatusResponse(Buffer.from(aux, "base64"))

/** The typed events of one build-stream message. */
export const buildKitEvents = (message: BuildInfo): Array<BuildKitEvent> => {
  if (message.id === "moby.buildkit.trace" && typeof message.aux === "string") return decodeTraceAux(message.aux)
  if (message.id === "moby.image.id" && typeof message.aux === "object" && typeof message.aux.ID === "string") {
    return [{ _tag: "ImageId", id: message.aux.ID }]
  }
  return [{ _tag: "Message", message }]
}

/** How many log lines of each step the fold keeps (the failing step's are in `BuildFailedError`). */
export const KEPT_LOG_LINES = 30

/** One step as the fold knows it: its latest vertex and the last lines of its output. */
export interface StepState {
  /** Its latest vertex (name, state, error). */
  readonly vertex: VertexEvent
  /** Its last output lines. */
  readonly lines: ReadonlyArray<string>
}

/**
 * The fold of a BuildKit build's events: every step by digest (in first-seen order), the last
 * `KEPT_LOG_LINES` lines of each step's output, the image ID, the step that failed.
 */
export class BuildKitProgress {
  /** Every step by digest, in first-seen order. */
  readonly steps = new Map<string, {
    /** Its latest vertex. */
    vertex: VertexEvent
    /** Its last `KEPT_LOG_LINES` complete output lines. */
    lines: Array<string>
    /** Output after its last newline. */
    partial: string
  }>()
  /** The built image's ID, once BuildKit reported it. */
  imageId: string | undefined
  /** The digest of the first step that reported an error. */
  failed: string | undefined
  /** Every warning, in order. */
  readonly warnings: Array<VertexWarningEvent> = []
  /** The build stream's other messages (`Successfully tagged …`), in order. */
  readonly messages: Array<BuildInfo> = []
  private readonly decoder = new TextDecoder("utf-8")

  /** Folds in one event. */
  add(event: BuildKitEvent): void {
    switch (event._tag) {
      case "Vertex": {
        const step = this.steps.get(event.digest)
        if (step) step.vertex = event
        else this.steps.set(event.digest, { vertex: event, lines: [], partial: "" })
        if (event.error !== undefined && event.error !== "" && this.failed === undefined) this.failed = event.digest
        return
      }
      case "VertexLog": {
        let step = this.steps.get(event.vertex)
        if (!step) {
          step = { vertex: emptyVertex(event.vertex), lines: [], partial: "" }
          this.steps.set(event.vertex, step)
        }
        const pieces = (step.partial + this.decoder.decode(event.data)).split("\n")
        step.partial = pieces.pop()!
        step.lines.push(...pieces)
        if (step.lines.length > KEPT_LOG_LINES) step.lines.splice(0, step.lines.length - KEPT_LOG_LINES)
        return
      }
      case "VertexWarning":
        this.warnings.push(event)
        return
      case "ImageId":
        this.imageId = event.id
        return
      case "Message":
        this.messages.push(event.message)
        return
      case "VertexStatus":
        return
    }
  }

  /** A step's last output lines (a line still open at the end included). */
  linesOf(digest: string): Array<string> {
    const step = this.steps.get(digest)
    if (!step) return []
    const lines = step.partial === "" ? [...step.lines] : [...step.lines, step.partial]
    return lines.slice(-KEPT_LOG_LINES)
  }

  /** The failing step (its latest vertex and last lines), when one failed. */
  failedStep(): StepState | undefined {
    const digest = this.failed
    const step = digest === undefined ? undefined : this.steps.get(digest)
    return step && digest !== undefined ? { vertex: step.vertex, lines: this.linesOf(digest) } : undefined
  }
}

const emptyVertex = (digest: string): VertexEvent => ({
  _tag: "Vertex",
  digest,
  inputs: [],
  name: "",
  cached: false
})

/** The error for a build the daemon reported failed (`daemonMessage`), from what the fold saw. */
export const buildFailure = (
  operation: string,
  daemonMessage: string,
  progress: BuildKitProgress
): BuildFailedError => {
  const failed = progress.failedStep()
  const step = failed
    ? { name: failed.vertex.name, digest: failed.vertex.digest, error: failed.vertex.error ?? "" }
    : undefined
  const tail = failed && failed.lines.length > 0 ? `\n${failed.lines.map((l) => `  ${l}`).join("\n")}` : ""
  return new BuildFailedError({
    operation,
    daemonMessage,
    step,
    logs: failed?.lines ?? [],
    message: `${operation}: ${step ? `${step.name}: ` : ""}${daemonMessage}${tail}`
  })
}
