/**
 * Stage 5 — merge: the union of every definition and inline body/response schema across all
 * supported versions, so that what an older daemon sends (or an older daemon accepts) is kept
 * even when a newer spec removed it.
 *
 * Rule: a property is kept if any supported version has it. One removed in a later version is
 * kept with its type from the newest version that had it, marked `until` (the last version whose
 * spec has it); the cross-version required rule (it is absent from the newer versions) makes it
 * optional, and the emitter marks it `@deprecated Removed after API <until>`.
 *
 * The versions are folded oldest → newest: `M(v)` = the spec of `v` merged with `M(previous)`.
 * Schemas correspond by position, not only by name, so renames and inlining are followed:
 *
 * - a definition that disappears while the same position (a property, array items, an operation's
 *   body/response) now refers to another definition was **renamed** (`IdResponse` → `IDResponse`,
 *   `GraphDriverData` → `DriverData`, `Port` → `PortSummary`, `NetworkContainer` →
 *   `EndpointResource`, `VolumeCreateOptions` → `VolumeCreateRequest`): its history merges into the
 *   new name and references to the old name (in carried properties) are rewritten;
 * - an **inline** schema replaced by a reference (`ContainerInspect`'s inline response →
 *   `ContainerInspectResponse`, `Task.Status` → `TaskStatus`) merges into that definition;
 * - a reference replaced by an inline schema merges the old definition's properties into it;
 * - a position whose kind changed (object → string: `PluginInterfaceType`) keeps the newest kind.
 *
 * A definition that disappears with no successor is carried along and emitted only if something
 * still refers to it (none today).
 *
 * The required rule (`diff.ts`) is unchanged: it runs over the versions where the owner exists under
 * its own name. Renamed or inlined predecessors contribute properties (always optional), not
 * `required` flags: the old inline schemas simply had no `required` lists (R1 verified that 20.10
 * sends what the newer definitions require).
 */
import { joinPath } from "./diff.js"
import { CodegenError, type Doc, type LoadedSpec } from "./load.js"
import { bodyParam, operationsOf, type Prop, refsOf, responseKind, toType, type TypeNode } from "./model.js"

type ObjectNode = Extract<TypeNode, { kind: "object" }>
type Role = "body" | "response"

interface World {
  readonly version: string
  readonly defs: ReadonlyMap<string, TypeNode>
  /** Definitions carried from older versions that no spec from here on has: name → last version. */
  readonly gone: ReadonlyMap<string, string>
  /** `<OperationId>#body|#response` → schema. */
  readonly ops: ReadonlyMap<string, TypeNode>
}

export interface Recovered {
  /** Definition name, or `<OperationId>#body|#response`. */
  readonly owner: string
  /** Path within the owner (`Status.ContainerStatus`, `[].Kind`). */
  readonly path: string
  readonly until: string
}

export interface Merged {
  readonly versions: ReadonlyArray<string>
  /** Merged definitions: the newest spec's names, plus any gone definition still referenced. */
  readonly defs: ReadonlyMap<string, TypeNode>
  /** Definitions no longer in the newest spec (emitted because something refers to them) → last version. */
  readonly goneDefs: ReadonlyMap<string, string>
  /** The merged schema of an operation's JSON body / response (a `ref` when it is a definition). */
  readonly opSchema: (operationId: string, role: Role) => TypeNode | undefined
  /** Every rename followed: old name → name in the newest spec. */
  readonly renames: ReadonlyMap<string, string>
  /** Properties kept only because an older version has them. */
  readonly recovered: ReadonlyArray<Recovered>
}

const opKey = (id: string, role: Role) => `${id}#${role}`

/** A version's definitions and operation body/response schemas, as model nodes. */
const rawWorld = ({ doc, version }: LoadedSpec): { defs: Map<string, TypeNode>; ops: Map<string, TypeNode> } => {
  const defs = new Map<string, TypeNode>()
  for (const [name, d] of Object.entries(doc["definitions"] as Doc)) {
    defs.set(name, toType(d as Doc, `v${version}#/definitions/${name}`))
  }
  const ops = new Map<string, TypeNode>()
  for (const raw of operationsOf(doc)) {
    const op: Doc = { ...raw.op, __method: raw.method }
    const where = `v${version} ${raw.operationId}`
    const body = bodyParam(op)?.["schema"] as Doc | undefined
    if (body) ops.set(opKey(raw.operationId, "body"), toType(body, `${where} body`))
    const k = responseKind(op, where)
    if (k.kind === "json" || k.kind === "jsonStream") {
      ops.set(opKey(raw.operationId, "response"), toType(k.schema, `${where} response`))
    }
  }
  return { defs, ops }
}

/** Rewrites references through `renames`. */
const renameRefs = (t: TypeNode, renames: ReadonlyMap<string, string>): TypeNode => {
  if (renames.size === 0) return t
  switch (t.kind) {
    case "ref": {
      const to = renames.get(t.name)
      return to === undefined ? t : { ...t, name: to }
    }
    case "array":
      return { ...t, items: renameRefs(t.items, renames) }
    case "record":
      return { ...t, values: renameRefs(t.values, renames) }
    case "union":
      return { ...t, members: t.members.map((m) => renameRefs(m, renames)) }
    case "object":
      return {
        ...t,
        bases: t.bases.map((b) => renames.get(b) ?? b),
        props: t.props.map((p) => ({ ...p, type: renameRefs(p.type, renames) }))
      }
    default:
      return t
  }
}

