/**
 * The generated fast decoders (codegen/emit-decoders.ts) against the Schemas they stand in for:
 * for every definition and every operation's JSON response, on values derived from the Schema
 * (through JSON, as the daemon sends them) and on mutations of them (extra, missing, renamed and
 * retyped keys), a fast decoder that accepts a value must produce exactly the Schema's result; and
 * it must accept every value the Schema derives (else the fast path would silently not be taken).
 */
import { Arbitrary, Effect, Result, Schema } from "effect"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { isDeepStrictEqual } from "node:util"
import { describe, expect, it } from "vitest"
import { Invalid } from "../../../src/core/fast-decode.js"
import * as Operations from "../../../src/generated/operations/index.js"

type Fast = (u: unknown) => unknown
interface Subject {
  readonly name: string
  readonly schema: Schema.Top
  readonly fast: Fast
}

const schemasDir = fileURLToPath(new URL("../../../src/generated/schemas/", import.meta.url))
const decodersDir = fileURLToPath(new URL("../../../src/generated/decoders/", import.meta.url))
const definitions: Array<Subject> = await Promise.all(
  readdirSync(schemasDir).filter((f) => f.endsWith(".ts") && f !== "index.ts").sort().map(async (file) => {
    const name = file.replace(/\.ts$/, "")
    const module = (await import(/* @vite-ignore */ `${schemasDir}${file}`)) as Record<string, unknown>
    const decoders = (await import(/* @vite-ignore */ `${decodersDir}${file}`)) as Record<string, unknown>
    return { name, schema: module[name] as Schema.Top, fast: decoders[`decode${name}`] as Fast }
  })
)
const responses: Array<Subject> = await Promise.all(
  Object.values(Operations).flatMap((d) => {
    if (typeof d !== "object" || d === null || !("response" in d)) return []
    const r = d.response as { kind: string; schema?: () => Promise<Schema.Top>; decode?: Fast }
    if (r.kind !== "json" && r.kind !== "jsonStream") return []
    const name = `${(d as { operationId: string }).operationId} response`
    return [r.schema!().then((schema): Subject => ({ name, schema, fast: r.decode! }))]
  })
)

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const junk: ReadonlyArray<unknown> = [null, 0, -1.5, "", "x", true, false, [], {}, [1, "a"], { a: 1 }]

/** Every object and array inside `v` (`v` included), with a way to replace a child. */
const nodes = (v: unknown, out: Array<Record<string, unknown> | Array<unknown>> = []) => {
  if (typeof v === "object" && v !== null) {
    out.push(v as Record<string, unknown>)
    for (const child of Object.values(v)) nodes(child, out)
  }
  return out
}

/** A copy of `value` with one random change somewhere inside. */
const mutate = (value: unknown, random: () => number): unknown => {
  const copy = JSON.parse(JSON.stringify(value)) as unknown
  const all = nodes(copy)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  if (all.length === 0) return pick(junk)
  const node = pick(all)
  const keys = Object.keys(node)
  const kind = Math.floor(random() * 4)
  if (kind === 0 || keys.length === 0) {
    if (Array.isArray(node)) node.push(pick(junk))
    else (node as Record<string, unknown>)[pick(["Extra", "id", "ID", "Id", "constructor"])] = pick(junk)
  } else if (kind === 1) {
    const k = pick(keys)
    if (Array.isArray(node)) node.splice(Number(k), 1)
    else delete (node as Record<string, unknown>)[k]
  } else if (kind === 2) {
    ;(node as Record<string, unknown>)[pick(keys)] = pick(junk)
  } else {
    const k = pick(keys)
    if (!Array.isArray(node)) {
      const v = (node as Record<string, unknown>)[k]
      delete (node as Record<string, unknown>)[k]
      ;(node as Record<string, unknown>)[k.toUpperCase()] = v
    }
  }
  return copy
}

const check = (subjects: ReadonlyArray<Subject>, samples: number) => {
  for (const { fast, name, schema } of subjects) {
    it(name, () => {
      expect(typeof fast).toBe("function")
      const slow = Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>)
      const values = Effect.runSync(
        Arbitrary.sampleEffect(Arbitrary.schema(schema as never), { count: samples, seed: 7 })
      )
      const random = prng(name.length * 7919)
      let accepted = 0
      for (const generated of values) {
        // through JSON, as the daemon's answers arrive (drops undefined, NaN becomes null…)
        const json = JSON.parse(JSON.stringify(generated ?? null)) as unknown
        const inputs = [json, ...Array.from({ length: 6 }, () => mutate(json, random))]
        for (const [i, input] of inputs.entries()) {
          const expected = slow(input)
          const got = fast(input)
          if (got !== Invalid) {
            accepted++
            expect(
              Result.isSuccess(expected),
              `${name}: fast accepted what the Schema refuses: ${JSON.stringify(input)}`
            )
              .toBe(true)
            // (node's comparison: vitest's reads a map key named "constructor" as the constructor)
            expect(isDeepStrictEqual(got, Result.getOrThrow(expected)), `${name}: ${JSON.stringify(input)}`).toBe(true)
          } else if (i === 0 && Result.isSuccess(expected) && !JSON.stringify(input).includes(`"__proto__":`)) {
            // (a map key "__proto__" is the one valid input left to the Schema on purpose)
            expect.fail(`${name}: fast refused a valid value: ${JSON.stringify(input)}`)
          }
        }
      }
      expect(accepted).toBeGreaterThan(0)
    })
  }
}

describe("fast decoders: definitions", () => check(definitions, 40))
describe("fast decoders: operation responses", () => check(responses, 20))

describe("fast decoders: edge cases", () => {
  const fastOf = (name: string): Fast => definitions.find((d) => d.name === name)!.fast
  const decodeIDResponse = fastOf("IDResponse")
  it("Id/ID alias: either key decodes to Id, Id wins when both are sent", () => {
    expect(decodeIDResponse({ Id: "a" })).toStrictEqual({ Id: "a" })
    expect(decodeIDResponse({ ID: "b" })).toStrictEqual({ Id: "b" })
    expect(decodeIDResponse({ Id: "a", ID: "b" })).toStrictEqual({ Id: "a" })
    expect(decodeIDResponse({})).toBe(Invalid)
  })
  it("a map key that would set the prototype is left to the Schema", () => {
    const decodeVolume = fastOf("Volume")
    const volume = { Name: "v", Driver: "local", Mountpoint: "/m", Scope: "local", Options: null }
    const input = JSON.parse(JSON.stringify({ ...volume, Labels: { a: "b" } }).replace(`"a"`, `"__proto__"`)) as unknown
    expect(decodeVolume(input)).toBe(Invalid)
    expect(decodeVolume({ ...volume, Labels: { a: "b" } })).toStrictEqual({ ...volume, Labels: { a: "b" } })
  })
})
