/**
 * Stages 2+3 — resolve `$ref`/`allOf` and build the intermediate model from one (patched) spec.
 * `$ref`s to definitions stay named references (the emitter turns them into imports); inline
 * `allOf` parts are merged; everything the generator does not understand is an error, so an
 * upstream oddity has to be handled by an erratum rather than guessed at.
 */
import { CodegenError, type Doc } from "./load.js"

export type TypeNode =
  & { readonly description?: string; readonly nullable?: boolean }
  & (
    | { readonly kind: "ref"; readonly name: string }
    | { readonly kind: "string" }
    | { readonly kind: "number" }
    | { readonly kind: "boolean" }
    | { readonly kind: "unknown" }
    | { readonly kind: "enum"; readonly values: ReadonlyArray<string | number> }
    | { readonly kind: "array"; readonly items: TypeNode }
    | { readonly kind: "record"; readonly values: TypeNode }
    | { readonly kind: "union"; readonly members: ReadonlyArray<TypeNode> }
    | {
      readonly kind: "object"
      /** Definitions whose fields are spread first (`allOf` of `$ref`s). */
      readonly bases: ReadonlyArray<string>
      readonly props: ReadonlyArray<Prop>
      /** `x-ed-aliases`: wire key → canonical key (the daemon sends either). */
      readonly aliases?: Readonly<Record<string, string>>
    }
  )

export interface Prop {
  readonly name: string
  readonly type: TypeNode
  /** As the upstream spec says, in the newest version. The emitter applies the cross-version rule. */
  readonly required: boolean
  readonly description?: string
  /**
   * Set by the merge stage on a property that some older supported version has but newer ones
   * removed: the last version whose spec has it (`@deprecated Removed after API <until>`).
   */
  readonly until?: string
}

export const refName = (ref: string): string => {
  const m = /^#\/definitions\/(.+)$/.exec(ref)
  if (!m) throw new CodegenError(`unsupported $ref ${ref}`)
  return m[1]!
}