/** An object's properties including those of its `allOf` bases (bases first, own props override). */
const flatten = (
  t: ObjectNode,
  defs: (name: string) => TypeNode | undefined,
  seen: ReadonlySet<string> = new Set()
): Map<string, Prop> => {
  const out = new Map<string, Prop>()
  for (const b of t.bases) {
    const d = defs(b)
    if (d?.kind !== "object" || seen.has(b)) continue
    for (const [k, v] of flatten(d, defs, new Set([...seen, b]))) out.set(k, v)
  }
  for (const p of t.props) out.set(p.name, p)
  return out
}

const resolve = (t: TypeNode, defs: ReadonlyMap<string, TypeNode>): TypeNode => {
  let cur = t
  for (let i = 0; cur.kind === "ref" && i < 20; i++) {
    const d = defs.get(cur.name)
    if (!d) return cur
    cur = d
  }
  return cur
}

/** One fold step: the spec of `raw.version` merged with `prev` (everything older, merged). */
const step = (
  raw: { readonly version: string; readonly defs: Map<string, TypeNode>; readonly ops: Map<string, TypeNode> },
  prev: World,
  renamesOut: Map<string, string>
): World => {
  const v = raw.version
  // ---- discovery: renames and inline → ref contributions, by position
  const renameCandidates = new Map<string, Set<string>>()
  const contributions = new Map<string, Array<TypeNode>>()
  const seen = new Set<string>()
  const inlineSeen = new Map<TypeNode, Set<string>>()
  const walk = (n: TypeNode, o: TypeNode): void => {
    if (n.kind === "ref" && o.kind === "ref") {
      if (n.name === o.name) return // same definition: walked on its own
      const key = `${o.name}>${n.name}`
      if (seen.has(key)) return
      seen.add(key)
      if (!raw.defs.has(o.name) && prev.defs.has(o.name)) {
        const s = renameCandidates.get(o.name) ?? new Set<string>()
        s.add(n.name)
        renameCandidates.set(o.name, s)
      }
      const nd = raw.defs.get(n.name)
      const od = prev.defs.get(o.name)
      if (nd && od) walk(nd, od)
      return
    }
    if (n.kind === "ref") {
      const nd = raw.defs.get(n.name)
      if (o.kind === "object") {
        const targets = inlineSeen.get(o) ?? new Set<string>()
        if (targets.has(n.name)) return
        targets.add(n.name)
        inlineSeen.set(o, targets)
        const list = contributions.get(n.name) ?? []
        list.push(o)
        contributions.set(n.name, list)
      }
      if (nd) walk(nd, o)
      return
    }
    if (o.kind === "ref") {
      const od = prev.defs.get(o.name)
      if (od) walk(n, od)
      return
    }
    if (n.kind === "object" && o.kind === "object") {
      const fo = flatten(o, (x) => prev.defs.get(x))
      for (const [name, prop] of flatten(n, (x) => raw.defs.get(x))) {
        const op = fo.get(name)
        if (op) walk(prop.type, op.type)
      }
      return
    }
    if (n.kind === "array" && o.kind === "array") return walk(n.items, o.items)
    if (n.kind === "record" && o.kind === "record") return walk(n.values, o.values)
  }
  for (const [name, n] of [...raw.defs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const o = prev.defs.get(name)
    if (o) walk(n, o)
  }
  for (const [key, n] of [...raw.ops].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const o = prev.ops.get(key)
    if (o) walk(n, o)
  }
  const renames = new Map<string, string>()
  for (const [from, tos] of renameCandidates) {
    if (tos.size > 1) {
      throw new CodegenError(
        `v${v}: definition ${from} disappeared and its positions now refer to ${[...tos].join(", ")}; ` +
          `the merge stage cannot tell which one it became`
      )
    }
    renames.set(from, [...tos][0]!)
  }
  for (const [from, to] of renames) {
    renamesOut.set(from, to)
    for (const [k, x] of renamesOut) if (x === from) renamesOut.set(k, to)
  }

  // ---- merge
  /** Merges an older shape (prev's namespace) into `acc` (this version's namespace). */
  const mergeInto = (acc: TypeNode, old: TypeNode, mergedDef: (name: string) => TypeNode | undefined): TypeNode => {
    // a reference: that definition merges its own history (same name, renamed, or contributed)
    if (acc.kind === "ref") return acc
    const o = resolve(old, prev.defs)
    if (acc.kind === "object" && o.kind === "object") {
      const accFields = flatten(acc, mergedDef)
      const oldFields = flatten(o, (x) => prev.defs.get(x))
      const ownNames = new Set(acc.props.map((p) => p.name))
      const props: Array<Prop> = acc.props.map((p) => {
        const op = oldFields.get(p.name)
        return op ? { ...p, type: mergeInto(p.type, op.type, mergedDef) } : p
      })
      for (const [name, prop] of oldFields) {
        if (accFields.has(name) || ownNames.has(name)) continue
        const { description, type, until } = prop
        props.push({
          name,
          type: renameRefs(type, renames),
          required: false,
          ...(description !== undefined ? { description } : {}),
          until: until ?? prev.version
        })
      }
      return { ...acc, props }
    }
    if (acc.kind === "array" && o.kind === "array") return { ...acc, items: mergeInto(acc.items, o.items, mergedDef) }
    if (acc.kind === "record" && o.kind === "record") {
      return { ...acc, values: mergeInto(acc.values, o.values, mergedDef) }
    }
    return acc // the kind changed (or a union): the newest shape wins
  }

  const defs = new Map<string, TypeNode>()
  const predecessors = (name: string): Array<TypeNode> => {
    const out: Array<TypeNode> = []
    const same = prev.defs.get(name)
    if (same) out.push(same)
    for (const [from, to] of [...renames].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (to === name) out.push(prev.defs.get(from)!)
    }
    out.push(...(contributions.get(name) ?? []))
    return out
  }
  const visiting = new Set<string>()
  const mergedDef = (name: string): TypeNode | undefined => {
    const done = defs.get(name)
    if (done) return done
    const t = raw.defs.get(name)
    if (!t) return prev.defs.get(name)
    if (visiting.has(name)) throw new CodegenError(`v${v}: recursive allOf through ${name}`)
    visiting.add(name)
    const preds = predecessors(name)
    const merged = preds.reduce((acc, p) => mergeInto(acc, p, mergedDef), t)
    visiting.delete(name)
    defs.set(name, merged)
    return merged
  }
  for (const name of [...raw.defs.keys()].sort()) mergedDef(name)
  const gone = new Map<string, string>()
  for (const [name, t] of prev.defs) {
    if (raw.defs.has(name) || renames.has(name)) continue
    defs.set(name, renameRefs(t, renames))
    gone.set(name, prev.gone.get(name) ?? prev.version)
  }

  const ops = new Map<string, TypeNode>()
  for (const [key, t] of raw.ops) {
    const old = prev.ops.get(key)
    ops.set(key, old ? mergeInto(t, old, mergedDef) : t)
  }
  for (const [key, t] of prev.ops) if (!raw.ops.has(key)) ops.set(key, renameRefs(t, renames))
  return { version: v, defs, gone, ops }
}

const collectRecovered = (owner: string, t: TypeNode, prefix: string, out: Array<Recovered>): void => {
  switch (t.kind) {
    case "object":
      for (const p of t.props) {
        const path = joinPath(prefix, p.name)
        if (p.until !== undefined) out.push({ owner, path, until: p.until })
        collectRecovered(owner, p.type, path, out)
      }
      break
    case "array":
      collectRecovered(owner, t.items, `${prefix}[]`, out)
      break
    case "record":
      collectRecovered(owner, t.values, `${prefix}{}`, out)
      break
    case "union":
      for (const m of t.members) collectRecovered(owner, m, prefix, out)
      break
    default:
      break
  }
}

export const mergeSpecs = (specs: ReadonlyArray<LoadedSpec>): Merged => {
  if (specs.length === 0) throw new CodegenError("no specs to merge")
  const renames = new Map<string, string>()
  let world: World | undefined
  for (const spec of specs) {
    const raw = { version: spec.version, ...rawWorld(spec) }
    if (world === undefined) {
      world = { version: raw.version, defs: raw.defs, gone: new Map(), ops: raw.ops }
    } else world = step(raw, world, renames)
  }
  const w = world!
  const newestDefs = rawWorld(specs[specs.length - 1]!).defs
  // emitted: the newest spec's definitions, plus gone ones that something emitted still refers to
  const emitted = new Set(newestDefs.keys())
  const queue = [
    ...emitted,
    ...[...w.ops.values()].flatMap((t) => {
      const s = new Set<string>()
      refsOf(t, s)
      return [...s]
    })
  ]
  while (queue.length > 0) {
    const n = queue.pop()!
    const t = w.defs.get(n)
    if (!t) throw new CodegenError(`merge: reference to unknown definition ${n}`)
    emitted.add(n)
    const s = new Set<string>()
    refsOf(t, s)
    for (const r of s) if (!emitted.has(r)) queue.push(r)
  }
  const defs = new Map([...emitted].sort().map((n) => [n, w.defs.get(n)!]))
  const goneDefs = new Map([...w.gone].filter(([n]) => emitted.has(n)))
  const recovered: Array<Recovered> = []
  for (const [n, t] of defs) collectRecovered(n, t, "", recovered)
  for (const [k, t] of [...w.ops].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (t.kind !== "ref") collectRecovered(k, t, "", recovered)
  }
  return {
    versions: specs.map((s) => s.version),
    defs,
    goneDefs,
    opSchema: (id, role) => w.ops.get(opKey(id, role)),
    renames,
    recovered
  }
}
