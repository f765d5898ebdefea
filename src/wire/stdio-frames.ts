/**
 * Docker's stdio streams (container logs, attach, exec start): bytes → typed frames.
 *
 * Without a TTY the daemon multiplexes stdout and stderr into frames with an 8-byte header,
 * `[type, 0, 0, 0, size u32 BE]` followed by `size` bytes of payload, where type 0 = stdin (Go's
 * stdcopy writes it to stdout), 1 = stdout, 2 = stderr and 3 = systemerr: the daemon reporting a
 * failure in the middle of the stream (log readers do this), which fails the stream here with
 * `StdioStreamError`. With a TTY there is no framing at all: the bytes are the terminal's output.
 * Which one applies must come from the container's `Config.Tty` (attach, logs) or the `Tty` field
 * of the ExecStart body (exec) — never from Content-Type, which a 1.41 daemon always sets to
 * `raw-stream`. See {@link stdioFrames}.
 *
 * The parser walks each chunk with an offset cursor: no per-byte work beyond reading headers and
 * no copying of the unread remainder. Only a header or payload that spans chunks is assembled
 * (into a payload buffer allocated once at its announced size). Pure Stream plumbing, no I/O.
 */
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import { StdioStreamError } from "../core/errors.js"

/** Which standard stream a frame belongs to. */
export type StdioStream = "stdin" | "stdout" | "stderr"

/**
 * One frame of a multiplexed stream (or one chunk of a TTY stream, always `"stdout"`).
 *
 * **`data` is a view, not a copy.** A frame that lies wholly inside one chunk received from the
 * transport is a `subarray` of that chunk (no copy); only a frame that spanned chunks gets its own
 * buffer (carved, up to 32 KiB, from a 128 KiB slab shared with other spanning frames). The
 * transports of this library hand out a fresh buffer per chunk and nothing here writes to it, so
 * keeping `data` is safe, but a small frame kept for long pins the whole chunk (or slab) it came
 * from. If you keep frames around (or your byte source reuses its buffers), keep
 * `data.slice()` instead. The text helpers in `stdio.ts` decode to strings and keep no views.
 */
export interface StdioFrame {
  /** Which stream it belongs to. */
  readonly stream: StdioStream
  /** Its payload (a view: see above). */
  readonly data: Uint8Array
}

const HEADER_SIZE = 8
const SYSTEMERR = 3
const STREAMS: ReadonlyArray<StdioStream> = ["stdin", "stdout", "stderr"]

/**
 * A frame announced larger than this is assembled from the parts as they arrive instead of
 * preallocated, so a corrupt header (e.g. a TTY stream read as framed) cannot make us allocate
 * up to 4 GiB before a single payload byte has been seen. The daemon's frames are ≤ 32 KiB.
 */
const PREALLOCATE_LIMIT = 16 * 1024 * 1024

/** Spanning payloads up to a quarter of this share one allocation (`FrameDecoder.allocate`). */
const SLAB_SIZE = 128 * 1024

const textDecoder = new TextDecoder()

/** Type 0–3 and three zero bytes of padding. */
const validHeader = (bytes: Uint8Array, at: number): boolean =>
  bytes[at]! <= SYSTEMERR && (bytes[at + 1]! | bytes[at + 2]! | bytes[at + 3]!) === 0

