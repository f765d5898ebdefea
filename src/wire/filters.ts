/**
 * Adding values to a `filters` argument. The daemon accepts a filter's values either as a list
 * (`{"name": ["a"]}`) or in its canonical map form (`{"name": {"a": true}}`); a caller may have
 * written either, so values are merged into whichever form the filter already has.
 */
import type { Filters } from "../generated/schemas/Filters.js"

/** `filters` with `values` added to filter `key` (nothing added: `filters` unchanged). */
export const withFilterValues = (
  filters: Filters | undefined,
  key: string,
  values: ReadonlyArray<string> | undefined
): Filters | undefined => {
  if (values === undefined || values.length === 0) return filters
  const existing = filters?.[key]
  const merged = existing === undefined
    ? [...values]
    : Array.isArray(existing)
    ? [...existing, ...values]
    : { ...existing, ...Object.fromEntries(values.map((value) => [value, true])) }
  return { ...filters, [key]: merged }
}
