/**
 * Stage 6 — emit `src/generated/` from the merged schemas (every property any supported version
 * has, see `merge.ts`), the newest (patched) spec's operations and the cross-version diff.
 * Output is a map of relative path → file content; `main.ts` writes or compares it.
 */
import type { Availability, Diff } from "./diff.js"
import { joinPath } from "./diff.js"
import { type ClientOperation, type ClientTable, emitClients } from "./emit-clients.js"
import { type DecoderCtx, decoderDeclarations, decoderImport, decoderName, newDecoderCtx } from "./emit-decoders.js"
import { type Ctx, deprecatedDoc, HEADER, isIdent, jsdoc, nullableProp, P, propKey, type World } from "./emit-shared.js"
import type { AppliedErratum, Erratum } from "./errata.js"
import { CodegenError, type Doc, type LoadedSpec } from "./load.js"
import type { Merged } from "./merge.js"
import {
  bodyContentType,
  bodyParam,
  firstSentence,
  operationsOf,
  paramKey,
  type Prop,
  type RawOperation,
  refsOf,
  responseKind,
  toType,
  type TypeNode
} from "./model.js"
import { removedFieldPolicies, type RemovedFieldTable } from "./removed-fields.js"

/** Wire name → argument key: `one-shot` → `oneShot`, `X-Registry-Auth` → `registryAuth`. */
export const camelKey = (name: string, where: "path" | "query" | "header"): string => {
  const base = where === "header" ? name.replace(/^X-/i, "") : name
  const parts = base.split(/[-_\s]+/).filter((s) => s.length > 0)
  const joined = parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join("")
  const key = joined[0]!.toLowerCase() + joined.slice(1)
  if (!isIdent(key)) throw new CodegenError(`cannot derive an argument key from "${name}"`)
  return key
}

const groupFile = (tag: string) => tag.toLowerCase()

const expr = (t: TypeNode, path: string, ctx: Ctx, w: World, indent: string): string => {
  switch (t.kind) {
    case "ref":
      if (!w.defs.has(t.name)) throw new CodegenError(`${ctx.owner}: $ref to unknown definition ${t.name}`)
      ctx.imports.add(t.name)
      return ctx.local(t.name)
    case "string":
      return "Schema.String"
    case "number":
      return "Schema.Number"
    case "boolean":
      return "Schema.Boolean"
    case "unknown":
      return "Schema.Unknown"
    case "enum": {
      const isNum = typeof t.values[0] === "number"
      const fn = isNum ? "openNumberEnum" : "openEnum"
      ctx.runtime.add(fn)
      return `${P}${fn}([${t.values.map((v) => JSON.stringify(v)).join(", ")}])`
    }
    case "array": {
      // Items are nullable only where the spec says so (x-nullable on `items`).
      const item = expr(t.items, `${path}[]`, ctx, w, indent)
      return `${P}Schema.Array(${t.items.nullable ? `${P}Schema.NullOr(${item})` : item})`
    }
    case "record": {
      // Map values follow the property rule: arrays, maps and objects (and what the spec marks
      // x-nullable) accept null — the daemon sends `"9090/tcp": null` for an exposed, unpublished port.
      const value = expr(t.values, `${path}{}`, ctx, w, indent)
      return `${P}Schema.Record(Schema.String, ${nullableProp(t.values, w) ? `${P}Schema.NullOr(${value})` : value})`
    }
    case "union":
      return `${P}Schema.Union([${t.members.map((m) => expr(m, path, ctx, w, indent)).join(", ")}])`
    case "object": {
      const fields = structFields(t, path, ctx, w, indent + "  ")
      if (t.aliases && Object.keys(t.aliases).length > 0) return aliased(t, fields, path, ctx, w, indent)
      return `${P}Schema.Struct({\n${fields}${indent}})`
    }
  }
}

