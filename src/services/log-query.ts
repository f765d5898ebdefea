/**
 * The query of a logs call (containers, services, tasks), one way for all three: stdout and stderr
 * unless told otherwise, `since` / `until` as Unix seconds or a `Date`, `tail` as a count or
 * `"all"`; the `tty` hint (which decides the framing) is not sent.
 */
import { definedOnly } from "../core/defined.js"
import { unixSeconds } from "../wire/time.js"

/** The options every logs call takes. */
export interface LogsOptions {
  /** Keep the stream open and follow new output. */
  readonly follow?: boolean | undefined
  /** stdout (default `true`). */
  readonly stdout?: boolean | undefined
  /** stderr (default `true`). */
  readonly stderr?: boolean | undefined
  /** Prefix every line with its RFC 3339 time (`timestampedLines` splits it off). */
  readonly timestamps?: boolean | undefined
  /** Only lines since this time: Unix seconds (fractions allowed) or a `Date`. */
  readonly since?: number | Date | undefined
  /** Only this many lines from the end (`"all"` by default). */
  readonly tail?: number | "all" | undefined
}

/** What a logs call sends for `options` (plus `until` where the operation has it). */
export const logQuery = (options: LogsOptions & { readonly until?: number | Date | undefined }) => {
  const { follow, since, stderr, stdout, tail, timestamps, until } = options
  return {
    stdout: stdout ?? true,
    stderr: stderr ?? true,
    ...definedOnly({ follow, timestamps }),
    ...(since !== undefined ? { since: unixSeconds(since) } : {}),
    ...(until !== undefined ? { until: unixSeconds(until) } : {}),
    ...(tail !== undefined ? { tail: String(tail) } : {})
  }
}
