/**
 * BuildKit progress decoding: recorded `POST /build?version=2` answers of both engines
 * (test/fixtures/buildkit, recorded by scripts/record-buildkit-traces.ts) decode the same however
 * the socket cuts them, and into what the daemon said; arbitrary StatusResponses encoded from
 * control.proto's field numbers decode back to themselves, unknown fields kept.
 */
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { BuildInfo } from "../../../src/generated/schemas/BuildInfo.js"
import {
  buildFailure,
  type BuildKitEvent,
  buildKitEvents,
  BuildKitProgress,
  decodeStatusResponse,
  KEPT_LOG_LINES,
  type ProtoTimestamp
} from "../../../src/wire/buildkit-status.js"
import { jsonValues } from "../../../src/wire/json-messages.js"
import { ProtoDecodeError, ProtoWriter, readFields } from "../../../src/wire/protobuf.js"
import { chunked } from "../../support/chunking.js"

const FIXTURES = join(import.meta.dirname, "../../fixtures/buildkit")
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".jsonl")).sort()
const raw = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)))
const messagesOf = (bytes: Uint8Array) =>
  bytes.length === 0 ? [] : Buffer.from(bytes).toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))

const eventsOf = (chunks: ReadonlyArray<Uint8Array>): Array<BuildKitEvent> =>
  Effect.runSync(Stream.runCollect(jsonValues(Stream.fromIterable(chunks)))).flatMap((m) =>
    buildKitEvents(m as BuildInfo)
  )

describe("recorded BuildKit traces (both engines)", () => {
  it("there are traces of both engine generations", () => {
    expect(fixtures.some((f) => f.startsWith("docker-20.10-"))).toBe(true)
    expect(fixtures.some((f) => f.startsWith("docker-latest-"))).toBe(true)
  })

  for (const name of fixtures) {
    it(`${name}: any chunking gives the same events`, () => {
      const bytes = raw(name)
      const whole = eventsOf([bytes])
      expect(whole.length).toBeGreaterThan(5)
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          expect(eventsOf(chunked(bytes, cuts))).toEqual(whole)
        }),
        { numRuns: 100 }
      )
    })

    it(`${name}: every trace decodes losslessly — every field known, and re-encoding gives the daemon's bytes`, () => {
      for (const message of messagesOf(raw(name))) {
        if (message.id !== "moby.buildkit.trace") continue
        const bytes = new Uint8Array(Buffer.from(message.aux, "base64"))
        const events = decodeStatusResponse(bytes)
        for (const event of events) expect(event).not.toHaveProperty("unknownFields")
        expect(encodeStatus(events)).toEqual(bytes)
      }
    })
  }

  it("a successful trace: named steps completed, byte progress, output by stream, the image ID", () => {
    for (const engine of ["docker-20.10", "docker-latest"]) {
      const events = eventsOf([raw(`${engine}-multi-stage.jsonl`)])
      const progress = new BuildKitProgress()
      for (const e of events) progress.add(e)
      expect(progress.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(progress.failed).toBeUndefined()
      const run = [...progress.steps.values()].find((s) => s.vertex.name.includes("RUN echo to-stdout"))!
      expect(run.vertex.completed).toBeDefined()
      expect(progress.linesOf(run.vertex.digest)).toEqual(expect.arrayContaining(["to-stdout", "to-stderr", "20"]))
      const logs = events.filter((e) => e._tag === "VertexLog" && e.vertex === run.vertex.digest)
      expect(new Set(logs.map((l) => (l as { stream: number }).stream))).toEqual(new Set([1, 2]))
      expect(events.some((e) => e._tag === "VertexStatus" && e.total > 0 || e._tag === "VertexStatus")).toBe(true)
    }
  })

  it("a failing trace folds into the failing step and its last lines", () => {
    for (const engine of ["docker-20.10", "docker-latest"]) {
      const messages = messagesOf(raw(`${engine}-failing.jsonl`))
      const progress = new BuildKitProgress()
      for (const m of messages) for (const e of buildKitEvents(m)) progress.add(e)
      const failed = progress.failedStep()!
      expect(failed.vertex.name).toContain("RUN echo about-to-fail")
      expect(failed.vertex.error).toMatch(/exit code: 7/)
      // stdout and stderr are two streams: their relative order is the daemon's
      expect([...failed.lines].sort()).toEqual(["about-to-fail", "oops"])
      const daemonMessage = messages.find((m) => m.error !== undefined).error as string
      const error = buildFailure("ImageBuild", daemonMessage, progress)
      expect(error.step?.name).toBe(failed.vertex.name)
      expect(error.logs).toEqual(failed.lines)
      expect(error.message).toContain("oops")
    }
  })

  it("the newest engine's lint warnings decode (28.x: FromAsCasing, LegacyKeyValueFormat)", () => {
    const warnings = eventsOf([raw("docker-latest-warnings.jsonl")]).filter((e) => e._tag === "VertexWarning")
    expect(warnings.map((w) => w.short)).toEqual([
      expect.stringContaining("FromAsCasing"),
      expect.stringContaining("LegacyKeyValueFormat")
    ])
    expect(warnings[0]!.url).toMatch(/^https:\/\//)
    expect(warnings[0]!.info).toBeDefined()
  })
})