const structFields = (
  t: Extract<TypeNode, { kind: "object" }>,
  path: string,
  ctx: Ctx,
  w: World,
  indent: string,
  rename?: Readonly<Record<string, string>>,
  forceRequired?: string
): string => {
  let out = ""
  for (const b of t.bases) {
    const d = w.defs.get(b)
    if (!d || d.kind !== "object" || (d.aliases && Object.keys(d.aliases).length > 0)) {
      throw new CodegenError(`${ctx.owner}: allOf base ${b} is not a plain object definition`)
    }
    ctx.imports.add(b)
    out += `${indent}...${ctx.local(b)}.fields,\n`
  }
  for (const p of t.props) {
    const ppath = joinPath(path, p.name)
    let e = expr(p.type, ppath, ctx, w, indent)
    if (nullableProp(p.type, w)) e = `${P}Schema.NullOr(${e})`
    if (p.name !== forceRequired && !w.diff.required(ctx.owner, ppath)) e = `${P}Schema.optionalKey(${e})`
    const doc = propDoc(p, w)
    out += p.until === undefined ? jsdoc(doc, indent) : deprecatedDoc(doc, p.until, indent)
    out += `${indent}${propKey(rename?.[p.name] ?? p.name)}: ${e},\n`
  }
  return out
}

/**
 * A property's JSDoc: the spec's description; for an undescribed `$ref` property (the spec
 * describes the definition, not the use), the definition's; else the wire name and type. Every
 * property has one so that the API reference (`npm run docs`, TypeDoc's `notDocumented`) passes.
 */
const propDoc = (p: Prop, w: World): string => {
  if (p.description !== undefined) return p.description
  const ref = p.type.kind === "ref" ? p.type.name : p.type.kind === "array" && p.type.items.kind === "ref"
    ? p.type.items.name
    : undefined
  if (ref !== undefined) {
    const text = w.defs.get(ref)?.description
    const what = p.type.kind === "array" ? `A list of \`${ref}\`` : `${/^[AEIOU]/.test(ref) ? "An" : "A"} \`${ref}\``
    return text === undefined ? `${what}.` : `${what}: ${text}`
  }
  return `\`${p.name}\` as the daemon sends it (${p.type.kind}; the spec does not describe it).`
}

/**
 * `x-ed-aliases: { ID: Id }`: the daemon sends `ID` or `Id`. Decodes either into the canonical key;
 * encodes with the canonical key. Members, in order: canonical key present; wire alias present
 * (renamed); and, when the canonical key is optional, the struct as declared (neither present).
 */
const aliased = (
  t: Extract<TypeNode, { kind: "object" }>,
  fields: string,
  path: string,
  ctx: Ctx,
  w: World,
  indent: string
): string => {
  ctx.needsTransformation.value = true
  const i2 = indent + "  "
  const members: Array<string> = []
  for (const [wire, canonical] of Object.entries(t.aliases!)) {
    const withCanonical = structFields(t, path, ctx, w, i2 + "  ", undefined, canonical)
    const withWire = structFields(t, path, ctx, w, i2 + "  ", { [canonical]: wire }, canonical)
    members.push(`${i2}${P}Schema.Struct({\n${withCanonical}${i2}})`)
    members.push(
      `${i2}${P}Schema.Struct({\n${withWire}${i2}}).pipe(${P}Schema.decodeTo(${P}Schema.Struct({\n${withCanonical}${i2}}), ${P}SchemaTransformation.transform({\n` +
        `${i2}  decode: ({ ${propKey(wire)}: v, ...rest }) => ({ ...rest, ${propKey(canonical)}: v }),\n` +
        `${i2}  encode: ({ ${propKey(canonical)}: v, ...rest }) => ({ ...rest, ${propKey(wire)}: v })\n` +
        `${i2}})))`
    )
    if (!w.diff.required(ctx.owner, joinPath(path, canonical))) {
      members.push(`${i2}${P}Schema.Struct({\n${fields}${i2}})`)
    }
  }
  return `${P}Schema.Union([\n${members.join(",\n")}\n${indent}])`
}

