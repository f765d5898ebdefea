import { Cause, Effect, Exit, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { StdioStreamError } from "../../../src/core/errors.js"
import { demux, FrameDecoder, raw, type StdioFrame, stdioFrames } from "../../../src/wire/stdio-frames.js"
import {
  collectOutput,
  lines,
  splitTimestamp,
  stderrBytes,
  stderrLines,
  stdoutBytes,
  stdoutLines,
  timestampedLines,
  timestampToDate
} from "../../../src/wire/stdio.js"
import { chunked } from "../../support/chunking.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// --- building inputs ---------------------------------------------------------------------------

const frame = (type: number, payload: Uint8Array | string): Uint8Array => {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload
  const out = new Uint8Array(8 + data.length)
  out[0] = type
  new DataView(out.buffer).setUint32(4, data.length)
  out.set(data, 8)
  return out
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Deterministic pseudo-random bytes (large payloads are cheaper to make than to generate). */
const bytesFrom = (seed: number, size: number): Uint8Array => {
  const out = new Uint8Array(size)
  let x = seed | 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

interface FrameSpec {
  readonly type: 0 | 1 | 2
  readonly payload: Uint8Array
}

const STREAM = ["stdin", "stdout", "stderr"] as const

const arbFrame: fc.Arbitrary<FrameSpec> = fc.record({
  type: fc.constantFrom(0 as const, 1 as const, 2 as const),
  size: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: 41, max: 5000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 64 * 1024, max: 100 * 1024 }) }
  ),
  seed: fc.integer()
}).map(({ seed, size, type }) => ({ type, payload: bytesFrom(seed, size) }))

/** Cut points: a few anywhere, or many close together (tiny chunks, headers split byte by byte). */
const arbCuts = fc.oneof(
  fc.array(fc.nat(), { maxLength: 30 }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 9 })).map(([from, step]) =>
    Array.from({ length: 60 }, (_, i) => from + i * step)
  )
)

// --- running -----------------------------------------------------------------------------------

interface Outcome {
  readonly frames: ReadonlyArray<StdioFrame>
  readonly error: StdioStreamError | undefined
}

/**
 * The chunks as a byte stream: one chunk per pull, as a socket delivers them, or (every other
 * call) all in one pull, so state is exercised both across pulls and within one.
 */
let batched = false
const source = (chunks: ReadonlyArray<Uint8Array>) =>
  (batched = !batched) ? Stream.fromIterable(chunks) : Stream.fromIterable(chunks, { chunkSize: 1 })

/** Runs `demux` over the chunks, keeping the frames emitted before any failure. */
const run = (chunks: ReadonlyArray<Uint8Array>): Outcome => {
  const frames: Array<StdioFrame> = []
  const exit = Effect.runSyncExit(
    Stream.runForEach(demux("ContainerLogs")(source(chunks)), (f) => Effect.sync(() => frames.push(f)))
  )
  if (Exit.isSuccess(exit)) return { frames, error: undefined }
  const reason = exit.cause.reasons[0]
  if (reason && Cause.isFailReason(reason)) return { frames, error: reason.error }
  throw new Error(`unexpected cause: ${Cause.pretty(exit.cause)}`)
}

const normalise = (frames: ReadonlyArray<StdioFrame>) =>
  frames.map((f) => ({ stream: f.stream, data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength) }))

const expected = (specs: ReadonlyArray<FrameSpec>) =>
  specs.map((s) => ({ stream: STREAM[s.type], data: Buffer.from(s.payload) }))

// --- demux ---------------------------------------------------------------------------------------

