/**
 * Fast decoders: next to every definition Schema (and every inline response Schema) the emitter
 * writes `decode<Name>`, a plain function that decodes a JSON value the way the Schema does — it
 * accepts a subset of what the Schema accepts, and whatever it accepts it turns into the same value
 * (known keys kept, unknown keys dropped, fresh objects and arrays) — or returns `Invalid`. The
 * executor tries it first and falls back to the Schema, which then produces the error message, so
 * the Schema stays the single definition of what is valid and the fast path can only be faster.
 *
 * Why: decoding with Effect's generic parser was half of the client CPU of a container inspect
 * (bench/README.md, "Decoding"). Generated code reads known keys with static property accesses and
 * allocates nothing but the output.
 *
 * Its inputs are what `JSON.parse` produces: no `undefined` values, so "the key is absent" is
 * `u.Key === undefined`. `test/unit/fast-decoders.test.ts` checks, for every definition and every
 * operation's response, that on generated values and their mutations the decoder agrees with the
 * Schema whenever it succeeds, and that it succeeds on every valid value.
 */
import { joinPath } from "./diff.js"
import { isIdent, nullableProp, type World } from "./emit-shared.js"
import { CodegenError } from "./load.js"
import type { TypeNode } from "./model.js"

type ObjectNode = Extract<TypeNode, { kind: "object" }>

export interface DecoderCtx {
  /** Definition name or `<OperationId>#response` — for the cross-version required rule. */
  readonly owner: string
  /** Definition → identifiers this module imports from its module (`decodeX`, `decodeXFields`). */
  readonly imports: Map<string, Set<string>>
  readonly runtime: Set<string>
  /** Module-level helper declarations, dependencies first. */
  readonly hoisted: Array<string>
  /** Helper code → its name (`hoist`). */
  readonly helpers: Map<string, string>
  readonly counter: { n: number }
}

export const newDecoderCtx = (owner: string, counter: { n: number } = { n: 0 }): DecoderCtx => ({
  owner,
  imports: new Map(),
  runtime: new Set(),
  hoisted: [],
  helpers: new Map(),
  counter
})

/** Decoder of definition `name`. */
export const decoderName = (name: string): string => `decode${name}`
/** Imports definition `name`'s decoder into the module of `ctx`; its local name. */
export const decoderImport = (ctx: DecoderCtx, name: string): string => useImport(ctx, name, decoderName(name))

/** Writes definition `name`'s fields into an output object (for structs that spread it: `allOf`). */
const fieldsName = (name: string): string => `decode${name}Fields`

const useImport = (ctx: DecoderCtx, def: string, ident: string): string => {
  const set = ctx.imports.get(def) ?? new Set<string>()
  set.add(ident)
  ctx.imports.set(def, set)
  return ident
}

const useRuntime = (ctx: DecoderCtx, ident: string): string => {
  ctx.runtime.add(ident)
  return ident
}

/** A module-level helper `code`; one per distinct code in a module. */
const hoist = (ctx: DecoderCtx, prefix: string, code: string): string => {
  const known = ctx.helpers.get(code)
  if (known !== undefined) return known
  const name = `_${prefix}${++ctx.counter.n}`
  ctx.helpers.set(code, name)
  ctx.hoisted.push(`const ${name} = ${code}\n`)
  return name
}

/** Number of fields a struct has, its bases' included (0 → Effect decodes it as "not nullish"). */
const fieldCount = (t: ObjectNode, w: World): number =>
  t.props.length + t.bases.reduce((n, b) => n + fieldCount(w.defs.get(b) as ObjectNode, w), 0)

/**
 * Reads key `name` of `u` as the Schema does (`key in input`, so a name like `constructor` reads
 * the inherited value too, and then fails its type check in both).
 */
const read = (name: string): string => isIdent(name) ? `u.${name}` : `u[${JSON.stringify(name)}]`

