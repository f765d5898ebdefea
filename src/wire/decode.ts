/**
 * Decoding a JSON value with a response Schema, through its generated fast decoder first
 * (codegen/emit-decoders.ts): the fast decoder accepts a subset of what the Schema accepts and
 * produces the same value, several times faster; anything it refuses is decoded by the Schema,
 * which then either accepts it too or explains what is wrong.
 */
import { Result, Schema } from "effect"
import type { FastDecoder } from "../engine/operation.js"
import { Invalid } from "../generated/runtime.js"

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
