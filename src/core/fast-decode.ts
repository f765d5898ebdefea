/**
 * The building blocks of the generated fast decoders (codegen/emit-decoders.ts): plain functions,
 * no Effect module. A program that decodes what its operations answer evaluates these and the
 * generated decoders (`src/generated/decoders/`, the descriptors' inline ones) only; the Schemas
 * (`core/runtime.ts`, `src/generated/schemas/`) are loaded when a decoder refuses a value or a
 * user asks for them (bench/README.md, "Start-up").
 *
 * Every decoder decodes a JSON value as its Schema does or returns `Invalid`; the executor then
 * decodes with the Schema for the error message.
 */

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