/**
 * The imports of a module of Schemas (`schemas/X.ts`, `operations/<tag>/<Op>.schemas.ts`): Effect's
 * Schema modules (deep imports: the `effect` barrel evaluates every Effect module, bench/README.md,
 * "Start-up"), the Schema runtime, the definitions it names.
 */
const schemaImports = (ctx: Ctx, from: string, code: string, self: string | undefined): string => {
  const fx = [/\bSchema\./.test(code) ? "Schema" : "", ctx.needsTransformation.value ? "SchemaTransformation" : ""]
    .filter(Boolean)
  const lines = fx.map((m) => `import * as ${m} from "effect/${m}"`)
  if (ctx.runtime.size > 0) {
    lines.push(`import { ${[...ctx.runtime].sort().join(", ")} } from "${from}../core/runtime.js"`)
  }
  for (const i of [...ctx.imports].sort()) {
    if (i === self) continue
    const l = ctx.local(i)
    const where = from === "../" ? "./" : `${from}schemas/`
    lines.push(`import { ${l === i ? i : `${i} as ${l}`} } from "${where}${i}.js"`)
  }
  return lines.join("\n") + "\n"
}

/**
 * The imports of a module of fast decoders (`decoders/X.ts`, `operations/<tag>/<Op>.ts`): plain JS,
 * no Schema — the decoder runtime, the definitions' decoders, and the types (erased) the decoders
 * and descriptors are declared with.
 */
const decoderImports = (
  dctx: DecoderCtx,
  from: string,
  self: string | undefined,
  types: ReadonlyMap<string, ReadonlySet<string>>
): string => {
  const lines: Array<string> = []
  if (dctx.runtime.size > 0) {
    lines.push(`import { ${[...dctx.runtime].sort().join(", ")} } from "${from}../core/fast-decode.js"`)
  }
  for (const i of [...dctx.imports.keys()].sort()) {
    if (i === self) continue
    const where = from === "../" ? "./" : `${from}decoders/`
    lines.push(`import { ${[...dctx.imports.get(i)!].sort().join(", ")} } from "${where}${i}.js"`)
  }
  for (const [module, names] of [...types].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    lines.push(`import type { ${[...names].sort().join(", ")} } from "${module}"`)
  }
  return lines.join("\n") + "\n"
}

/**
 * `async () => (await import(module)).name`: a Schema the descriptor loads on first use (an
 * `async` arrow, not `.then`, so that its type is the Schema's own, not widened to the contextual
 * `Schema.Top` of `SchemaRef`).
 */
const schemaRef = (module: string, name: string): string => `async () => (await import("${module}")).${name}`

const newCtx = (owner: string, clash?: string): Ctx => ({
  owner,
  imports: new Set(),
  runtime: new Set(),
  needsTransformation: { value: false },
  local: (name) => (name === clash ? `${name}Schema` : name)
})

// ---------------------------------------------------------------------------------------------

const availLiteral = (a: Availability): string =>
  a.until === undefined ? `since: "${a.since}"` : `since: "${a.since}", until: "${a.until}"`

/** A removed parameter's or body field's availability, with its spec/removed-fields.yaml policy. */
const removedLiteral = (a: Availability, policy: () => string): string =>
  a.until === undefined ? availLiteral(a) : `${availLiteral(a)}, whenRemoved: "${policy()}"`

export interface EmitInput {
  readonly newest: LoadedSpec
  readonly diff: Diff
  readonly merged: Merged
  readonly errata: ReadonlyArray<Erratum>
  readonly applied: ReadonlyArray<AppliedErratum>
  readonly clients: ClientTable
  readonly removedFields: RemovedFieldTable
}

export interface EmitOutput {
  readonly files: ReadonlyMap<string, string>
  readonly stats: { readonly definitions: number; readonly operations: number; readonly inlineSchemas: number }
}