/** First sentence of a description, for JSDoc. */
export const firstSentence = (d: unknown): string | undefined => {
  if (typeof d !== "string") return undefined
  const text = d.replace(/\r/g, "").trim().split(/\n\s*\n/)[0]!.replace(/\s+/g, " ").trim()
  if (text.length === 0) return undefined
  // a sentence ends at . ! ? followed by a space and not inside "e.g." / "i.e." / "etc."
  const masked = text.replace(/\b(e\.g|i\.e|etc|vs)\./g, (x) => x.replace(/\./g, "\u0000"))
  const m = /^(.+?[.!?])(\s|$)/.exec(masked)
  let s = (m ? m[1]! : masked).replace(/\u0000/g, ".")
  if (s.length > 240) s = s.slice(0, 237) + "…"
  return s.replace(/\*\//g, "*\\/")
}

const withMeta = (node: TypeNode, s: Doc): TypeNode => {
  const description = firstSentence(s["description"])
  const nullable = s["x-nullable"] === true || s["nullable"] === true
  return {
    ...node,
    ...(description !== undefined && node.description === undefined ? { description } : {}),
    ...(nullable ? { nullable: true } : {})
  }
}

export const toType = (s: Doc | undefined, where: string): TypeNode => {
  if (s === undefined || s === null) return { kind: "unknown" }
  if (typeof s["$ref"] === "string") return withMeta({ kind: "ref", name: refName(s["$ref"]) }, s)
  if (Array.isArray(s["oneOf"])) {
    return withMeta(
      { kind: "union", members: s["oneOf"].map((m: Doc, i: number) => toType(m, `${where}/oneOf/${i}`)) },
      s
    )
  }
  if (Array.isArray(s["allOf"])) {
    const parts = s["allOf"] as Array<Doc>
    const fieldParts = parts.filter((p) =>
      p["$ref"] !== undefined || p["properties"] !== undefined || p["allOf"] !== undefined
    )
    if (
      fieldParts.length === 1 && typeof fieldParts[0]!["$ref"] === "string" && s["properties"] === undefined &&
      !s["x-ed-aliases"]
    ) {
      if (typeof s["x-ed-name"] === "string") {
        // a named composite of one definition: keep it a struct of that definition's fields
        return withMeta({ kind: "object", bases: [refName(fieldParts[0]!["$ref"])], props: [] }, s)
      }
      return withMeta({ kind: "ref", name: refName(fieldParts[0]!["$ref"]) }, s)
    }
    const bases: Array<string> = []
    const props: Array<Prop> = []
    let aliases: Record<string, string> | undefined
    for (const [i, part] of parts.entries()) {
      if (typeof part["$ref"] === "string") bases.push(refName(part["$ref"]))
      else if (
        part["properties"] === undefined && part["additionalProperties"] === undefined && part["allOf"] === undefined
      ) {
        continue // only an example/description: contributes no fields
      } else {
        const t = toType({ ...part, type: part["type"] ?? "object" }, `${where}/allOf/${i}`)
        if (t.kind !== "object") throw new CodegenError(`${where}/allOf/${i}: only objects can be merged`)
        bases.push(...t.bases)
        props.push(...t.props)
        if (t.aliases) aliases = { ...aliases, ...t.aliases }
      }
    }
    if (s["properties"] !== undefined) {
      const own = toType({ ...s, allOf: undefined, type: "object" }, where)
      if (own.kind === "object") props.push(...own.props)
    }
    if (s["x-ed-aliases"]) aliases = { ...aliases, ...(s["x-ed-aliases"] as Record<string, string>) }
    return withMeta({ kind: "object", bases, props, ...(aliases ? { aliases } : {}) }, s)
  }
  if (Array.isArray(s["enum"])) {
    const values = s["enum"] as Array<unknown>
    if (values.every((v) => typeof v === "string") || values.every((v) => typeof v === "number")) {
      return withMeta({ kind: "enum", values: values as Array<string | number> }, s)
    }
    throw new CodegenError(
      `${where}: enum of ${JSON.stringify(values)} (neither strings nor numbers): needs an erratum`
    )
  }
  const type = s["type"]
  switch (type) {
    case "string":
      return withMeta({ kind: "string" }, s)
    case "integer":
    case "number":
      return withMeta({ kind: "number" }, s)
    case "boolean":
      return withMeta({ kind: "boolean" }, s)
    case "array":
      return withMeta({ kind: "array", items: toType(s["items"], `${where}/items`) }, s)
    case "object":
    case undefined: {
      const properties = s["properties"] as Doc | undefined
      const additional = s["additionalProperties"]
      if (properties === undefined) {
        if (additional && typeof additional === "object") {
          return withMeta({ kind: "record", values: toType(additional, `${where}/additionalProperties`) }, s)
        }
        if (type === undefined) return withMeta({ kind: "unknown" }, s)
        // `type: object` and nothing else: an arbitrary JSON object.
        if (s["x-ed-empty"] === true) return withMeta({ kind: "object", bases: [], props: [] }, s)
        return withMeta({ kind: "record", values: { kind: "unknown" } }, s)
      }
      if (additional && typeof additional === "object" && Object.keys(additional).length > 0) {
        throw new CodegenError(`${where}: properties + additionalProperties is not supported`)
      }
      const required = new Set<string>(Array.isArray(s["required"]) ? s["required"] : [])
      const props: Array<Prop> = Object.entries(properties).map(([name, ps]) => {
        const t = toType(ps as Doc, `${where}/properties/${name}`)
        return { name, type: t, required: required.has(name), ...(t.description ? { description: t.description } : {}) }
      })
      const aliases = s["x-ed-aliases"] as Record<string, string> | undefined
      return withMeta({ kind: "object", bases: [], props, ...(aliases ? { aliases } : {}) }, s)
    }
    default:
      throw new CodegenError(`${where}: unsupported type ${JSON.stringify(type)}`)
  }
}

/** Every definition name a node refers to (not through other definitions). */
export const refsOf = (t: TypeNode, out: Set<string> = new Set()): Set<string> => {
  switch (t.kind) {
    case "ref":
      out.add(t.name)
      break
    case "array":
      refsOf(t.items, out)
      break
    case "record":
      refsOf(t.values, out)
      break
    case "union":
      for (const m of t.members) refsOf(m, out)
      break
    case "object":
      for (const b of t.bases) out.add(b)
      for (const p of t.props) refsOf(p.type, out)
      break
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Operations

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE"

export interface RawOperation {
  readonly operationId: string
  readonly method: HttpMethod
  readonly path: string
  readonly tag: string
  readonly op: Doc
}

export const operationsOf = (doc: Doc): Array<RawOperation> => {
  const out: Array<RawOperation> = []
  for (const [path, item] of Object.entries(doc["paths"] as Doc)) {
    for (const [method, op] of Object.entries(item as Doc)) {
      if (method === "parameters") throw new CodegenError(`${path}: path-level parameters are not supported`)
      const o = op as Doc
      out.push({
        operationId: String(o["operationId"]),
        method: method.toUpperCase() as HttpMethod,
        path,
        tag: String((o["tags"] as Array<string> | undefined)?.[0] ?? "Misc"),
        op: o
      })
    }
  }
  return out
}

export const paramKey = (p: Doc): string => `${p["in"]}:${String(p["name"]).toLowerCase()}`

/** The success response: the lowest 1xx/2xx status. */
export const successResponse = (op: Doc): { readonly code: string; readonly response: Doc } | undefined => {
  const codes = Object.keys(op["responses"] ?? {}).filter((c) => /^[12]\d\d$/.test(c)).sort()
  const code = codes.find((c) => c !== "101") ?? codes[0]
  return code === undefined ? undefined : { code, response: op["responses"][code] as Doc }
}

export type ResponseKind =
  | { readonly kind: "json"; readonly schema: Doc }
  | { readonly kind: "jsonStream"; readonly schema: Doc }
  | { readonly kind: "empty" | "text" | "stdio" | "headers" | "hijack" | "websocket" }
  | { readonly kind: "binary"; readonly contentType: string }

const STDIO = ["application/vnd.docker.raw-stream", "application/vnd.docker.multiplexed-stream"]
const NDJSON = ["application/x-ndjson", "application/jsonl", "application/json-seq"]

/**
 * How to read the success response. An explicit `x-ed-response` (set by an erratum) wins; otherwise
 * it follows from the spec: HEAD → headers; a 101 → hijack; raw/multiplexed-stream → stdio;
 * newline-delimited JSON → jsonStream; a binary produce type → binary; a schema → json; text/plain → text.
 */
export const responseKind = (op: Doc, where: string): ResponseKind => {
  const explicit = op["x-ed-response"] as Doc | undefined
  if (explicit) {
    if ((explicit["kind"] === "json" || explicit["kind"] === "jsonStream") && !explicit["schema"]) {
      throw new CodegenError(`${where}: x-ed-response ${explicit["kind"]} needs a schema`)
    }
    return explicit as ResponseKind
  }
  const produces: Array<string> = op["produces"] ?? []
  const ok = successResponse(op)
  const codes = Object.keys(op["responses"] ?? {})
  if (op["__method"] === "HEAD") return { kind: "headers" }
  if (codes.includes("101")) return { kind: "hijack" }
  if (produces.some((p) => STDIO.includes(p))) return { kind: "stdio" }
  const schema = ok?.response["schema"] as Doc | undefined
  if (schema && produces.some((p) => NDJSON.includes(p))) return { kind: "jsonStream", schema }
  const binary = produces.find((p) => p === "application/x-tar" || p === "application/octet-stream")
  if (binary) return { kind: "binary", contentType: binary }
  if (schema?.["format"] === "binary") return { kind: "binary", contentType: "application/octet-stream" }
  if (schema && produces.length > 0 && produces.every((p) => p === "text/plain")) return { kind: "text" }
  if (schema) return { kind: "json", schema }
  return { kind: "empty" }
}

export const bodyParam = (op: Doc): Doc | undefined =>
  ((op["parameters"] ?? []) as Array<Doc>).find((p) => p["in"] === "body")

export type BodyContentType = "application/json" | "application/x-tar" | "application/octet-stream" | "text/plain"

export const bodyContentType = (op: Doc, body: Doc): BodyContentType => {
  const consumes: Array<string> = op["consumes"] ?? []
  const schema = body["schema"] as Doc | undefined
  const isBytes = !schema ||
    (schema["type"] === "string" && (schema["format"] === "binary" || consumes.every((c) => c !== "application/json")))
  if (!isBytes) return "application/json"
  if (consumes.includes("application/x-tar")) return "application/x-tar"
  return "application/octet-stream"
}