/** The payload size: a big-endian u32 (kept out of the sign bit). */
const sizeOf = (bytes: Uint8Array, at: number): number =>
  bytes[at + 4]! * 0x1000000 + ((bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!)

/**
 * `size` bytes of `chunk` from `start`, without copying. A plain `Uint8Array` on the chunk's
 * memory rather than `chunk.subarray()`: on a Node `Buffer`, `subarray` goes through the species
 * constructor and makes a `Buffer`, which cost more than the rest of a frame's parsing
 * (bench/README.md). The fast path in `push` inlines it.
 */
const view = (chunk: Uint8Array, start: number, size: number): Uint8Array =>
  new Uint8Array(chunk.buffer, chunk.byteOffset + start, size)

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ")

/**
 * The incremental, synchronous frame parser behind {@link demux}: feed it chunks in order with
 * {@link FrameDecoder.push}, then call {@link FrameDecoder.end}. Usable without Effect (e.g. on a
 * Node `Readable`). After it has returned an error it returns that same error forever.
 */
export class FrameDecoder {
  /** Bytes received so far (for error messages). */
  private position = 0
  /** A header that spans chunks: its bytes so far. */
  private readonly header = new Uint8Array(HEADER_SIZE)
  private headerFill = 0
  /** A payload that spans chunks (`type >= 0`): the buffer being filled, or the parts so far. */
  private type = -1
  private size = 0
  private payload: Uint8Array | undefined = undefined
  private parts: Array<Uint8Array> | undefined = undefined
  private fill = 0
  private failure: StdioStreamError | undefined = undefined
  /** Where spanning payloads are carved from (`allocate`). */
  private slab: Uint8Array | undefined = undefined
  private slabUsed = 0

  /** @param operation The operation whose stream it reads, for its errors. */
  constructor(readonly operation: string) {}

  /**
   * Appends the frames that `chunk` completes to `out`, in order. Returns the error that ends
   * the stream, if the chunk contains one; frames before it have been appended to `out`.
   */
  push(chunk: Uint8Array, out: Array<StdioFrame>): StdioStreamError | undefined {
    if (this.failure) return this.failure
    const length = chunk.length
    const base = this.position
    this.position += length
    let offset = 0
    // 1. Finish what the previous chunk left unfinished: a header (then maybe its payload) …
    if (this.headerFill > 0 && length > 0) {
      const had = this.headerFill
      const take = Math.min(HEADER_SIZE - had, length)
      this.header.set(chunk.subarray(0, take), had)
      this.headerFill += take
      if (this.headerFill < HEADER_SIZE) return undefined
      // A valid header with no payload bytes yet: wait, so a payload that starts the next chunk
      // stays a view of it.
      if (take === length && validHeader(this.header, 0) && sizeOf(this.header, 0) > 0) return undefined
      this.headerFill = 0
      const failure = this.startFrame(this.header, 0, base - had, chunk, take, out)
      if (failure) return failure
      if (this.type >= 0) return undefined // the payload continues in the next chunk
      offset = take + this.size
    } else if (this.type >= 0) {
      // … or a payload.
      const take = Math.min(this.size - this.fill, length)
      if (this.payload) this.payload.set(chunk.subarray(0, take), this.fill)
      else this.parts!.push(chunk.slice(0, take))
      this.fill += take
      if (this.fill < this.size) return undefined
      const failure = this.finishSpanning(out)
      if (failure) return failure
      offset = take
    }
    // 2. The fast path: frames wholly inside this chunk become views of it.
    const memory = chunk.buffer
    const memoryOffset = chunk.byteOffset
    while (length - offset >= HEADER_SIZE) {
      if (!validHeader(chunk, offset)) {
        return this.badHeader(chunk.subarray(offset, offset + HEADER_SIZE), base + offset)
      }
      const type = chunk[offset]!
      const size = sizeOf(chunk, offset)
      const start = offset + HEADER_SIZE
      const end = start + size
      if (end > length) {
        if (start === length) break // only the header is here: keep it (step 3)
        // The payload continues in the next chunk(s).
        return this.startFrame(chunk, offset, base + offset, chunk, start, out)
      }
      if (type === SYSTEMERR) return this.systemError(chunk.subarray(start, end))
      out.push({ stream: STREAMS[type]!, data: new Uint8Array(memory, memoryOffset + start, size) })
      offset = end
    }
    // 3. Keep an incomplete header (or a lone header, up to 8 bytes) for the next chunk.
    if (offset < length) {
      this.header.set(chunk.subarray(offset), 0)
      this.headerFill = length - offset
    }
    return undefined
  }

  /** Call when the input has ended: an error if it ended inside a frame. */
  end(): StdioStreamError | undefined {
    if (this.failure) return this.failure
    if (this.headerFill === HEADER_SIZE) {
      return this.fail(
        "Truncated",
        undefined,
        `${this.operation}: stream ended inside a ${STREAMS[this.header[0]!] ?? "systemerr"} frame (0 of ${
          sizeOf(this.header, 0)
        } payload bytes)`
      )
    }
    if (this.headerFill > 0) {
      return this.fail(
        "Truncated",
        undefined,
        `${this.operation}: stream ended inside a frame header (${this.headerFill} of ${HEADER_SIZE} bytes)`
      )
    }
    if (this.type >= 0) {
      return this.fail(
        "Truncated",
        undefined,
        `${this.operation}: stream ended inside a ${
          STREAMS[this.type] ?? "systemerr"
        } frame (${this.fill} of ${this.size} payload bytes)`
      )
    }
    return undefined
  }

  /**
   * A header has been read (`header[at..at+8]`, which began at stream byte `streamOffset`); its
   * payload starts at `chunk[from]`. Emits the frame if the payload is wholly in `chunk` (then
   * `this.size` is how many payload bytes were used), else starts assembling it (`this.type >= 0`).
   */
  private startFrame(
    header: Uint8Array,
    at: number,
    streamOffset: number,
    chunk: Uint8Array,
    from: number,
    out: Array<StdioFrame>
  ): StdioStreamError | undefined {
    if (!validHeader(header, at)) return this.badHeader(header.subarray(at, at + HEADER_SIZE), streamOffset)
    const type = header[at]!
    const size = sizeOf(header, at)
    const available = chunk.length - from
    this.size = size
    if (size <= available) {
      if (type === SYSTEMERR) return this.systemError(chunk.subarray(from, from + size))
      out.push({ stream: STREAMS[type]!, data: view(chunk, from, size) })
      return undefined
    }
    this.type = type
    this.fill = available
    if (size <= PREALLOCATE_LIMIT) {
      this.payload = this.allocate(size)
      this.payload.set(chunk.subarray(from), 0)
    } else {
      this.parts = [chunk.slice(from)]
    }
    return undefined
  }

  /**
   * Room for a payload that spans chunks (every byte is written before the frame is emitted).
   * Payloads up to a quarter slab are carved from a shared slab, as Node's Buffer pool does: one
   * allocation per ~16–2000 frames instead of one each, which was most of the parser's time at
   * 16 KiB frames (bench/README.md).
   */
  private allocate(size: number): Uint8Array {
    if (size > SLAB_SIZE / 4) return new Uint8Array(size)
    // (a slab whose memory a consumer transferred elsewhere is detached: length 0)
    if (this.slab === undefined || this.slab.length === 0 || this.slabUsed + size > SLAB_SIZE) {
      // Zeroed: `data.buffer` of a frame reaches the whole slab, which must hold nothing but
      // frames' bytes and zeros.
      this.slab = new Uint8Array(SLAB_SIZE)
      this.slabUsed = 0
    }
    const room = new Uint8Array(this.slab.buffer, this.slab.byteOffset + this.slabUsed, size)
    this.slabUsed += size
    return room
  }

  private finishSpanning(out: Array<StdioFrame>): StdioStreamError | undefined {
    let data = this.payload
    if (!data) {
      data = new Uint8Array(this.size)
      let at = 0
      for (const part of this.parts!) {
        data.set(part, at)
        at += part.length
      }
    }
    const type = this.type
    this.type = -1
    this.payload = undefined
    this.parts = undefined
    this.fill = 0
    if (type === SYSTEMERR) return this.systemError(data)
    out.push({ stream: STREAMS[type]!, data })
    return undefined
  }

  private systemError(payload: Uint8Array): StdioStreamError {
    const daemonMessage = textDecoder.decode(payload).trimEnd()
    return this.fail("SystemError", daemonMessage, `${this.operation}: ${daemonMessage}`)
  }

  private badHeader(header: Uint8Array, streamOffset: number): StdioStreamError {
    const type = header[0]!
    const what = type > SYSTEMERR ? `unknown stream type ${type}` : "non-zero padding"
    return this.fail(
      "BadHeader",
      undefined,
      `${this.operation}: invalid frame header [${
        hex(header)
      }] at byte ${streamOffset}: ${what} (is the stream raw, i.e. was the container or exec started with Tty: true?)`
    )
  }

  private fail(
    reason: StdioStreamError["reason"],
    daemonMessage: string | undefined,
    message: string
  ): StdioStreamError {
    this.failure = new StdioStreamError({ operation: this.operation, reason, daemonMessage, message })
    return this.failure
  }
}

/**
 * Demultiplexes a framed (non-TTY) stdio stream. `operation` names the call in errors (e.g.
 * `ContainerLogs`). Fails with `StdioStreamError` on a type-3 (systemerr) frame — carrying the
 * daemon's text — on an invalid header, or when the input ends inside a frame; frames before the
 * failure are emitted first. Each input chunk is parsed in one go and its frames are emitted as
 * one array, so the Stream machinery costs per chunk, not per frame.
 */
export const demux =
  (operation: string) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<StdioFrame, E | StdioStreamError, R> =>
    Stream.transformPull(bytes, (pull) =>
      Effect.sync(() => {
        const decoder = new FrameDecoder(operation)
        let failure: StdioStreamError | undefined
        const upstream = Pull.catchDone(pull, (): Effect.Effect<never, StdioStreamError | Cause.Done> => {
          const truncated = decoder.end()
          return truncated ? Effect.fail(truncated) : Cause.done()
        })
        const next: Pull.Pull<Arr.NonEmptyReadonlyArray<StdioFrame>, E | StdioStreamError> = Effect.suspend(() =>
          failure ? Effect.fail(failure) : Effect.flatMap(upstream, (chunks) => {
            const out: Array<StdioFrame> = []
            for (let i = 0; i < chunks.length && !failure; i++) failure = decoder.push(chunks[i]!, out)
            if (out.length > 0) return Effect.succeed(out as unknown as Arr.NonEmptyReadonlyArray<StdioFrame>)
            return next
          })
        )
        return next
      }))

/**
 * A TTY stream (no framing): every chunk is terminal output, emitted as a `"stdout"` frame
 * (stderr is merged into it by the pty). `data` is the chunk itself.
 */
export const raw = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<StdioFrame, E, R> =>
  Stream.mapArray(bytes, (chunks) => Arr.map(chunks, (data): StdioFrame => ({ stream: "stdout", data })))

/**
 * Frames of a stdio stream, framed or raw according to the TTY setting that produced it: the
 * container's `Config.Tty` for attach and logs, the ExecStart body's `Tty` for exec.
 */
export const stdioFrames =
  (operation: string, options: { readonly tty: boolean }) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<StdioFrame, E | StdioStreamError, R> =>
    options.tty ? raw(bytes) : demux(operation)(bytes)