export const emit = ({ applied, clients, diff, errata, merged, newest, removedFields }: EmitInput): EmitOutput => {
  const doc = newest.doc
  const removed = removedFieldPolicies(removedFields)
  const files = new Map<string, string>()
  const defs = merged.defs
  for (const name of defs.keys()) {
    if (!isIdent(name)) throw new CodegenError(`definition name ${name} is not an identifier`)
  }
  const w: World = { defs, diff }

  // Recursion check: the Docker spec has none today; refuse rather than emit a TDZ error.
  const visiting = new Set<string>()
  const done = new Set<string>()
  const visit = (n: string, trail: Array<string>) => {
    if (done.has(n)) return
    if (visiting.has(n)) {
      throw new CodegenError(
        `recursive definitions ${[...trail, n].join(" → ")}: add Schema.suspend support to the emitter`
      )
    }
    visiting.add(n)
    for (const r of refsOf(defs.get(n)!)) if (defs.has(r)) visit(r, [...trail, n])
    visiting.delete(n)
    done.add(n)
  }
  for (const n of [...defs.keys()].sort()) visit(n, [])

  // --- definitions: one module each
  const defNames = [...defs.keys()].sort()
  for (const name of defNames) {
    const t = defs.get(name)!
    const ctx = newCtx(name)
    const body = expr(t, "", ctx, w, "")
    const dctx = newDecoderCtx(name)
    const decoder = decoderDeclarations(name, t, dctx, w)
    const src = ((doc["definitions"] as Doc)[name] ?? {}) as Doc
    const goneAfter = merged.goneDefs.get(name)
    const text = t.description ?? `${name} (Engine API definition).`
    files.set(
      `schemas/${name}.ts`,
      HEADER + schemaImports(ctx, "../", body, name) + "\n" +
        (goneAfter === undefined ? jsdoc(text, "") : deprecatedDoc(text, goneAfter, "")) +
        `export const ${name} = ${body}\n` +
        `export type ${name} = typeof ${name}.Type\n` +
        (src["x-ed-errata"] ? `// errata: ${String(src["x-ed-errata"])}\n` : "")
    )
    // The fast decoder in a module of its own: evaluating it evaluates no Schema.
    files.set(
      `decoders/${name}.ts`,
      HEADER + decoderImports(dctx, "../", name, new Map([[`../schemas/${name}.js`, new Set([name])]])) + "\n" +
        decoder
    )
  }
  files.set(
    "schemas/index.ts",
    HEADER + defNames.map((n) => `export { ${n} } from "./${n}.js"`).join("\n") + "\n"
  )

  // --- operations
  const newestOps = new Map(operationsOf(doc).map((o) => [o.operationId, o]))
  const allIds = [...diff.operations.keys()].sort()
  const groups = new Map<string, Array<string>>()
  let inlineSchemas = 0
  const availabilityRows: Array<string> = []
  const clientOps: Array<ClientOperation> = []
  for (const id of allIds) {
    const raw: RawOperation = newestOps.get(id) ?? diff.lastOperation.get(id)!
    const op: Doc = { ...raw.op, __method: raw.method }
    const where = id
    const avail = diff.operations.get(id)!
    const ctx = newCtx(`${id}#args`, id)
    // The descriptor module (`<Op>.ts`: data and fast decoders) and the Schema module
    // (`<Op>.schemas.ts`), which the descriptor names through `schemaRef` only.
    const exported: Array<string> = [id]
    const exportedSchemas: Array<string> = [`${id}Args`]
    const decls: Array<string> = []
    const decoderDecls: Array<string> = []
    const nsTypes: Array<string> = []
    const ownSchemas = `./${id}.schemas.js`
    /** Module → the types the descriptor module imports from it (`X` or `X as XSchema`). */
    const types = new Map<string, Set<string>>([[ownSchemas, new Set([`${id}Args`])]])
    const useType = (module: string, name: string) => types.set(module, (types.get(module) ?? new Set()).add(name))

    const dctx = newDecoderCtx(`${id}#response`)
    /**
     * The Schema's local name, its reference (`schemaRef`), and for a response its fast decoder's
     * (`emit-decoders.ts`).
     */
    const named = (
      schema: Doc,
      role: "body" | "response",
      fallback: string
    ): { readonly schema: string; readonly ref: string; readonly decoder: string } => {
      // the union of this schema across every version that has the operation (merge.ts)
      const t = merged.opSchema(id, role) ?? toType(schema, `${where} ${role}`)
      if (t.kind === "ref") {
        // a body's Schema is a field of the arguments' Schema; a response's is only referenced
        if (role === "body") ctx.imports.add(t.name)
        const decoder = role === "response" ? decoderImport(dctx, t.name) : ""
        const local = ctx.local(t.name)
        const module = `../../schemas/${t.name}.js`
        useType(module, local === t.name ? t.name : `${t.name} as ${local}`)
        return { schema: local, ref: schemaRef(module, t.name), decoder }
      }
      const name = typeof schema["x-ed-name"] === "string" ? schema["x-ed-name"] : fallback
      if (defs.has(name)) throw new CodegenError(`${id}: inline ${role} name ${name} clashes with a definition`)
      const c: Ctx = { ...ctx, owner: `${id}#${role}` }
      decls.push(
        jsdoc(t.description ?? `${role === "body" ? "Request body" : "Response"} of ${id}.`, "") +
          // A whole answer may be `null` only where the spec (or an erratum) says x-nullable.
          `export const ${name} = ${
            t.nullable ? `${P}Schema.NullOr(${expr(t, "", c, w, "")})` : expr(t, "", c, w, "")
          }\n` +
          `export type ${name} = typeof ${name}.Type\n`
      )
      if (role === "response") decoderDecls.push(decoderDeclarations(name, t, dctx, w))
      inlineSchemas++
      exportedSchemas.push(name)
      useType(ownSchemas, name)
      if (role === "response") exported.push(decoderName(name))
      return { schema: name, ref: schemaRef(ownSchemas, name), decoder: role === "response" ? decoderName(name) : "" }
    }

    // params: newest spec order, then parameters gone from the newest spec
    const params: Array<Doc> = ((op["parameters"] ?? []) as Array<Doc>).filter((p) => p["in"] !== "body")
    const present = new Set(params.map(paramKey))
    for (const [k, p] of diff.lastParams.get(id) ?? []) if (!present.has(k)) params.push(p)
    const paramAvail = diff.params.get(id)!
    const argFields: Array<string> = []
    const paramLits: Array<string> = []
    const pathKeyOf = new Map<string, string>()
    const otherKeys: Array<{ key: string; required: boolean }> = []
    const keys = new Set<string>()
    for (const p of params) {
      const name = String(p["name"])
      const loc = p["in"] as "path" | "query" | "header"
      if (!["path", "query", "header"].includes(loc)) throw new CodegenError(`${id}: parameter in ${loc}`)
      const key = typeof p["x-ed-key"] === "string" ? p["x-ed-key"] : camelKey(name, loc)
      if (keys.has(key) || key === "body") throw new CodegenError(`${id}: duplicate argument key ${key}`)
      keys.add(key)
      const required = loc === "path" || p["required"] === true
      if (loc === "path") pathKeyOf.set(name, key)
      else otherKeys.push({ key, required })
      const t: TypeNode = p["x-ed-schema"]
        ? toType(p["x-ed-schema"] as Doc, `${id} param ${name}`)
        : toType({ type: p["type"], items: p["items"], enum: p["enum"] } as Doc, `${id} param ${name}`)
      const encoding = typeof p["x-ed-encoding"] === "string"
        ? p["x-ed-encoding"]
        : loc === "path"
        ? "string"
        : p["type"] === "boolean"
        ? "boolean"
        : p["type"] === "integer"
        ? "integer"
        : p["type"] === "number"
        ? "number"
        : p["type"] === "array"
        ? (p["collectionFormat"] === "multi" ? "repeat" : "csv")
        : "string"
      const a = paramAvail.get(paramKey(p))!
      const dflt = p["x-ed-default"] ?? p["default"]
      const hasDefault = dflt !== undefined && dflt !== ""
      // x-ed-always-send: the daemon does not apply its default, so the executor sends it.
      const alwaysSent = p["x-ed-always-send"] === true
      if (alwaysSent && (!hasDefault || required)) {
        throw new CodegenError(`${id}: x-ed-always-send on ${name} needs a default and an optional parameter`)
      }
      paramLits.push(
        `    { name: ${
          JSON.stringify(name)
        }, key: "${key}", in: "${loc}", required: ${required}, encoding: "${encoding}", ${
          removedLiteral(a, () => removed.policyOf(id, `${loc}.${name}`, a.until!))
        }` +
          (hasDefault ? `, default: ${JSON.stringify(dflt)}` : "") + (alwaysSent ? ", alwaysSent: true" : "") + ` }`
      )
      const sentence = firstSentence(p["description"])
      const desc = [
        sentence === undefined ? "" : /[.!?…]$/.test(sentence) ? sentence : `${sentence}.`,
        alwaysSent
          ? `Sent as \`${JSON.stringify(dflt)}\` when omitted.`
          : hasDefault
          ? `Daemon default: \`${JSON.stringify(dflt)}\`.`
          : "",
        a.since !== diff.versions[0] ? `Since API ${a.since}.` : "",
        a.until ? `Until API ${a.until}.` : "",
        `Wire: ${loc} \`${name}\` (${encoding}).`
      ].filter((s) => s && s.length > 0).join(" ")
      const e = expr(t, key, ctx, w, "  ")
      argFields.push(jsdoc(desc, "  ") + `  ${key}: ${required ? e : `${P}Schema.optionalKey(${e})`},\n`)
    }

    // body
    const bp = bodyParam(op)
    let bodyLit = ""
    let bodyType: string | undefined
    let bodyFrom: "operation" | "schema" = "operation"
    if (bp) {
      const ct = bodyContentType(op, bp)
      const a = diff.bodies.get(id)!
      const required = bp["required"] === true
      let bodySchema: { readonly schema: string; readonly ref: string } | undefined
      if (ct === "application/json") {
        bodySchema = named(bp["schema"] as Doc, "body", `${id}Body`)
        bodyType = bodySchema.schema
        if (defs.has(bodyType)) bodyFrom = "schema"
      } else ctx.runtime.add("ByteBody")
      bodyLit = `  body: { key: "body", required: ${required}, contentType: "${ct}", ${availLiteral(a)}${
        bodySchema ? `, schema: ${bodySchema.ref}` : ""
      } },\n`
      const e = bodySchema?.schema ?? "ByteBody"
      const desc = bodySchema
        ? `Request body (JSON).`
        : `Request body: bytes (${ct}), a \`Uint8Array\` or a byte \`Stream\` / \`AsyncIterable\` sent as it flows.`
      argFields.push(jsdoc(desc, "  ") + `  body: ${required ? e : `${P}Schema.optionalKey(${e})`},\n`)
    }

    // response
    const rk = responseKind(op, where)
    let respLit: string
    if (rk.kind === "json" || rk.kind === "jsonStream") {
      const { decoder, ref, schema: n } = named(
        rk.schema,
        "response",
        rk.kind === "json" ? `${id}Response` : `${id}Message`
      )
      respLit = `{ kind: "${rk.kind}", schema: ${ref}, decode: ${decoder} }`
      nsTypes.push(
        rk.kind === "json"
          ? `  /** The decoded answer of ${id}. */\n  export type Response = ${n}`
          : `  /** One decoded message of ${id}'s JSON stream. */\n  export type Message = ${n}`
      )
    } else if (rk.kind === "binary") {
      respLit = `{ kind: "binary", contentType: ${JSON.stringify(rk.contentType)} }`
    } else respLit = `{ kind: "${rk.kind}" }`

    // registry auth + response headers
    const headerNames = params.filter((p) => p["in"] === "header").map((p) => String(p["name"]).toLowerCase())
    const registryAuth = headerNames.includes("x-registry-auth")
      ? "X-Registry-Auth"
      : headerNames.includes("x-registry-config")
      ? "X-Registry-Config"
      : undefined
    const okCode = Object.keys(op["responses"] ?? {}).filter((c) => /^2\d\d$/.test(c)).sort()[0]
    const okHeaders = okCode ? Object.keys((op["responses"][okCode]?.["headers"] ?? {}) as Doc) : []
    const respHeaders = [...new Set([...okHeaders, ...((op["x-ed-response-headers"] ?? []) as Array<string>)])]

    // fields with their own availability
    const fieldLits: Array<string> = []
    for (
      const [path, a] of [...(diff.fields.get(id) ?? new Map<string, Availability>())].sort((
        [x],
        [y]
      ) => (x < y ? -1 : x > y ? 1 : 0))
    ) {
      if (a.since === avail.since && a.until === avail.until) continue
      const literal = path.startsWith("body.")
        ? removedLiteral(a, () => removed.policyOf(id, path, a.until!))
        : availLiteral(a)
      fieldLits.push(`    ${JSON.stringify(path)}: { ${literal} },`)
    }

    const argsName = `${id}Args`
    if (defs.has(argsName)) throw new CodegenError(`${argsName} clashes with a definition`)
    const summary = typeof op["summary"] === "string" ? op["summary"] : undefined
    const opDoc = [
      summary,
      `\`${raw.method} ${raw.path}\`, API ${avail.since}${avail.until ? `–${avail.until}` : "+"}.`
    ]
      .filter(Boolean).join(" — ")
    if (bodyType) nsTypes.unshift(`  /** The JSON request body of ${id}. */\n  export type Body = ${bodyType}`)
    nsTypes.unshift(`  /** The arguments of ${id} (\`${argsName}\`). */\n  export type Args = ${argsName}`)

    const g = groupFile(raw.tag)
    const argsSchema = `${P}Schema.Struct({\n${argFields.join("")}})`
    files.set(
      `operations/${g}/${id}.schemas.ts`,
      HEADER + schemaImports(ctx, "../../", argsSchema, undefined) + "\n" +
        decls.join("\n") + (decls.length ? "\n" : "") +
        jsdoc(`Arguments of ${id}: path, query and header parameters${bp ? " plus `body`" : ""}.`, "") +
        `export const ${argsName} = ${argsSchema}\n` +
        `export type ${argsName} = typeof ${argsName}.Type\n`
    )
    // The operation's own types, for `import type { ContainerCreateBody } from "…/ContainerCreate.js"`.
    const ownTypes = [...types.get(ownSchemas)!].sort()
    types.set("../../../core/descriptor.js", new Set(["OperationDescriptor"]))
    const content = HEADER +
      decoderImports(dctx, "../../", undefined, types) + "\n" +
      `export type { ${ownTypes.join(", ")} }\n\n` +
      decoderDecls.join("\n") + (decoderDecls.length ? "\n" : "") +
      jsdoc(opDoc, "") +
      `export const ${id} = {\n` +
      `  operationId: "${id}",\n  method: "${raw.method}",\n  path: "${raw.path}",\n  ${availLiteral(avail)},\n` +
      // The ping is sent without a version, as the Docker CLI sends it (moby's client/ping.go):
      // it is how a client learns the version, so it must not wait for one.
      (raw.path === "/_ping" ? `  unversioned: true,\n` : "") +
      `  params: [\n${paramLits.join(",\n")}${paramLits.length ? "\n" : ""}  ],\n` +
      bodyLit +
      `  response: ${respLit},\n` +
      (registryAuth ? `  registryAuth: "${registryAuth}",\n` : "") +
      (respHeaders.length ? `  responseHeaders: [${respHeaders.map((h) => JSON.stringify(h)).join(", ")}],\n` : "") +
      (fieldLits.length ? `  fields: {\n${fieldLits.join("\n")}\n  },\n` : "") +
      `  args: ${schemaRef(ownSchemas, argsName)}\n` +
      `} satisfies OperationDescriptor\n\n` +
      `export declare namespace ${id} {\n${nsTypes.join("\n")}\n}\n`
    files.set(`operations/${g}/${id}.ts`, content)
    groups.set(g, [
      ...(groups.get(g) ?? []),
      `export { ${exported.join(", ")} } from "./${id}.js"`,
      `export { ${exportedSchemas.join(", ")} } from "./${id}.schemas.js"`
    ])
    availabilityRows.push(`  ${id}: { ${availLiteral(avail)} },`)
    clientOps.push({
      id,
      group: g,
      method: raw.method,
      path: raw.path,
      summary,
      description: firstSentence(op["description"]),
      pathKeys: [...raw.path.matchAll(/\{([^}]+)\}/g)].map((m) => pathKeyOf.get(m[1]!) ?? m[1]!),
      otherKeys,
      jsonBody: bodyType === undefined
        ? undefined
        : { type: bodyType, from: bodyFrom, required: bp?.["required"] === true },
      hasRawBody: bp !== undefined && bodyType === undefined,
      response: rk.kind === "json" || rk.kind === "jsonStream" || rk.kind === "binary"
        ? rk.kind
        : rk.kind === "empty" || rk.kind === "text" || rk.kind === "headers"
        ? "void"
        : "other"
    })
  }
  removed.checkAllUsed()
  for (const [path, content] of emitClients(clientOps, clients)) files.set(path, content)

  const groupNames = [...groups.keys()].sort()
  for (const g of groupNames) {
    files.set(
      `operations/${g}/index.ts`,
      HEADER + groups.get(g)!.join("\n") + "\n"
    )
  }
  files.set("operations/index.ts", HEADER + groupNames.map((g) => `export * from "./${g}/index.js"`).join("\n") + "\n")
  files.set(
    "availability.ts",
    HEADER + `/** Since/until of every operation, from diffing the specs of every supported version. */\n` +
      `export const operationAvailability = {\n${availabilityRows.join("\n")}\n} as const\n`
  )
  const versionsTs = HEADER +
    `/** Engine API versions the generated code was derived from (spec/versions.json). */\n` +
    `export const supportedVersions = [${diff.versions.map((v) => `"${v}"`).join(", ")}] as const\n` +
    `/** One of {@link supportedVersions}. */\n` +
    `export type SupportedVersion = (typeof supportedVersions)[number]\n` +
    `/** The newest Engine API version the generated code knows (negotiation never goes above it). */\n` +
    `export const newestVersion = "${newest.version}" as const\n` +
    `/** The oldest Engine API version the generated code supports. */\n` +
    `export const oldestVersion = "${diff.versions[0]}" as const\n\n` +
    `/** The errata overlays (spec/errata/) applied to the upstream specs. */\n` +
    `export const errata = [\n` +
    errata.map((e) => {
      const ap = applied.find((a) => a.id === e.id)
      return `  { id: ${JSON.stringify(e.id)}, title: ${JSON.stringify(e.title)}, reason: ${
        JSON.stringify(e.reason)
      }, proof: ${JSON.stringify(e.proof)}, versions: [${(ap?.versions ?? []).map((v) => `"${v}"`).join(", ")}] },`
    }).join("\n") + `\n] as const\n`
  files.set("versions.ts", versionsTs)
  files.set(
    "index.ts",
    HEADER +
      `/** Operation descriptors and their argument schemas (\`ContainerList\`, \`ContainerListArgs\`, …). */\n` +
      `export * from "./operations/index.js"\n` +
      `/** Per-tag clients: the operations whose methods only forward their arguments (spec/clients.yaml). */\n` +
      `export * from "./clients/index.js"\n` +
      `/** Definition schemas, namespaced: some share a name with an operation (\`SystemInfo\`). */\n` +
      `export * as Schemas from "./schemas/index.js"\n` +
      `export * from "./availability.js"\nexport * from "./versions.js"\n` +
      `/** What the fast decoders (\`decodeX\`) return for a value they do not accept. */\n` +
      `export { Invalid } from "../core/fast-decode.js"\n`
  )
  return { files, stats: { definitions: defNames.length, operations: allIds.length, inlineSchemas } }
}