describe("demux", () => {
  it("any chunking of any frame sequence gives the same frames, byte for byte", () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 12 }), arbCuts, (specs, cuts) => {
        const input = concat(specs.map((s) => frame(s.type, s.payload)))
        const { error, frames } = run(chunked(input, cuts))
        expect(error).toBeUndefined()
        expect(normalise(frames)).toEqual(expected(specs))
      }),
      { numRuns: 300 }
    )
  })

  it("a payload wholly inside one chunk is a view of that chunk (zero copy); a spanning one is not", () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 12 }), arbCuts, (specs, cuts) => {
        const input = concat(specs.map((s) => frame(s.type, s.payload)))
        const chunks = chunked(input, cuts)
        const out: Array<StdioFrame> = []
        const decoder = new FrameDecoder("Op")
        const owners: Array<Uint8Array | undefined> = []
        for (const chunk of chunks) {
          const before = out.length
          expect(decoder.push(chunk, out)).toBeUndefined()
          for (let i = before; i < out.length; i++) owners.push(chunk)
        }
        expect(decoder.end()).toBeUndefined()
        expect(normalise(out)).toEqual(expected(specs))
        // A frame that came out of chunk C shares C's buffer iff its payload lay wholly in C (its
        // header may have been split); an empty payload has nothing to copy.
        let at = 0
        const starts = specs.map((s) => {
          const start = at
          at += 8 + s.payload.length
          return start
        })
        const chunkStarts: Array<number> = []
        let c = 0
        for (const chunk of chunks) {
          chunkStarts.push(c)
          c += chunk.length
        }
        out.forEach((f, i) => {
          const owner = owners[i]!
          const ownerStart = chunkStarts[chunks.indexOf(owner)]!
          const payloadStart = starts[i]! + 8
          const inside = payloadStart >= ownerStart && payloadStart + f.data.length <= ownerStart + owner.length
          if (f.data.length > 0) expect(f.data.buffer === owner.buffer).toBe(inside)
        })
      }),
      { numRuns: 200 }
    )
  })

  it("zero-length frames come out as empty data, in order", () => {
    const input = concat([frame(1, ""), frame(2, ""), frame(1, "x"), frame(0, "")])
    for (let cut = 0; cut <= input.length; cut++) {
      const { error, frames } = run([input.slice(0, cut), input.slice(cut)])
      expect(error).toBeUndefined()
      expect(frames.map((f) => [f.stream, decoder.decode(f.data)])).toEqual([
        ["stdout", ""],
        ["stderr", ""],
        ["stdout", "x"],
        ["stdin", ""]
      ])
    }
  })

  it("a type-3 (systemerr) frame fails the stream with the daemon's text, after the frames before it", () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { maxLength: 6 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }),
        fc.array(arbFrame, { maxLength: 3 }),
        arbCuts,
        (before, text, after, cuts) => {
          const input = concat([
            ...before.map((s) => frame(s.type, s.payload)),
            frame(3, `${text}\n`),
            ...after.map((s) => frame(s.type, s.payload))
          ])
          const { error, frames } = run(chunked(input, cuts))
          expect(normalise(frames)).toEqual(expected(before))
          expect(error).toMatchObject({
            _tag: "StdioStreamError",
            operation: "ContainerLogs",
            reason: "SystemError",
            daemonMessage: text.trimEnd(),
            message: `ContainerLogs: ${text.trimEnd()}`
          })
        }
      ),
      { numRuns: 200 }
    )
  })

  it("an unknown stream type or non-zero padding fails with BadHeader, saying where and what", () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { maxLength: 5 }),
        fc.oneof(
          fc.integer({ min: 4, max: 255 }).map((t) => [t, 0]),
          fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 255 }))
        ),
        arbCuts,
        (before, [type, pad], cuts) => {
          const bad = frame(1, "payload")
          bad[0] = type!
          bad[2] = pad!
          const prefix = concat(before.map((s) => frame(s.type, s.payload)))
          const { error, frames } = run(chunked(concat([prefix, bad]), cuts))
          expect(normalise(frames)).toEqual(expected(before))
          expect(error?.reason).toBe("BadHeader")
          expect(error?.daemonMessage).toBeUndefined()
          expect(error?.message).toContain(`at byte ${prefix.length}`)
          expect(error?.message).toContain(type! > 3 ? `unknown stream type ${type}` : "non-zero padding")
        }
      ),
      { numRuns: 200 }
    )
  })

  it("a TTY stream read as framed fails at once instead of allocating a bogus frame", () => {
    const { error, frames } = run([encoder.encode("root@c0ffee:/# ls\r\n")])
    expect(frames).toEqual([])
    expect(error?.message).toBe(
      "ContainerLogs: invalid frame header [72 6f 6f 74 40 63 30 66] at byte 0: unknown stream type 114 " +
        "(is the stream raw, i.e. was the container or exec started with Tty: true?)"
    )
  })

  it("a stream that ends inside a frame fails with Truncated, after the complete frames", () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 6 }), arbFrame, fc.nat(), arbCuts, (before, last, keep, cuts) => {
        const lastBytes = frame(last.type, last.payload)
        const cut = 1 + (keep % (lastBytes.length - 1)) // 1 .. length-1 bytes of the last frame
        const input = concat([...before.map((s) => frame(s.type, s.payload)), lastBytes.subarray(0, cut)])
        const { error, frames } = run(chunked(input, cuts))
        expect(normalise(frames)).toEqual(expected(before))
        expect(error?.reason).toBe("Truncated")
        expect(error?.message).toContain(
          cut < 8 ? `inside a frame header (${cut} of 8 bytes)` : `(${cut - 8} of ${last.payload.length} payload bytes)`
        )
      }),
      { numRuns: 200 }
    )
  })

  it("a frame announced above 16 MiB is assembled from its parts (no up-front allocation)", () => {
    const payload = bytesFrom(7, 17 * 1024 * 1024 + 3)
    const input = concat([frame(2, payload), frame(1, "after")])
    const chunks = chunked(input, Array.from({ length: 260 }, (_, i) => i * 65_536 + 5))
    const { error, frames } = run(chunks)
    expect(error).toBeUndefined()
    expect(frames.map((f) => f.stream)).toEqual(["stderr", "stdout"])
    expect(Buffer.from(frames[0]!.data).equals(Buffer.from(payload))).toBe(true)
    expect(decoder.decode(frames[1]!.data)).toBe("after")
    const received = chunks.slice(0, 100).reduce((n, c) => n + c.length, 0) - 8
    expect(run(chunks.slice(0, 100)).error?.message).toBe(
      `ContainerLogs: stream ended inside a stderr frame (${received} of ${payload.length} payload bytes)`
    )
  })

  it("an empty input and empty chunks are fine", () => {
    expect(run([])).toEqual({ frames: [], error: undefined })
    const { frames } = run([new Uint8Array(0), frame(1, "a"), new Uint8Array(0)])
    expect(normalise(frames)).toEqual([{ stream: "stdout", data: Buffer.from("a") }])
  })

  it("can be run twice (no state shared between runs)", () => {
    const input = frame(1, "abc")
    const stream = demux("Op")(Stream.fromIterable([input.slice(0, 5), input.slice(5)]))
    const once = Effect.runSync(Stream.runCollect(stream))
    const twice = Effect.runSync(Stream.runCollect(stream))
    expect(normalise(twice)).toEqual(normalise(once))
  })

  it("the decoder stays failed after an error", () => {
    const decoder = new FrameDecoder("Op")
    const first = decoder.push(frame(3, "boom"), [])
    expect(first?.daemonMessage).toBe("boom")
    expect(decoder.push(frame(1, "x"), [])).toBe(first)
    expect(decoder.end()).toBe(first)
  })
})

