/**
 * Demultiplexing Docker's stdio frames: throughput (MiB/s of payload) of our `FrameDecoder` and
 * `demux` Stream against docker-modem's `demuxStream` and a copy-only floor, for 100 B, 1 KiB and
 * 16 KiB frames over ~64 MiB of input delivered in 64 KiB chunks. No daemon needed.
 *
 *   npx tsx bench/demux.ts            (BENCH_ROUNDS=9 BENCH_MIB=64 by default)
 *
 * All variants run in one process, round by round (each round runs every variant once, in a
 * rotated order), so drift and GC hit them alike; the table reports medians.
 */
import Modem from "docker-modem"
import { Effect, Stream } from "effect"
import { Readable, Writable } from "node:stream"
import v8 from "node:v8"
import vm from "node:vm"
import { demux, FrameDecoder, type StdioFrame } from "../src/wire/stdio-frames.js"
import { stdoutBytes } from "../src/wire/stdio.js"

// A full GC before each timed run, so each variant pays for its own garbage only (docker-modem
// makes ~4 GiB of it per run at 1 KiB frames) and not for the previous variant's.
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const MIB = Number(process.env.BENCH_MIB ?? 64)
/** docker-modem copies the unread remainder after every frame; at 100 B frames it gets less input. */
const MODEM_MIB_SMALL = Number(process.env.BENCH_MODEM_MIB ?? 4)
const CHUNK = 64 * 1024
const FRAME_SIZES = [100, 1024, 16 * 1024]

// --- input ------------------------------------------------------------------------------------

interface Input {
  readonly chunks: ReadonlyArray<Buffer>
  readonly payloadBytes: number
  /** Payload bytes in stdout frames (the even-numbered ones). */
  readonly stdoutBytes: number
  readonly totalBytes: number
}

/** Frames of `size` payload bytes, alternating stdout/stderr, cut into 64 KiB chunks. */
const makeInput = (size: number, mib: number): Input => {
  const frames = Math.floor((mib * 1024 * 1024) / (size + 8))
  const all = Buffer.allocUnsafe(frames * (size + 8))
  let at = 0
  for (let i = 0; i < frames; i++) {
    all[at] = i % 2 === 0 ? 1 : 2
    all[at + 1] = 0
    all[at + 2] = 0
    all[at + 3] = 0
    all.writeUInt32BE(size, at + 4)
    all.fill(0x61 + (i % 26), at + 8, at + 8 + size)
    at += size + 8
  }
  const chunks: Array<Buffer> = []
  // Each chunk gets its own buffer, as a socket delivers them.
  for (let off = 0; off < all.length; off += CHUNK) chunks.push(Buffer.from(all.subarray(off, off + CHUNK)))
  return { chunks, payloadBytes: frames * size, stdoutBytes: Math.ceil(frames / 2) * size, totalBytes: all.length }
}

// --- variants ---------------------------------------------------------------------------------

/** Returns the number of payload bytes seen (checked against the input, so nothing is skipped). */
type Variant = (input: Input) => Promise<number>

const copyFloor: Variant = async (input) => {
  const dst = new Uint8Array(CHUNK)
  let n = 0
  for (const chunk of input.chunks) {
    dst.set(chunk)
    n += chunk.length
  }
  return n - (input.totalBytes - input.payloadBytes) // report as payload, for the same MiB/s basis
}

const decoderOnly: Variant = async (input) => {
  const decoder = new FrameDecoder("bench")
  let n = 0
  for (const chunk of input.chunks) {
    const out: Array<StdioFrame> = []
    if (decoder.push(chunk, out)) throw new Error("decode failed")
    for (const f of out) n += f.data.length
  }
  if (decoder.end()) throw new Error("truncated")
  return n
}

const decoderCopying: Variant = async (input) => {
  const decoder = new FrameDecoder("bench")
  let n = 0
  for (const chunk of input.chunks) {
    const out: Array<StdioFrame> = []
    decoder.push(chunk, out)
    for (const f of out) n += f.data.slice().length
  }
  return n
}

/** One 64 KiB chunk per pull, as a socket-backed Stream delivers them. */
const source = (input: Input) => Stream.fromIterable(input.chunks, { chunkSize: 1 })

/** The Stream machinery alone: the same source, consumed array-wise, no demux (bytes, not payload). */
const streamSourceOnly: Variant = (input) => {
  let n = 0
  return Effect.runPromise(
    Stream.runForEachArray(source(input), (chunks) =>
      Effect.sync(() => {
        for (const c of chunks) n += c.length
      }))
  ).then(() => n === input.totalBytes ? input.payloadBytes : -1)
}