// A test-side encoder from control.proto's field numbers (independent of the decoder's code).
const ts = (w: ProtoWriter, field: number, t: ProtoTimestamp | undefined) =>
  t === undefined ? w : w.bytes(field, new ProtoWriter().uint(1, t.seconds).uint(2, t.nanos).finish(), true)

const encodeEvent = (e: BuildKitEvent): [number, Uint8Array] | undefined => {
  const w = new ProtoWriter()
  switch (e._tag) {
    case "Vertex":
      w.bytes(1, e.digest)
      for (const i of e.inputs) w.bytes(2, i, true)
      w.bytes(3, e.name).uint(4, e.cached)
      ts(w, 5, e.started)
      ts(w, 6, e.completed)
      if (e.error !== undefined) w.bytes(7, e.error, true)
      if (e.progressGroup) {
        w.bytes(
          8,
          new ProtoWriter().bytes(1, e.progressGroup.id).bytes(2, e.progressGroup.name).uint(3, e.progressGroup.weak)
            .finish(),
          true
        )
      }
      return [1, w.finish()]
    case "VertexStatus":
      w.bytes(1, e.id).bytes(2, e.vertex).bytes(3, e.name).uint(4, e.current).uint(5, e.total)
      ts(w, 6, e.timestamp)
      ts(w, 7, e.started)
      ts(w, 8, e.completed)
      return [2, w.finish()]
    case "VertexLog":
      w.bytes(1, e.vertex)
      ts(w, 2, e.timestamp)
      w.uint(3, e.stream).bytes(4, e.data)
      return [3, w.finish()]
    case "VertexWarning":
      w.bytes(1, e.vertex).uint(2, e.level).bytes(3, e.short)
      for (const d of e.detail) w.bytes(4, d, true)
      w.bytes(5, e.url)
      if (e.info) w.bytes(6, e.info, true)
      for (const r of e.ranges) w.bytes(7, r, true)
      return [4, w.finish()]
    default:
      return undefined
  }
}

const encodeStatus = (events: ReadonlyArray<BuildKitEvent>): Uint8Array => {
  const w = new ProtoWriter()
  for (const e of events) {
    const encoded = encodeEvent(e)
    if (encoded) w.bytes(encoded[0], encoded[1], true)
  }
  return w.finish()
}

const text = fc.string({ unit: "grapheme", maxLength: 30 })
const timestamp = fc.option(
  fc.record({ seconds: fc.integer({ min: 0, max: 2 ** 40 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
  { nil: undefined }
)
const vertexArb = fc.record({
  _tag: fc.constant("Vertex" as const),
  digest: text,
  inputs: fc.array(text, { maxLength: 3 }),
  name: text,
  cached: fc.boolean(),
  started: timestamp,
  completed: timestamp,
  error: fc.option(text, { nil: undefined }),
  progressGroup: fc.option(fc.record({ id: text, name: text, weak: fc.boolean() }), { nil: undefined })
})
const statusArb = fc.record({
  _tag: fc.constant("VertexStatus" as const),
  id: text,
  vertex: text,
  name: text,
  current: fc.maxSafeNat(),
  total: fc.maxSafeNat(),
  timestamp,
  started: timestamp,
  completed: timestamp
})
const logArb = fc.record({
  _tag: fc.constant("VertexLog" as const),
  vertex: text,
  timestamp,
  stream: fc.integer({ min: 0, max: 2 }),
  data: fc.uint8Array({ maxLength: 64 })
})
const warningArb = fc.record({
  _tag: fc.constant("VertexWarning" as const),
  vertex: text,
  level: fc.integer({ min: 0, max: 3 }),
  short: text,
  detail: fc.array(text, { maxLength: 3 }),
  url: text,
  info: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined }),
  ranges: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 2 })
})

