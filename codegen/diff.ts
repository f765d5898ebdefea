/**
 * Stage 4 — diff across versions: availability (since/until) of operations, parameters and
 * body/response properties, and the cross-version "required" rule.
 */
import { compareVersions, type Doc, type LoadedSpec } from "./load.js"
import { bodyParam, operationsOf, paramKey, type RawOperation, responseKind, toType, type TypeNode } from "./model.js"

export interface Availability {
  readonly since: string
  readonly until?: string
}

export const availabilityOf = (present: ReadonlyArray<string>, all: ReadonlyArray<string>): Availability => {
  const sorted = [...present].sort(compareVersions)
  const since = sorted[0]!
  const last = sorted[sorted.length - 1]!
  return last === all[all.length - 1] ? { since } : { since, until: last }
}

/** `A.B`, `A[]`, `A{}` (record values) — the path syntax shared by `fields` and the required rule. */
export const joinPath = (prefix: string, name: string): string => (prefix === "" ? name : `${prefix}.${name}`)

/** Property paths within one owner (not following `$ref`s) → required flag as the spec says. */
const collectRequired = (t: TypeNode, prefix: string, out: Map<string, boolean>): void => {
  switch (t.kind) {
    case "object":
      for (const p of t.props) {
        const path = joinPath(prefix, p.name)
        out.set(path, p.required)
        collectRequired(p.type, path, out)
      }
      break
    case "array":
      collectRequired(t.items, `${prefix}[]`, out)
      break
    case "record":
      collectRequired(t.values, `${prefix}{}`, out)
      break
    case "union":
      for (const m of t.members) collectRequired(m, prefix, out)
      break
    default:
      break
  }
}

/** Property paths reachable from a node, following `$ref`s (cycles cut). */
const collectFields = (
  t: TypeNode,
  prefix: string,
  defs: ReadonlyMap<string, TypeNode>,
  stack: ReadonlySet<string>,
  out: Set<string>
): void => {
  switch (t.kind) {
    case "ref": {
      const d = defs.get(t.name)
      if (d && !stack.has(t.name)) collectFields(d, prefix, defs, new Set([...stack, t.name]), out)
      break
    }
    case "object":
      for (const b of t.bases) collectFields({ kind: "ref", name: b }, prefix, defs, stack, out)
      for (const p of t.props) {
        const path = joinPath(prefix, p.name)
        out.add(path)
        collectFields(p.type, path, defs, stack, out)
      }
      break
    case "array":
      collectFields(t.items, `${prefix}[]`, defs, stack, out)
      break
    case "record":
      collectFields(t.values, `${prefix}{}`, defs, stack, out)
      break
    case "union":
      for (const m of t.members) collectFields(m, prefix, defs, stack, out)
      break
    default:
      break
  }
}

/** The schema (swagger node) of an operation's JSON body / JSON response, in one version. */
export const bodySchemaOf = (op: Doc): Doc | undefined => bodyParam(op)?.["schema"] as Doc | undefined
export const responseSchemaOf = (op: Doc, where: string): Doc | undefined => {
  const k = responseKind(op, where)
  return k.kind === "json" || k.kind === "jsonStream" ? k.schema : undefined
}

export interface Diff {
  readonly versions: ReadonlyArray<string>
  readonly operations: ReadonlyMap<string, Availability>
  /** operationId → paramKey (`in:name`, lowercased name) → availability */
  readonly params: ReadonlyMap<string, ReadonlyMap<string, Availability>>
  /** operationId → last version's raw parameter (for parameters gone from the newest spec) */
  readonly lastParams: ReadonlyMap<string, ReadonlyMap<string, Doc>>
  /** operationId → availability of its body */
  readonly bodies: ReadonlyMap<string, Availability>
  /** operationId → `body.X.Y` / `response.X` → availability */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, Availability>>
  /** owner (definition name, or `<OperationId>#body` / `#response`) → path → required in every version */
  readonly required: (owner: string, path: string) => boolean
  /** Raw operation per id in the newest version that has it. */
  readonly lastOperation: ReadonlyMap<string, RawOperation & { readonly version: string }>
}

export const diffSpecs = (specs: ReadonlyArray<LoadedSpec>): Diff => {
  const versions = specs.map((s) => s.version)
  const opPresence = new Map<string, Array<string>>()
  const paramPresence = new Map<string, Map<string, Array<string>>>()
  const lastParams = new Map<string, Map<string, Doc>>()
  const bodyPresence = new Map<string, Array<string>>()
  const fieldPresence = new Map<string, Map<string, Array<string>>>()
  const requiredByOwner = new Map<string, Array<Map<string, boolean>>>()
  const lastOperation = new Map<string, RawOperation & { version: string }>()

  const pushReq = (owner: string, t: TypeNode) => {
    const m = new Map<string, boolean>()
    collectRequired(t, "", m)
    const list = requiredByOwner.get(owner) ?? []
    list.push(m)
    requiredByOwner.set(owner, list)
  }
  const push = <K>(m: Map<K, Array<string>>, k: K, v: string) => {
    const l = m.get(k) ?? []
    l.push(v)
    m.set(k, l)
  }

  for (const { version, doc } of specs) {
    const defs = new Map<string, TypeNode>()
    for (const [name, d] of Object.entries(doc["definitions"] as Doc)) {
      const t = toType(d as Doc, `v${version}#/definitions/${name}`)
      defs.set(name, t)
      pushReq(name, t)
    }
    for (const raw of operationsOf(doc)) {
      const id = raw.operationId
      const where = `v${version} ${id}`
      const op: Doc = { ...raw.op, __method: raw.method }
      push(opPresence, id, version)
      lastOperation.set(id, { ...raw, version })
      const pp = paramPresence.get(id) ?? new Map<string, Array<string>>()
      paramPresence.set(id, pp)
      const lp = lastParams.get(id) ?? new Map<string, Doc>()
      lastParams.set(id, lp)
      for (const p of (op["parameters"] ?? []) as Array<Doc>) {
        if (p["in"] === "body") continue
        push(pp, paramKey(p), version)
        lp.set(paramKey(p), p)
      }
      const fp = fieldPresence.get(id) ?? new Map<string, Array<string>>()
      fieldPresence.set(id, fp)
      const body = bodySchemaOf(op)
      if (bodyParam(op)) push(bodyPresence, id, version)
      const resp = responseSchemaOf(op, where)
      for (const [prefix, schema] of [["body", body], ["response", resp]] as const) {
        if (!schema) continue
        const t = toType(schema, `${where} ${prefix}`)
        if (t.kind !== "ref") pushReq(`${id}#${prefix}`, t)
        const out = new Set<string>()
        collectFields(t, prefix, defs, new Set(), out)
        for (const f of out) push(fp, f, version)
      }
    }
  }

  const mapAvail = <K>(m: Map<K, Array<string>>) => new Map([...m].map(([k, v]) => [k, availabilityOf(v, versions)]))
  const ownerVersions = new Map([...requiredByOwner].map(([k, v]) => [k, v]))
  return {
    versions,
    operations: mapAvail(opPresence),
    params: new Map([...paramPresence].map(([id, m]) => [id, mapAvail(m)])),
    lastParams,
    bodies: mapAvail(bodyPresence),
    fields: new Map([...fieldPresence].map(([id, m]) => [id, mapAvail(m)])),
    required: (owner, path) => {
      const list = ownerVersions.get(owner)
      return list !== undefined && list.length > 0 && list.every((m) => m.get(path) === true)
    },
    lastOperation
  }
}
