/**
 * Decoding a JSON value with a response Schema, through its generated fast decoder first
 * (codegen/emit-decoders.ts): the fast decoder accepts a subset of what the Schema accepts and
 * produces the same value, several times faster; anything it refuses is decoded by the Schema,
 * which then either accepts it too or explains what is wrong.
 *
 * The Schema is loaded then, not before (its `SchemaRef`, and `schema-decode.ts`, which evaluates
 * `effect/Schema`): a program whose answers the fast decoders accept never evaluates Effect's
 * Schema modules (bench/README.md, "Start-up").
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { FastDecoder, SchemaRef } from "../core/descriptor.js"
import { DecodeError } from "../core/errors.js"
import { Invalid } from "../core/fast-decode.js"
import type { SchemaDecode } from "./schema-decode.js"

const schemaDecoders = new WeakMap<SchemaRef, Promise<SchemaDecode>>()

/** The Schema's decoder, loaded (once per Schema) with the Schema and Effect's Schema modules. */
const schemaDecoder = (schema: SchemaRef): Promise<SchemaDecode> => {
  let decode = schemaDecoders.get(schema)
  if (decode === undefined) {
    decode = Promise.all([schema(), import("./schema-decode.js")]).then(([s, m]) => m.schemaDecoder(s))
    schemaDecoders.set(schema, decode)
  }
  return decode
}

/**
 * Values a fast decoder refused but its Schema accepted: each one is a decoder that is stricter
 * than it needs to be (slow, not wrong). The real-engine decode tests assert it stays 0.
 */
export const fastDecoderMisses = { count: 0 }

/** Decodes with the Schema (loading it); `afterFast`: a fast decoder refused `input` first. */
const slowDecode = (schema: SchemaRef, input: unknown, afterFast: boolean): Effect.Effect<unknown, string> =>
  Effect.flatMap(Effect.promise(() => schemaDecoder(schema)), (decode) => {
    const exit = decode(input)
    if (afterFast && Exit.isSuccess(exit)) fastDecoderMisses.count++
    return exit
  })

/**
 * `input` decoded by `fast` (when the descriptor has one), else by the Schema: the value, or
 * `failure` of what is wrong with it (the Schema's message).
 */
const decodeValue = <E>(
  schema: SchemaRef,
  fast: FastDecoder | undefined,
  input: unknown,
  failure: (detail: string) => E
): Effect.Effect<unknown, E> => {
  if (fast !== undefined) {
    const value = fast(input)
    if (value !== Invalid) return Exit.succeed(value)
  }
  return Effect.mapError(slowDecode(schema, input, fast !== undefined), failure)
}

/** `schema`'s decoder, trying `fast` first when the descriptor has one (see `decodeValue`). */
export const decoderFor =
  <E>(schema: SchemaRef, fast: FastDecoder | undefined, failure: (detail: string) => E) =>
  (input: unknown): Effect.Effect<unknown, E> => decodeValue(schema, fast, input, failure)

/** Parses and decodes a JSON body with `schema`. */
export const decodeJsonBody = (
  operation: string,
  schema: SchemaRef,
  body: string,
  fast?: FastDecoder
): Effect.Effect<unknown, DecodeError> => {
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
  return decodeValue(
    schema,
    fast,
    parsed,
    (detail) => new DecodeError({ operation, detail, message: `${operation}: unexpected answer: ${detail}` })
  )
}
