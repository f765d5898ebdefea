/**
 * How `update` methods (Services, Nodes, Swarm) apply a caller's patch to the object's current
 * spec, so that a patch names only what changes: plain objects merge key by key, recursively;
 * everything else the patch sets replaces what was there — arrays (a service's `Env`, `Mounts`,
 * constraints…), and string maps (`Labels`, `Options`, `DriverOpts`, `Sysctls`), so that
 * `Labels: {}` removes every label, as the daemon's own update does. `Mode` is replaced whole as
 * well: it holds one of `Replicated` / `Global` / jobs, and a merge would send two. A key the patch
 * leaves out (or sets to `undefined`) keeps its current value; `null` clears it.
 */

/** A patch of `T`: every object member optional, recursively (arrays and maps as they are). */
export type SpecPatch<T> = T extends ReadonlyArray<unknown> ? T
  : T extends object ? { readonly [K in keyof T]?: SpecPatch<T[K]> | undefined }
  : T

/** Keys whose values are replaced by the patch rather than merged (see the module's note). */
const REPLACED: ReadonlySet<string> = new Set(["Labels", "Options", "DriverOpts", "Sysctls", "Mode"])

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** `current` with `patch` applied (neither is modified). */
export const mergeSpec = <T>(current: T, patch: SpecPatch<T> | undefined): T => {
  if (patch === undefined) return current
  if (!isPlainObject(patch) || !isPlainObject(current)) return patch as T
  const out: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    out[key] = REPLACED.has(key) ? value : mergeSpec(out[key], value)
  }
  return out as T
}
