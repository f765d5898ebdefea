/**
 * What the generated Schemas (`src/generated/schemas/`, the operations' `.schemas.ts` modules)
 * run on: the open-enum Schemas and the Schema of a byte body. Hand-written and linted like any
 * source; the generator only imports it. The fast decoders' building blocks are in
 * `fast-decode.ts`, which evaluates no Schema.
 *
 * Enums are **open**: the daemon sends `""` for an unset enum, other engines (Podman, Swarmkit) send
 * values the spec does not list, and a newer daemon may add values. Decoding accepts any string
 * (or number); the TypeScript type keeps the documented literals for completion:
 * `"created" | "running" | (string & {})`.
 */
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ByteBody as ByteBodyType } from "./descriptor.js"

// At run time an open enum is exactly a string (or number): since every value is accepted, a
// union that first tries the literals only costs time (~20% of decoding a container inspect,
// bench/README.md). The literals live on in the type, and as the schema's `examples` annotation.

/** A string enum that also accepts values the spec does not list. */
export const openEnum = <const L extends ReadonlyArray<string>>(
  literals: L
): Schema.Codec<L[number] | (string & {}), string> =>
  Schema.String.annotate({ examples: literals }) as Schema.Codec<L[number] | (string & {}), string>

/** A numeric enum that also accepts values the spec does not list. */
export const openNumberEnum = <const L extends ReadonlyArray<number>>(
  literals: L
): Schema.Codec<L[number] | (number & {}), number> =>
  Schema.Number.annotate({ examples: literals }) as Schema.Codec<L[number] | (number & {}), number>

const isByteBody = (u: unknown): u is ByteBodyType =>
  u instanceof Uint8Array || Stream.isStream(u) ||
  (typeof u === "object" && u !== null && Symbol.asyncIterator in u)

/**
 * The Schema of a byte body in generated arguments (`PluginCreateArgs.body`, `ImageLoadArgs.body`…);
 * a call's arguments (`CallArgs`) widen it to a Stream with its own error.
 */
export const ByteBody: Schema.declare<ByteBodyType> = Schema.declare(isByteBody, {
  identifier: "ByteBody",
  description: "bytes: a Uint8Array, a byte Stream or an AsyncIterable of Uint8Array"
})
