/**
 * Options objects without their `undefined` members: hand-written options are typed
 * `x?: T | undefined` (so callers can pass what they have), the generated argument types `x?: T`
 * (`exactOptionalPropertyTypes`); this is the one bridge between them.
 */

/** `T` with every property that may be `undefined` made optional and not `undefined`. */
export type DefinedOnly<T> =
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
  & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> }

/** `value` without its `undefined` properties. */
export const definedOnly = <T extends object>(value: T): DefinedOnly<T> => {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v
  return out as DefinedOnly<T>
}