describe("raw (TTY) and stdioFrames", () => {
  it("raw passes every chunk through as stdout, header-like bytes included", () => {
    const chunks = [frame(2, "not a frame"), encoder.encode("plain")]
    const frames = Effect.runSync(Stream.runCollect(raw(Stream.fromIterable(chunks))))
    expect(frames).toEqual(chunks.map((data) => ({ stream: "stdout", data })))
  })

  it("stdioFrames chooses from the TTY setting, not the bytes", () => {
    const input = [frame(2, "oops")]
    const tty = Effect.runSync(Stream.runCollect(stdioFrames("Op", { tty: true })(Stream.fromIterable(input))))
    const framed = Effect.runSync(Stream.runCollect(stdioFrames("Op", { tty: false })(Stream.fromIterable(input))))
    expect(tty.map((f) => f.data)).toEqual(input)
    expect(framed.map((f) => [f.stream, decoder.decode(f.data)])).toEqual([["stderr", "oops"]])
  })
})

// --- helpers -----------------------------------------------------------------------------------

/**
 * Writes `stdoutText` and `stderrText` as frames: each text's bytes are split at arbitrary points
 * (so characters and lines are split across frames), and the two streams' frames interleaved.
 */
const arbOutput = fc
  .record({
    stdoutLines: fc.array(fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)), {
      maxLength: 8
    }),
    stderrLines: fc.array(fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)), {
      maxLength: 8
    }),
    terminated: fc.tuple(fc.boolean(), fc.boolean()),
    crlf: fc.boolean(),
    outCuts: fc.array(fc.nat(), { maxLength: 12 }),
    errCuts: fc.array(fc.nat(), { maxLength: 12 }),
    order: fc.array(fc.boolean(), { maxLength: 40 }),
    chunkCuts: arbCuts
  })
  .map((o) => {
    const eol = o.crlf ? "\r\n" : "\n"
    const text = (ls: ReadonlyArray<string>, terminated: boolean) =>
      ls.length === 0 ? "" : ls.join(eol) + (terminated ? eol : "")
    const stdoutText = text(o.stdoutLines, o.terminated[0])
    const stderrText = text(o.stderrLines, o.terminated[1])
    const out = chunked(encoder.encode(stdoutText), o.outCuts).map((p) => frame(1, p))
    const err = chunked(encoder.encode(stderrText), o.errCuts).map((p) => frame(2, p))
    const frames: Array<Uint8Array> = []
    let i = 0
    while (out.length > 0 || err.length > 0) {
      const takeOut = err.length === 0 || (out.length > 0 && (o.order[i++ % Math.max(o.order.length, 1)] ?? true))
      frames.push((takeOut ? out : err).shift()!)
    }
    // An unterminated empty last line was never written: "a\n" + "" is the one line "a".
    const expectLines = (ls: ReadonlyArray<string>, terminated: boolean) =>
      !terminated && ls.at(-1) === "" ? ls.slice(0, -1) : ls
    return {
      chunks: chunked(concat(frames), o.chunkCuts),
      stdoutText,
      stderrText,
      stdoutLines: expectLines(o.stdoutLines, o.terminated[0]),
      stderrLines: expectLines(o.stderrLines, o.terminated[1])
    }
  })

