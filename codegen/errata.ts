/**
 * Errata overlays (`spec/errata/*.yaml`): every correction to the upstream spec lives in one of these
 * files, never silently in generator code. See `spec/errata/README.md` for the format.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { CodegenError, compareVersions, type Doc, type LoadedSpec, repoRoot } from "./load.js"

export interface Patch {
  readonly at: string
  readonly versions?: string
  readonly set?: unknown
  readonly merge?: Record<string, unknown>
  readonly append?: ReadonlyArray<unknown>
  readonly without?: ReadonlyArray<unknown>
  readonly unset?: ReadonlyArray<string>
  readonly copyFrom?: string
}

export interface Erratum {
  readonly file: string
  readonly id: string
  readonly title: string
  readonly reason: string
  readonly proof: string
  readonly versions?: string
  readonly patches: ReadonlyArray<Patch>
}

const OPS = ["set", "merge", "append", "without", "unset", "copyFrom"] as const

export const loadErrata = (): ReadonlyArray<Erratum> => {
  const dir = join(repoRoot, "spec", "errata")
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()
  return files.map((file) => {
    const where = `spec/errata/${file}`
    let raw: Record<string, unknown>
    try {
      raw = parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>
    } catch (e) {
      throw new CodegenError(`${where}: ${(e as Error).message}`)
    }
    for (const k of ["id", "title", "reason", "proof"]) {
      if (typeof raw[k] !== "string" || (raw[k] as string).length === 0) {
        throw new CodegenError(`${where}: missing "${k}:" (a one-line string)`)
      }
    }
    // The id is the file name's prefix, so an id in a proof, a test name or a commit finds its file.
    const prefix = file.split("-")[0]
    if (raw["id"] !== prefix) {
      throw new CodegenError(`${where}: id "${String(raw["id"])}" must be the file name's prefix "${prefix}"`)
    }
    if (!Array.isArray(raw["patches"]) || raw["patches"].length === 0) {
      throw new CodegenError(`${where}: "patches:" must be a non-empty list`)
    }
    const patches = (raw["patches"] as Array<Record<string, unknown>>).map((p, i) => {
      const ops = OPS.filter((o) => o in p)
      if (typeof p["at"] !== "string") throw new CodegenError(`${where} patch #${i + 1}: missing "at:"`)
      if (ops.length !== 1) {
        throw new CodegenError(
          `${where} patch #${i + 1} (${String(p["at"])}): exactly one of ${OPS.join("/")} expected`
        )
      }
      return p as unknown as Patch
    })
    const e: Erratum = {
      file,
      id: raw["id"] as string,
      title: raw["title"] as string,
      reason: raw["reason"] as string,
      proof: raw["proof"] as string,
      ...(typeof raw["versions"] === "string" ? { versions: raw["versions"] } : {}),
      patches
    }
    return e
  })
}

/** `"1.41"`, `">=1.48"`, `"<1.48"`, `"<=1.47"`, `">1.41"`, `"1.41..1.47"`; several separated by `,` (or). */
export const inScope = (range: string | undefined, version: string): boolean => {
  if (range === undefined) return true
  return range.split(",").map((r) => r.trim()).some((r) => {
    const m = /^(>=|<=|>|<)?\s*(1\.\d+)(?:\s*\.\.\s*(1\.\d+))?$/.exec(r)
    if (!m) throw new CodegenError(`bad versions range "${range}"`)
    const [, op, a = "", b] = m
    const c = compareVersions(version, a)
    if (b !== undefined) return c >= 0 && compareVersions(version, b) <= 0
    switch (op) {
      case ">=":
        return c >= 0
      case "<=":
        return c <= 0
      case ">":
        return c > 0
      case "<":
        return c < 0
      default:
        return c === 0
    }
  })
}

/** Splits `at:` into segments. `op:ContainerStats` expands to `paths/<path>/<method>` of that operation. */
const segments = (at: string): Array<string> => {
  const out: Array<string> = []
  let cur = ""
  let depth = 0
  for (const ch of at) {
    if (ch === "[") depth++
    if (ch === "]") depth--
    if (ch === "/" && depth === 0) {
      out.push(cur)
      cur = ""
    } else cur += ch
  }
  out.push(cur)
  return out
}

interface Slot {
  readonly parent: Doc
  readonly key: string | number
}

const findOperation = (doc: Doc, operationId: string): Slot | undefined => {
  for (const [path, item] of Object.entries(doc["paths"] as Doc)) {
    for (const [method, op] of Object.entries(item as Doc)) {
      if ((op as Doc)["operationId"] === operationId) return { parent: (doc["paths"] as Doc)[path] as Doc, key: method }
    }
  }
  return undefined
}

