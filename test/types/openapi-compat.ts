/**
 * Type-level cross-check (checked by `tsc -p tsconfig.json`): for every definition of the v1.56
 * spec, the Type of our generated Schema agrees with what openapi-typescript derives independently
 * from the *upstream* spec (`test/types/openapi.d.ts`, made by `npm run codegen:openapi`).
 *
 * "Agrees" = the same property names at every depth, and mutually assignable types, after both
 * sides go through `Loose`. Every deliberate difference is recorded HERE and nowhere else:
 *
 * 1. Relaxed `required` (our cross-version rule + E10/R1): all properties compared as optional.
 * 2. `null` accepted for arrays/maps/objects (+ E10 nullable scalars): `null` removed on both sides.
 * 3. Open enums (`"a" | "b" | (string & {})`): literal unions compared as their base type.
 * 4. Readonly: ours is readonly, theirs mutable: arrays compared as ReadonlyArray.
 * 5. Errata that change a definition's shape: the property paths in `Deliberate` below are
 *    excluded from the comparison (each names its erratum).
 */
import type * as Schemas from "../../src/generated/schemas/index.js"
import type { components } from "./openapi.js"

type Theirs = components["schemas"]
type Ours = { [K in keyof typeof Schemas]: (typeof Schemas)[K]["Type"] }

/** Deliberate shape differences (errata), as top-level property names per definition. */
interface Deliberate {
  /** E4: `error` and `progress` kept for older daemons; E5: `aux` is `ImageID | string`. */
  BuildInfo: "error" | "progress" | "aux"
  /** E4: `error` and `progress` kept for older daemons. */
  CreateImageInfo: "error" | "progress"
  /** E4: `error`, `progress` kept; `id`, `aux` (`{Tag, Digest, Size}` on the last message) added. */
  PushImageInfo: "error" | "progress" | "id" | "aux"
  /** E12: maps whose values are always `{}` (upstream: `unknown`). */
  ContainerConfig: "ExposedPorts" | "Volumes"
  /** E12. */
  ImageConfig: "ExposedPorts" | "Volumes"
  /** E13: `Components[].Details` is a map of strings (upstream: `Record<string, unknown>`). */
  SystemVersion: "Components"
}

type Primitive = string | number | boolean | bigint | symbol
/** 6. Free-form values (`unknown`, `Record<string, never>`, `{}`) all compare as `unknown`. */
type Loose<T> = [T] extends [never] ? unknown
  : unknown extends T ? unknown
  : T extends string ? string
  : T extends number ? number
  : T extends boolean ? boolean
  : T extends ReadonlyArray<infer U> ? ReadonlyArray<Loose<NonNullable<U>>>
  : T extends object ? (keyof T extends never ? unknown : { [K in keyof T]?: Loose<NonNullable<T[K]>> })
  : T

type Paths<T, P extends string, D extends ReadonlyArray<unknown>> = D["length"] extends 8 ? never
  : T extends Primitive ? never
  : T extends ReadonlyArray<infer U> ? Paths<NonNullable<U>, `${P}[]`, D>
  : T extends object ? {
      [K in keyof T & string]-?: `${P}.${K}` | Paths<NonNullable<T[K]>, `${P}.${K}`, [...D, 0]>
    }[keyof T & string]
  : never

type Strip<T, N> = N extends keyof Deliberate ? T extends object ? Omit<T, Deliberate[N]> : T : T

type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

type Agree<A, B> = MutuallyAssignable<Loose<NonNullable<A>>, Loose<NonNullable<B>>> extends true
  ? SameKeys<Paths<NonNullable<A>, "", []>, Paths<NonNullable<B>, "", []>> extends true ? true
  : "different property names"
  : "incompatible types"

type Check<N extends keyof Theirs & keyof Ours> = Agree<Strip<Ours[N], N>, Strip<Theirs[N], N>>

/** Definitions that fail the check; must be `never`. Hover over it to see which and why. */
export type Failures = {
  [N in keyof Theirs & keyof Ours]: Check<N> extends true ? never : [N, Check<N>]
}[keyof Theirs & keyof Ours]

/** Every upstream definition has a generated Schema. */
type Missing = Exclude<keyof Theirs, keyof Ours>

// The check is not vacuous: these must fail.
export const detectsOtherShapes: Agree<Ours["ContainerSummary"], Theirs["ImageSummary"]> extends true ? false : true =
  true
export const detectsMissingNestedProperty: Agree<
  { readonly A?: { readonly B?: string } },
  { A?: { B?: string; C?: number } }
> = "different property names"
export const detectsTypeChange: Agree<{ readonly A?: string }, { A?: number }> = "incompatible types"
export const detectsDroppedErrataKeys: Agree<Ours["BuildInfo"], Theirs["BuildInfo"]> extends true ? false : true = true

export const everyDefinitionAgrees: [Failures] extends [never] ? true : Failures = true
export const noDefinitionMissing: [Missing] extends [never] ? true : Missing = true