const framesOf = (chunks: ReadonlyArray<Uint8Array>) => demux("ContainerLogs")(source(chunks))

describe("stdio helpers", () => {
  it("stdoutLines / stderrLines / lines: same lines for any framing and chunking", () => {
    fc.assert(
      fc.property(arbOutput, (o) => {
        const frames = framesOf(o.chunks)
        expect(Effect.runSync(Stream.runCollect(stdoutLines(frames)))).toEqual(o.stdoutLines)
        expect(Effect.runSync(Stream.runCollect(stderrLines(frames)))).toEqual(o.stderrLines)
        const tagged = Effect.runSync(Stream.runCollect(lines(frames)))
        expect(tagged.filter((l) => l.stream === "stdout").map((l) => l.line)).toEqual(o.stdoutLines)
        expect(tagged.filter((l) => l.stream === "stderr").map((l) => l.line)).toEqual(o.stderrLines)
      }),
      { numRuns: 300 }
    )
  })

  it("collectOutput returns exactly the text written to each stream", () => {
    fc.assert(
      fc.property(arbOutput, (o) => {
        expect(Effect.runSync(collectOutput(framesOf(o.chunks)))).toEqual({
          stdout: o.stdoutText,
          stderr: o.stderrText
        })
      }),
      { numRuns: 300 }
    )
  })

  it("stdoutBytes / stderrBytes concatenate to each stream's bytes; stdin counts as stdout", () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 10 }), arbCuts, (specs, cuts) => {
        const frames = framesOf(chunked(concat(specs.map((s) => frame(s.type, s.payload))), cuts))
        const out = concat(Effect.runSync(Stream.runCollect(stdoutBytes(frames))))
        const err = concat(Effect.runSync(Stream.runCollect(stderrBytes(frames))))
        expect(Buffer.from(out)).toEqual(Buffer.from(concat(specs.filter((s) => s.type !== 2).map((s) => s.payload))))
        expect(Buffer.from(err)).toEqual(Buffer.from(concat(specs.filter((s) => s.type === 2).map((s) => s.payload))))
      }),
      { numRuns: 100 }
    )
  })

  it("lines are emitted in the order their ends arrive, the unterminated rest at the end", () => {
    const chunks = [frame(1, "out-1\nout-"), frame(2, "err-1\r\n"), frame(1, "2\n\nout-3"), frame(2, "err-2")]
    expect(Effect.runSync(Stream.runCollect(lines(framesOf(chunks))))).toEqual([
      { stream: "stdout", line: "out-1" },
      { stream: "stderr", line: "err-1" },
      { stream: "stdout", line: "out-2" },
      { stream: "stdout", line: "" },
      { stream: "stdout", line: "out-3" },
      { stream: "stderr", line: "err-2" }
    ])
  })

  it("a lone \\r stays in the line; an incomplete UTF-8 sequence at the end becomes U+FFFD", () => {
    const chunks = [frame(1, "10%\r50%\r100%\n"), frame(1, new Uint8Array([0x61, 0xe2, 0x9c]))]
    expect(Effect.runSync(Stream.runCollect(stdoutLines(framesOf(chunks))))).toEqual(["10%\r50%\r100%", "a\uFFFD"])
  })

  it("lines emitted before a systemerr frame are kept, then the stream fails", () => {
    const chunks = [frame(1, "a\nb"), frame(3, "error from daemon: boom")]
    const got: Array<string> = []
    const exit = Effect.runSyncExit(
      Stream.runForEach(stdoutLines(framesOf(chunks)), (l) => Effect.sync(() => got.push(l)))
    )
    expect(got).toEqual(["a", "b"])
    expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("error from daemon: boom")
  })
})