/** Every slot `at` designates; the last segment may name a key that does not exist yet. */
export const resolveSlots = (doc: Doc, at: string): Array<Slot> => {
  const segs = segments(at)
  let slots: Array<Slot> = [{ parent: { root: doc }, key: "root" }]
  for (const seg of segs) {
    const next: Array<Slot> = []
    for (const s of slots) {
      const node = (s.parent as Record<string | number, unknown>)[s.key]
      if (seg.startsWith("op:")) {
        const found = findOperation(node as Doc, seg.slice(3))
        if (found) next.push(found)
        continue
      }
      if (node === null || typeof node !== "object") continue
      const m = /^\[(\w[\w-]*)=(.*)\]$/.exec(seg)
      if (m) {
        if (!Array.isArray(node)) continue
        node.forEach((el, i) => {
          if (el && typeof el === "object" && String((el as Doc)[m[1]!]) === m[2]) {
            next.push({ parent: node as unknown as Doc, key: i })
          }
        })
      } else if (seg === "*") {
        const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node)
        for (const k of keys) next.push({ parent: node as Doc, key: k })
      } else {
        const key = Array.isArray(node) && /^\d+$/.test(seg) ? Number(seg) : seg
        next.push({ parent: node as Doc, key })
      }
    }
    slots = next
  }
  return slots
}

const clone = <A>(a: A): A => (a === undefined ? a : (JSON.parse(JSON.stringify(a)) as A))
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export interface AppliedErratum {
  readonly id: string
  readonly versions: ReadonlyArray<string>
}

/**
 * Applies every erratum to every spec in its scope (in file order, patches in order). A patch that
 * designates nothing in a version of its scope is an error: errata must stay honest as specs move.
 */
export const applyErrata = (
  specs: ReadonlyArray<LoadedSpec>,
  errata: ReadonlyArray<Erratum>
): { specs: ReadonlyArray<LoadedSpec>; applied: ReadonlyArray<AppliedErratum> } => {
  const out = specs.map((s) => ({ version: s.version, doc: clone(s.doc) }))
  // copyFrom reads the other version as patched by the errata files before this one
  const current = new Map(out.map((s) => [s.version, s.doc]))
  const applied: Array<AppliedErratum> = []
  for (const e of errata) {
    const touched = new Set<string>()
    e.patches.forEach((p, i) => {
      const where = `spec/errata/${e.file} patch #${i + 1} (at: ${p.at})`
      for (const s of out) {
        if (!inScope(e.versions, s.version) || !inScope(p.versions, s.version)) continue
        const slots = resolveSlots(s.doc, p.at)
        if (slots.length === 0) throw new CodegenError(`${where}: designates nothing in v${s.version}`)
        for (const slot of slots) {
          const parent = slot.parent as Record<string | number, unknown>
          const node = parent[slot.key]
          if (p.set !== undefined) {
            parent[slot.key] = clone(p.set)
          } else if (p.copyFrom !== undefined) {
            const src = current.get(p.copyFrom)
            if (!src) throw new CodegenError(`${where}: copyFrom ${p.copyFrom} is not a supported version`)
            const from = resolveSlots(src, p.at)
            const value = from.length === 1
              ? (from[0]!.parent as Record<string | number, unknown>)[from[0]!.key]
              : undefined
            if (value === undefined) throw new CodegenError(`${where}: nothing to copy in v${p.copyFrom}`)
            parent[slot.key] = clone(value)
          } else {
            if (node === undefined || node === null || typeof node !== "object") {
              throw new CodegenError(`${where}: v${s.version} has no object/array there`)
            }
            if (p.merge !== undefined) {
              if (Array.isArray(node)) throw new CodegenError(`${where}: merge into an array`)
              Object.assign(node, clone(p.merge))
            } else if (p.append !== undefined) {
              if (!Array.isArray(node)) throw new CodegenError(`${where}: append to a non-array`)
              for (const item of p.append) if (!node.some((x) => same(x, item))) node.push(clone(item))
            } else if (p.without !== undefined) {
              if (!Array.isArray(node)) throw new CodegenError(`${where}: without on a non-array`)
              const keep = node.filter((x) => !p.without!.some((w) => same(w, x)))
              node.splice(0, node.length, ...keep)
            } else if (p.unset !== undefined) {
              for (const k of p.unset) delete (node as Record<string, unknown>)[k]
            }
          }
        }
        touched.add(s.version)
      }
    })
    applied.push({ id: e.id, versions: [...touched].sort(compareVersions) })
  }
  return { specs: out, applied }
}
