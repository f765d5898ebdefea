/**
 * What the generated code (`src/generated/`) runs on: the open-enum Schemas and the building blocks
 * of the fast decoders. Hand-written and linted like any source; the generator only imports it.
 *
 * Enums are **open**: the daemon sends `""` for an unset enum, other engines (Podman, Swarmkit) send
 * values the spec does not list, and a newer daemon may add values. Decoding accepts any string
 * (or number); the TypeScript type keeps the documented literals for completion:
 * `"created" | "running" | (string & {})`.
 */
import * as Schema from "effect/Schema"

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

// ---------------------------------------------------------------------------------------------
// Fast decoders (codegen/emit-decoders.ts): every schema module has `decode<Name>`, which decodes
// a JSON value as the Schema does or returns `Invalid`; the executor then decodes with the Schema
// for the error message.

/** What a fast decoder returns for a value it does not accept. */
export const Invalid: unique symbol = Symbol.for("effect-docker/Invalid")
export type Invalid = typeof Invalid

export const decodeString = (u: any): any => (typeof u === "string" ? u : Invalid)
export const decodeNumber = (u: any): any => (typeof u === "number" ? u : Invalid)
export const decodeBoolean = (u: any): any => (typeof u === "boolean" ? u : Invalid)
export const decodeUnknown = (u: any): any => u

export const decodeArray = (u: any, item: (u: any) => any): any => {
  if (!Array.isArray(u)) return Invalid
  const out: Array<unknown> = []
  for (let i = 0; i < u.length; i++) {
    const v = item(u[i])
    if (v === Invalid) return Invalid
    out.push(v)
  }
  return out
}

const primitiveArray = (type: "string" | "number") => (u: any): any => {
  if (!Array.isArray(u)) return Invalid
  for (let i = 0; i < u.length; i++) if (typeof u[i] !== type) return Invalid
  return u.slice()
}
export const decodeStringArray = primitiveArray("string")
export const decodeNumberArray = primitiveArray("number")

export const decodeRecord = (u: any, value: (u: any) => any): any => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return Invalid
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(u)) {
    // a key that would set the prototype: the Schema handles it
    if (k === "__proto__") return Invalid
    const v = value(u[k])
    if (v === Invalid) return Invalid
    out[k] = v
  }
  return out
}

/** The first member that accepts `u` (`Schema.Union` in its default "anyOf" mode). */
export const decodeUnion = (u: any, members: ReadonlyArray<(u: any) => any>): any => {
  for (let i = 0; i < members.length; i++) {
    const v = members[i]!(u)
    if (v !== Invalid) return v
  }
  return Invalid
}
