/**
 * Decoding a JSON value with a response Schema, through its generated fast decoder first
 * (codegen/emit-decoders.ts): the fast decoder accepts a subset of what the Schema accepts and
 * produces the same value, several times faster; anything it refuses is decoded by the Schema,
 * which then either accepts it too or explains what is wrong.
 */
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { FastDecoder } from "../core/descriptor.js"
import { DecodeError } from "../core/errors.js"
import { Invalid } from "../core/runtime.js"

type Decode = (input: unknown) => Result.Result<unknown, Schema.SchemaError>

const schemaDecoders = new WeakMap<Schema.Top, Decode>()

const schemaDecoder = (schema: Schema.Top): Decode => {
  let decode = schemaDecoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)
    schemaDecoders.set(schema, decode)
  }
  return decode
}

/**
 * Values a fast decoder refused but its Schema accepted: each one is a decoder that is stricter
 * than it needs to be (slow, not wrong). The real-engine decode tests assert it stays 0.
 */
export const fastDecoderMisses = { count: 0 }

/** `schema`'s decoder, trying `fast` first when the descriptor has one. */
export const decoderFor = (schema: Schema.Top, fast?: FastDecoder): Decode => {
  const slow = schemaDecoder(schema)
  if (fast === undefined) return slow
  return (input) => {
    const value = fast(input)
    if (value !== Invalid) return Result.succeed(value)
    const result = slow(input)
    if (Result.isSuccess(result)) fastDecoderMisses.count++
    return result
  }
}

/** Parses and decodes a JSON body with `schema`. */
export const decodeJsonBody = (
  operation: string,
  schema: Schema.Top,
  body: string,
  fast?: FastDecoder
): Exit.Exit<unknown, DecodeError> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (error) {
    const snippet = body.length > 200 ? `${body.slice(0, 200)}…` : body
    return Exit.fail(
      new DecodeError({
        operation,
        detail: `not JSON: ${snippet}`,
        message: `${operation}: the daemon's answer is not JSON: ${snippet}`,
        cause: error
      })
    )
  }
  const result = decoderFor(schema, fast)(parsed)
  if (Result.isSuccess(result)) return Exit.succeed(result.success)
  const detail = result.failure.message
  return Exit.fail(new DecodeError({ operation, detail, message: `${operation}: unexpected answer: ${detail}` }))
}
