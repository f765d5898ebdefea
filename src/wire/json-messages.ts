/**
 * Streams of JSON messages (progress of pull/push/build/load, events, stats): bytes → one JSON
 * value per line → decoded message, failing with `InStreamError` when the daemon reports an error
 * after its 200. Pure Stream plumbing, no I/O.
 */
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { FastDecoder, SchemaRef } from "../core/descriptor.js"
import { DecodeError, InStreamError } from "../core/errors.js"
import { decoderFor } from "./decode.js"

const NEWLINE = 0x0a
const RECORD_SEPARATOR = 0x1e // RFC 7464 json-seq (API 1.52+ may frame events this way)

const decoder = new TextDecoder()

const parseLine = (bytes: Uint8Array): unknown => {
  let start = 0
  let end = bytes.length
  while (start < end && (bytes[start] === RECORD_SEPARATOR || bytes[start] === 0x20)) start++
  while (end > start && (bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20)) end--
  if (start === end) return NOISE
  try {
    return JSON.parse(decoder.decode(bytes.subarray(start, end)))
  } catch {
    // Not JSON: daemons and proxies sometimes interleave plain text; it is not a message.
    return NOISE
  }
}

/** Marks a line that was not a JSON value (blank or noise); it is dropped, never an error. */
const NOISE: unique symbol = Symbol("noise")

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * Splits bytes into lines with an offset cursor (only a line that spans chunks is copied) and
 * parses each as JSON. Lines that are not JSON are dropped.
 */
export const jsonValues = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<unknown, E, R> =>
  Stream.mapAccum(bytes, () => new Uint8Array(0), (carry: Uint8Array, chunk: Uint8Array) => {
    const values: Array<unknown> = []
    let offset = 0
    let newline = chunk.indexOf(NEWLINE)
    if (newline >= 0 && carry.length > 0) {
      const value = parseLine(concat(carry, chunk.subarray(0, newline)))
      if (value !== NOISE) values.push(value)
      offset = newline + 1
      carry = new Uint8Array(0)
      newline = chunk.indexOf(NEWLINE, offset)
    }
    while (newline >= 0) {
      const value = parseLine(chunk.subarray(offset, newline))
      if (value !== NOISE) values.push(value)
      offset = newline + 1
      newline = chunk.indexOf(NEWLINE, offset)
    }
    // The unfinished tail is kept (copied, since the chunk's buffer may be reused).
    const rest = offset === 0 && carry.length > 0 ? concat(carry, chunk) : chunk.slice(offset)
    return [rest, values] as const
  }, {
    onHalt: (carry) => {
      if (carry.length === 0) return []
      const value = parseLine(carry)
      return value === NOISE ? [] : [value]
    }
  })

/** The daemon's in-stream failure, if `message` is one (`error` and/or `errorDetail`). */
export const inStreamFailure = (operation: string, message: unknown): InStreamError | undefined => {
  if (typeof message !== "object" || message === null) return undefined
  const { error, errorDetail } = message as { error?: unknown; errorDetail?: { message?: unknown; code?: unknown } }
  if (error === undefined && errorDetail === undefined) return undefined
  const detailMessage = typeof errorDetail?.message === "string" ? errorDetail.message : undefined
  const daemonMessage = detailMessage ?? (typeof error === "string" ? error : JSON.stringify(error ?? errorDetail))
  return new InStreamError({
    operation,
    daemonMessage,
    code: typeof errorDetail?.code === "number" ? errorDetail.code : undefined,
    message: `${operation}: ${daemonMessage}`
  })
}

/**
 * Decodes each JSON value with `schema`; a message carrying `error`/`errorDetail` fails the stream
 * with `InStreamError`.
 */
export const decodeMessages = <S extends Schema.Top>(operation: string, schema: SchemaRef<S>, fast?: FastDecoder) => {
  const decode = decoderFor(
    schema,
    fast,
    (detail) => new DecodeError({ operation, detail, message: `${operation}: unexpected stream message: ${detail}` })
  )
  return <E, R>(values: Stream.Stream<unknown, E, R>): Stream.Stream<S["Type"], E | InStreamError | DecodeError, R> =>
    Stream.mapEffect(values, (value): Effect.Effect<S["Type"], InStreamError | DecodeError> => {
      const failure = inStreamFailure(operation, value)
      return failure ? Effect.fail(failure) : decode(value)
    })
}