/** An expression naming a function `(u) => decoded | Invalid` for `t`. */
const fnFor = (t: TypeNode, path: string, ctx: DecoderCtx, w: World): string => {
  switch (t.kind) {
    case "ref":
      if (!w.defs.has(t.name)) throw new CodegenError(`${ctx.owner}: $ref to unknown definition ${t.name}`)
      return useImport(ctx, t.name, decoderName(t.name))
    case "string":
      return useRuntime(ctx, "decodeString")
    case "number":
      return useRuntime(ctx, "decodeNumber")
    case "boolean":
      return useRuntime(ctx, "decodeBoolean")
    case "unknown":
      return useRuntime(ctx, "decodeUnknown")
    case "enum":
      return useRuntime(ctx, typeof t.values[0] === "number" ? "decodeNumber" : "decodeString")
    case "array": {
      if (t.items.nullable) {
        const inner = fnFor({ ...t.items, nullable: false }, `${path}[]`, ctx, w)
        const item = hoist(ctx, "d", `(u: any): any => u === null ? null : ${inner}(u)`)
        return hoist(ctx, "d", `(u: any): any => ${useRuntime(ctx, "decodeArray")}(u, ${item})`)
      }
      const primitive = t.items.kind === "enum" ?
        (typeof t.items.values[0] === "number" ? "number" : "string")
        : t.items.kind
      // arrays of strings/numbers (stats' per-CPU usage, command lines): one loop, no call per item
      if (primitive === "string" || primitive === "number") {
        return useRuntime(ctx, primitive === "string" ? "decodeStringArray" : "decodeNumberArray")
      }
      const item = fnFor(t.items, `${path}[]`, ctx, w)
      return hoist(ctx, "d", `(u: any): any => ${useRuntime(ctx, "decodeArray")}(u, ${item})`)
    }
    case "record": {
      const inner = fnFor(t.values, `${path}{}`, ctx, w)
      // the same rule as the Schema (emit.ts): nullable map values
      const value = nullableProp(t.values, w)
        ? hoist(ctx, "d", `(u: any): any => u === null ? null : ${inner}(u)`)
        : inner
      return hoist(ctx, "d", `(u: any): any => ${useRuntime(ctx, "decodeRecord")}(u, ${value})`)
    }
    case "union": {
      const members = hoist(ctx, "m", `[${t.members.map((m) => fnFor(m, path, ctx, w)).join(", ")}]`)
      return hoist(ctx, "d", `(u: any): any => ${useRuntime(ctx, "decodeUnion")}(u, ${members})`)
    }
    case "object":
      return inlineObjectDecoder(t, path, ctx, w)
  }
}

/** Statements that check `v` as `t` and store the decoded value with `set`, or run `fail`. */
const valueStatements = (
  t: TypeNode,
  path: string,
  ctx: DecoderCtx,
  w: World,
  set: string,
  fail: string
): Array<string> => {
  const typeofCheck = (type: string) => [`if (typeof v !== "${type}") ${fail}`, `${set} = v`]
  switch (t.kind) {
    case "string":
      return typeofCheck("string")
    case "number":
      return typeofCheck("number")
    case "boolean":
      return typeofCheck("boolean")
    case "enum":
      return typeofCheck(typeof t.values[0] === "number" ? "number" : "string")
    case "unknown":
      return [`${set} = v`]
    default: {
      const Invalid = useRuntime(ctx, "Invalid")
      return [`v = ${fnFor(t, path, ctx, w)}(v)`, `if (v === ${Invalid}) ${fail}`, `${set} = v`]
    }
  }
}

/** Zero fields, more than one alias, or the statements that check and copy the fields. */
type ObjectPlan =
  | { readonly kind: "identity" }
  | { readonly kind: "schemaOnly" }
  | { readonly kind: "fields"; readonly body: string }

const IS_OBJECT = `typeof u !== "object" || u === null || Array.isArray(u)`

/**
 * How a struct decodes: its statements read `u`, write `o` and run `fail` on a mismatch (bases
 * first, as `Schema.Struct({ ...Base.fields, ... })` spreads them).
 */
const objectPlan = (t: ObjectNode, path: string, ctx: DecoderCtx, w: World, fail: string): ObjectPlan => {
  const aliases = Object.entries(t.aliases ?? {})
  // Each alias is a union member of its own in the Schema; not worth mirroring: the Schema decodes.
  if (aliases.length > 1) return { kind: "schemaOnly" }
  // `Schema.Struct({})` accepts any value but null/undefined, as it is.
  if (fieldCount(t, w) === 0) return { kind: "identity" }
  const [wire, canonical] = aliases[0] ?? []
  if (canonical !== undefined && !t.props.some((p) => p.name === canonical)) {
    throw new CodegenError(`${ctx.owner}: alias target ${canonical} must be an own property`)
  }
  if (wire !== undefined && t.props.some((p) => p.name === wire)) {
    throw new CodegenError(`${ctx.owner}: alias ${wire} is also a property`)
  }
  let body = ""
  for (const b of t.bases) {
    const d = w.defs.get(b)
    if (!d || d.kind !== "object" || (d.aliases && Object.keys(d.aliases).length > 0)) {
      throw new CodegenError(`${ctx.owner}: allOf base ${b} is not a plain object definition`)
    }
    body += `  if (!${useImport(ctx, b, fieldsName(b))}(u, o)) ${fail}\n`
  }
  if (t.props.length > 0) body += `  let v: any = undefined\n`
  for (const p of t.props) {
    if (p.name === "__proto__") throw new CodegenError(`${ctx.owner}: a property named __proto__`)
    const ppath = joinPath(path, p.name)
    const set = isIdent(p.name) ? `o.${p.name}` : `o[${JSON.stringify(p.name)}]`
    // `x-ed-aliases`: the Schema is a union of "canonical key present", "wire key present"
    // (renamed) and, for an optional key, "neither": read the canonical key, else the wire key.
    body += p.name === canonical
      ? `  v = ${read(p.name)}; if (v === undefined) v = ${read(wire!)}\n`
      : `  v = ${read(p.name)}\n`
    const required = w.diff.required(ctx.owner, ppath)
    let check = valueStatements(p.type, ppath, ctx, w, set, fail)
    if (nullableProp(p.type, w)) check = [`if (v === null) ${set} = null`, `else { ${check.join("; ")} }`]
    // a missing required key: refused by a bare typeof check, else by an explicit test
    if (required && !check[0]!.startsWith("if (typeof")) check.unshift(`if (v === undefined) ${fail}`)
    body += required ? `  ${check.join("; ")}\n` : `  if (v !== undefined) { ${check.join("; ")} }\n`
  }
  return { kind: "fields", body }
}