describe("timestamps", () => {
  it("splitTimestamp keeps the wire form (any fraction length, Z or offset) and the rest verbatim", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.stringMatching(/^(\.\d{1,9})?$/),
        fc.constantFrom("Z", "+02:00", "-07:30"),
        fc.string({ maxLength: 40 }),
        (date, fraction, zone, text) => {
          const time = date.toISOString().slice(0, 19) + fraction + zone
          expect(splitTimestamp(`${time} ${text}`)).toEqual({ time, line: text })
        }
      )
    )
  })

  it("lines without a timestamp are left alone", () => {
    expect(splitTimestamp("hello world")).toBeUndefined()
    expect(splitTimestamp("2024-05-01T12:00:00Z")).toBeUndefined() // no separating space
    expect(splitTimestamp("2024-05-01 12:00:00Z x")).toBeUndefined()
  })

  it("timestampedLines tags each line; timestampToDate keeps milliseconds", () => {
    const chunks = [
      frame(1, "2024-05-01T12:00:00.123456789Z hello\n"),
      frame(2, "2024-05-01T12:00:01.000000000Z oops \n"),
      frame(1, "no time\n")
    ]
    const got = Effect.runSync(Stream.runCollect(timestampedLines(lines(framesOf(chunks)))))
    expect(got).toEqual([
      { stream: "stdout", time: "2024-05-01T12:00:00.123456789Z", line: "hello" },
      { stream: "stderr", time: "2024-05-01T12:00:01.000000000Z", line: "oops " },
      { stream: "stdout", time: undefined, line: "no time" }
    ])
    expect(timestampToDate("2024-05-01T12:00:00.123456789Z").toISOString()).toBe("2024-05-01T12:00:00.123Z")
    expect(timestampToDate("2024-05-01T14:00:00+02:00").toISOString()).toBe("2024-05-01T12:00:00.000Z")
  })
})