describe("decodeStatusResponse", () => {
  it("decodes any StatusResponse back to what was encoded (vertices, statuses, logs, warnings in order)", () => {
    fc.assert(
      fc.property(
        fc.array(vertexArb, { maxLength: 4 }),
        fc.array(statusArb, { maxLength: 4 }),
        fc.array(logArb, { maxLength: 4 }),
        fc.array(warningArb, { maxLength: 3 }),
        (vertices, statuses, logs, warnings) => {
          const events: Array<BuildKitEvent> = [...vertices, ...statuses, ...logs, ...warnings]
          const decoded = decodeStatusResponse(encodeStatus(events))
          // Proto3 does not tell an absent string from an empty one: the decoder says absent for
          // `error` only when nothing was sent.
          expect(decoded).toEqual(events)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("keeps fields it does not know (a newer BuildKit's) in unknownFields", () => {
    const vertex = new ProtoWriter().bytes(1, "sha256:a").bytes(3, "step").uint(99, 7).bytes(100, "new").finish()
    const [event] = decodeStatusResponse(new ProtoWriter().bytes(1, vertex).finish())
    expect(event).toMatchObject({ _tag: "Vertex", digest: "sha256:a", name: "step" })
    const unknown = (event as unknown as { unknownFields: ReturnType<typeof readFields> }).unknownFields
    expect(unknown.map((f) => [f.field, f.wire])).toEqual([[99, 0], [100, 2]])
  })

  it("refuses bytes that are not protobuf (truncated, bad wire type) with ProtoDecodeError", () => {
    const good = new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, "sha256:abc").finish()).finish()
    for (let end = 1; end < good.length; end++) {
      expect(() => decodeStatusResponse(good.subarray(0, end))).toThrow(ProtoDecodeError)
    }
    expect(() => decodeStatusResponse(Uint8Array.from([0x0b]))).toThrow(ProtoDecodeError) // wire type 3 (group)
  })

  it("negative int64 and values up to 2^53 survive", () => {
    const status = new ProtoWriter().uint(4, 2 ** 53 - 1).uint(5, -1).finish()
    const [event] = decodeStatusResponse(new ProtoWriter().bytes(2, status).finish())
    expect(event).toMatchObject({ current: 2 ** 53 - 1, total: -1 })
  })
})

describe("BuildKitProgress", () => {
  it("keeps the last lines of each step, a line split across log messages joined", () => {
    const progress = new BuildKitProgress()
    const log = (data: string): BuildKitEvent => ({
      _tag: "VertexLog",
      vertex: "d",
      stream: 1,
      data: new TextEncoder().encode(data)
    })
    progress.add({ _tag: "Vertex", digest: "d", inputs: [], name: "RUN x", cached: false })
    progress.add(log("hel"))
    progress.add(log("lo\nwor"))
    progress.add(log("ld\n"))
    for (let i = 0; i < KEPT_LOG_LINES + 5; i++) progress.add(log(`line ${i}\n`))
    progress.add(log("open"))
    const lines = progress.linesOf("d")
    expect(lines).toHaveLength(KEPT_LOG_LINES)
    expect(lines.at(-1)).toBe("open")
    expect(lines.at(-2)).toBe(`line ${KEPT_LOG_LINES + 4}`)
    const early = new BuildKitProgress()
    early.add({ _tag: "Vertex", digest: "d", inputs: [], name: "RUN x", cached: false })
    early.add(log("hel"))
    early.add(log("lo\nwor"))
    early.add(log("ld\n"))
    expect(early.linesOf("d")).toEqual(["hello", "world"])
  })
})