const streamForEachArray: Variant = (input) => {
  let n = 0
  return Effect.runPromise(
    Stream.runForEachArray(demux("bench")(source(input)), (frames) =>
      Effect.sync(() => {
        for (const f of frames) n += f.data.length
      }))
  ).then(() => n)
}

const streamForEach: Variant = (input) => {
  let n = 0
  return Effect.runPromise(
    Stream.runForEach(demux("bench")(source(input)), (f) => Effect.sync(() => (n += f.data.length)))
  ).then(() => n)
}

const streamStdoutBytes: Variant = (input) => {
  // Every frame is demultiplexed; the helper passes on stdout's (checked), stderr's are dropped.
  let n = 0
  return Effect.runPromise(
    Stream.runForEachArray(stdoutBytes(demux("bench")(source(input))), (chunks) =>
      Effect.sync(() => {
        for (const c of chunks) n += c.length
      }))
  ).then(() => n === input.stdoutBytes ? input.payloadBytes : -1)
}

const streamDrain: Variant = (input) =>
  Effect.runPromise(Stream.runDrain(demux("bench")(source(input)))).then(() => input.payloadBytes)

const modem = new Modem({ socketPath: "/nonexistent" })
const dockerModem: Variant = (input) =>
  new Promise((resolve, reject) => {
    let n = 0
    const sink = () =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          n += chunk.length
          cb()
        }
      })
    const readable = Readable.from(input.chunks, { objectMode: false })
    modem.demuxStream(readable, sink(), sink())
    readable.on("end", () => resolve(n)).on("error", reject)
  })

const VARIANTS: ReadonlyArray<readonly [string, Variant]> = [
  ["copy floor (memcpy each chunk)", copyFloor],
  ["Stream of the chunks alone, no demux", streamSourceOnly],
  ["ours: FrameDecoder (sync core)", decoderOnly],
  ["ours: FrameDecoder + slice() per frame", decoderCopying],
  ["ours: demux Stream, runForEachArray", streamForEachArray],
  ["ours: demux Stream, runForEach (per frame)", streamForEach],
  ["ours: demux Stream, runDrain", streamDrain],
  ["ours: demux → stdoutBytes, runForEachArray", streamStdoutBytes],
  ["docker-modem demuxStream", dockerModem]
]

// --- run --------------------------------------------------------------------------------------

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

console.log(
  `node ${process.version}, ${ROUNDS} rounds, ~${MIB} MiB input per run (docker-modem at 100 B: ${MODEM_MIB_SMALL} MiB), ${
    CHUNK / 1024
  } KiB chunks`
)

const results: Record<number, Record<string, number>> = {}
for (const size of FRAME_SIZES) {
  const input = makeInput(size, MIB)
  const modemInput = size < 1024 ? makeInput(size, MODEM_MIB_SMALL) : input
  const samples = new Map<string, Array<number>>(VARIANTS.map(([name]) => [name, []]))
  // Warm-up: one pass of each (JIT), on a small input.
  const warm = makeInput(size, 4)
  for (const [, v] of VARIANTS) await v(warm)
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const [name, variant] = VARIANTS[(k + round) % VARIANTS.length]!
      const data = variant === dockerModem ? modemInput : input
      gc()
      const t0 = performance.now()
      const got = await variant(data)
      const ms = performance.now() - t0
      if (got !== data.payloadBytes) throw new Error(`${name}: ${got} bytes, expected ${data.payloadBytes}`)
      samples.get(name)!.push(data.payloadBytes / 1024 / 1024 / (ms / 1000))
    }
  }
  results[size] = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]))
}

// Table: MiB/s per frame size, and ratios to the floor and to docker-modem.
const floor = VARIANTS[0]![0]
const modemName = "docker-modem demuxStream"
const header = FRAME_SIZES.map((s) => (s >= 1024 ? `${s / 1024} KiB` : `${s} B`))
console.log(`\n| variant (median MiB/s of payload) | ${header.join(" | ")} |`)
console.log(`|---|${header.map(() => "---:").join("|")}|`)
for (const [name] of VARIANTS) {
  const cells = FRAME_SIZES.map((s) => {
    const r = results[s]!
    const v = r[name]!
    if (name === floor || name === modemName) return fmt(v)
    return `${fmt(v)} (${(r[floor]! / v).toFixed(1)}× floor, ${fmt(v / r[modemName]!)}× modem)`
  })
  console.log(`| ${name} | ${cells.join(" | ")} |`)
}
