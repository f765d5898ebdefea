/**
 * Decoding with a Schema, for `decode.ts` when a fast decoder refuses a value (or there is none):
 * loaded then, with `effect/Schema`, so that the path of an accepted answer does not evaluate it.
 */
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** Decodes an input: the value, or what is wrong with it (the Schema's message). */
export type SchemaDecode = (input: unknown) => Exit.Exit<unknown, string>

export const schemaDecoder = (schema: Schema.Top): SchemaDecode => {
  const decode = Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)
  return (input) => {
    const result = decode(input)
    return Result.isSuccess(result) ? Exit.succeed(result.success) : Exit.fail(result.failure.message)
  }
}