/** An inline struct's decoder: one function, shared by identical structs of the module. */
const inlineObjectDecoder = (t: ObjectNode, path: string, ctx: DecoderCtx, w: World): string => {
  const Invalid = useRuntime(ctx, "Invalid")
  const plan = objectPlan(t, path, ctx, w, `return ${Invalid}`)
  switch (plan.kind) {
    case "schemaOnly":
      return hoist(ctx, "d", `(_u: any): any => ${Invalid}`)
    case "identity":
      return hoist(ctx, "d", `(u: any): any => (u === null || u === undefined ? ${Invalid} : u)`)
    case "fields":
      return hoist(
        ctx,
        "d",
        `(u: any): any => {\n  if (${IS_OBJECT}) return ${Invalid}\n  const o: any = {}\n` +
          plan.body + `  return o\n}`
      )
  }
}

/**
 * A definition's `decode<name>` and, for structs that others spread (`allOf`), `decode<name>Fields`
 * (`(u, o) => boolean`: checks `u`'s fields and writes them into `o`).
 */
const definitionObjectDecoder = (name: string, t: ObjectNode, ctx: DecoderCtx, w: World, doc: string): string => {
  const Invalid = useRuntime(ctx, "Invalid")
  const head = `export const ${decoderName(name)} = (u: any): ${name} | ${Invalid} =>`
  const plan = objectPlan(t, "", ctx, w, "return false")
  switch (plan.kind) {
    case "schemaOnly":
      return doc + `${head} ${Invalid}\n`
    case "identity":
      return `export const ${fieldsName(name)} = (_u: any, _o: any): boolean => true\n` + doc +
        `${head} (u === null || u === undefined ? ${Invalid} : u)\n`
    case "fields":
      return `export const ${fieldsName(name)} = (u: any, o: any): boolean => {\n${plan.body}  return true\n}\n` +
        doc + `${head} {\n  if (${IS_OBJECT}) return ${Invalid}\n  const o: any = {}\n` +
        `  return ${fieldsName(name)}(u, o) ? o : ${Invalid}\n}\n`
  }
}

/**
 * The declarations of `decode<name>` for a schema named `name` of type `t` (a definition, or an
 * inline response schema of an operation): hoisted helpers first, then the exported decoder (and,
 * for a struct, `decode<name>Fields`).
 */
export const decoderDeclarations = (name: string, t: TypeNode, ctx: DecoderCtx, w: World): string => {
  const doc = `/** Decodes a JSON value as \`${name}\` does, or returns \`Invalid\` (then decode with the Schema). */\n`
  let own: string
  if (t.kind === "object") {
    if (t.nullable && name.endsWith("Response")) {
      throw new CodegenError(`${name}: a nullable object answer needs support in emit-decoders.ts`)
    }
    own = definitionObjectDecoder(name, t, ctx, w, doc)
  } else {
    const Invalid = useRuntime(ctx, "Invalid")
    const inner = fnFor(t, "", ctx, w)
    // the Schema's NullOr (emit.ts) for an answer the spec marks x-nullable
    const fn = t.nullable && name.endsWith("Response") ? `(u: any): any => u === null ? null : ${inner}(u)` : inner
    own = doc + `export const ${decoderName(name)}: (u: unknown) => ${name} | ${Invalid} = ${fn}\n`
  }
  const out = ctx.hoisted.join("") + own
  ctx.hoisted.length = 0
  return out
}
