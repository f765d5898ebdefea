/**
 * From an operation descriptor and an argument object to a request, and from a daemon's answer to
 * a value or a tagged error. Pure: no I/O here, so every rule is testable without a daemon.
 */
import * as Effect from "effect/Effect"
import type { Availability, OperationDescriptor, ParamSpec } from "../core/descriptor.js"
import {
  ApiVersionError,
  type DockerError,
  InvalidArgumentError,
  statusErrorFor,
  UnsupportedByEngine
} from "../core/errors.js"
import { type EngineIdentity, engineIdentity } from "../wire/engine-identity.js"
import type { HeaderMap } from "../wire/headers.js"
import { compareApiVersions, parseVersionRefusal } from "./api-version.js"
import type { TransportRequest } from "./transport.js"

export type Args = Readonly<Record<string, unknown>>

/** Why a request was not built: nothing was sent. */
export type RequestRefusal = ApiVersionError | InvalidArgumentError

/** A request to send, and what was left out of it (removed parameters and fields the daemon ignores). */
export interface PreparedRequest extends TransportRequest {
  /** `parameter "keep-storage"`, `field "CheckDuplicate"`: each left out by its `drop` policy. */
  readonly dropped?: ReadonlyArray<string>
}

/** Whether `buildRequest` refused (a tagged error) rather than built a request. */
export const isRefusal = (built: PreparedRequest | RequestRefusal): built is RequestRefusal => "_tag" in built

/** `send`, after a debug line naming what `drop` policies left out of the request, if anything. */
export const logDropped = <A, E, R>(
  operation: string,
  apiVersion: string,
  request: PreparedRequest,
  send: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  request.dropped === undefined ? send : Effect.andThen(
    Effect.logDebug(
      `${operation}: left out ${request.dropped.join(", ")}: removed after the API versions that ` +
        `had them, and API ${apiVersion} daemons do what they asked anyway`
    ),
    send
  )

// Image references and paths keep `/`, `:` and `@` readable: the daemon's router matches
// `{name:.*}`, and the Docker CLI sends them unescaped too.
const encodePathSegment = (value: string): string =>
  encodeURIComponent(value).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/g, "@")

const invalid = (operation: string, argument: string, what: string) =>
  new InvalidArgumentError({ operation, argument, message: `${operation}: "${argument}" ${what}` })

/** `value` as JSON text, or why it has none (circular, BigInt, a function): a typed error, not a throw. */
const jsonText = (operation: string, argument: string, value: unknown): string | InvalidArgumentError => {
  if (typeof value === "string") return value
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (e) {
    return invalid(operation, argument, `cannot be serialised as JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  return text === undefined ? invalid(operation, argument, `cannot be serialised as JSON (a ${typeof value})`) : text
}

const encodeScalar = (operation: string, spec: ParamSpec, value: unknown): string | InvalidArgumentError => {
  switch (spec.encoding) {
    case "boolean":
      return value ? "1" : "0"
    case "json":
      return jsonText(operation, spec.key, value)
    default:
      return String(value)
  }
}

/**
 * A path parameter's value, or why it cannot go into a path: missing (reachable through a cast;
 * it would be sent as a literal `{id}`), empty, not a string, or holding a `.`, `..` or empty
 * segment. Slashes stay unescaped (image names have them), so such a segment would let a proxy,
 * or the daemon's own router when it cleans the path, send the request to another endpoint:
 * `DELETE /containers/../../images/x` is `DELETE /images/x`.
 */
const pathValue = (operation: string, spec: ParamSpec, value: unknown): string | InvalidArgumentError => {
  if (value === undefined || value === null) return invalid(operation, spec.key, "is required (a path parameter)")
  if (typeof value !== "string" && typeof value !== "number") {
    return invalid(operation, spec.key, `must be a string, not ${typeof value}`)
  }
  const text = String(value)
  if (text === "") return invalid(operation, spec.key, "is empty")
  const segments = text.split("/")
  if (segments.some((segment) => segment === "." || segment === "..")) {
    return invalid(operation, spec.key, `(${JSON.stringify(text)}) has a "." or ".." path segment`)
  }
  if (segments.includes("")) {
    return invalid(
      operation,
      spec.key,
      `(${JSON.stringify(text)}) has an empty path segment (a leading, trailing or doubled "/")`
    )
  }
  return text
}

const isRemoved = (availability: Availability, apiVersion: string): boolean =>
  availability.until !== undefined && compareApiVersions(apiVersion, availability.until) > 0

const tooNew = (operation: string, apiVersion: string, what: string, since: string) =>
  new ApiVersionError({
    operation,
    apiVersion,
    required: since,
    message: `${operation}: ${what} needs API ${since}, but requests use API ${apiVersion}`
  })

const removed = (operation: string, apiVersion: string, what: string, until: string) =>
  new ApiVersionError({
    operation,
    apiVersion,
    required: until,
    message: `${operation}: ${what} was removed after API ${until}, but requests use API ${apiVersion}`
  })

/**
 * Why `apiVersion` cannot call the operation at all (too new for it, or removed), else `undefined`.
 * For a service method that must read something before calling it, so that the refusal still
 * comes before anything is sent.
 */
export const operationRefusal = (
  descriptor: Pick<OperationDescriptor, "operationId" | "since" | "until">,
  apiVersion: string
): ApiVersionError | undefined => {
  if (compareApiVersions(apiVersion, descriptor.since) < 0) {
    return tooNew(descriptor.operationId, apiVersion, "this operation", descriptor.since)
  }
  if (descriptor.until !== undefined && compareApiVersions(apiVersion, descriptor.until) > 0) {
    return removed(descriptor.operationId, apiVersion, "this operation", descriptor.until)
  }
  return undefined
}

/**
 * Builds the request for `descriptor` at `apiVersion`. Refuses, before anything is sent, an
 * operation or argument that the version cannot express: the daemon would silently ignore it.
 */
export const buildRequest = (
  descriptor: OperationDescriptor,
  args: Args,
  apiVersion: string
): PreparedRequest | RequestRefusal => {
  const operation = descriptor.operationId
  const refusal = operationRefusal(descriptor, apiVersion)
  if (refusal !== undefined) return refusal
  let path = descriptor.path
  let query = ""
  let headers: Record<string, string | ReadonlyArray<string>> | undefined
  let dropped: Array<string> | undefined
  for (const spec of descriptor.params) {
    // An always-sent parameter the caller omitted goes out with its default, where the version has it.
    const value = args[spec.key] === undefined && spec.alwaysSent === true &&
        compareApiVersions(apiVersion, spec.since) >= 0 &&
        (spec.until === undefined || compareApiVersions(apiVersion, spec.until) <= 0)
      ? spec.default
      : args[spec.key]
    if (spec.in === "path") {
      const text = pathValue(operation, spec, value)
      if (typeof text !== "string") return text
      path = path.replace(`{${spec.name}}`, encodePathSegment(text))
      continue
    }
    if (value === undefined) continue
    if (compareApiVersions(apiVersion, spec.since) < 0) {
      return tooNew(operation, apiVersion, `parameter "${spec.key}"`, spec.since)
    }
    if (isRemoved(spec, apiVersion)) {
      if (spec.whenRemoved !== "drop") return removed(operation, apiVersion, `parameter "${spec.key}"`, spec.until!)
      ;(dropped ??= []).push(`parameter "${spec.key}"`)
      continue
    }
    if (spec.in === "header") {
      // A repeated header is one line per element; no value may end a line early (a CR or LF
      // would let an argument write headers, or a request, of its own on a hijacked connection).
      const texts = spec.encoding === "repeat" && Array.isArray(value)
        ? value.map(String)
        : encodeScalar(operation, spec, value)
      if (typeof texts !== "string" && !Array.isArray(texts)) return texts
      if ((typeof texts === "string" ? [texts] : texts).some((text) => /[\r\n\0]/.test(text))) {
        return invalid(operation, spec.key, "holds a line break or NUL (not allowed in a header)")
      }
      ;(headers ??= {})[spec.name] = texts
      continue
    }
    const name = encodeURIComponent(spec.name)
    if (spec.encoding === "repeat" && Array.isArray(value)) {
      for (const item of value) query += `&${name}=${encodeURIComponent(String(item))}`
    } else if (spec.encoding === "repeatJson") {
      // One JSON document per element (OCI platform objects on image get/load since 1.52).
      for (const item of Array.isArray(value) ? value : [value]) {
        const text = jsonText(operation, spec.key, item)
        if (typeof text !== "string") return text
        query += `&${name}=${encodeURIComponent(text)}`
      }
    } else if (spec.encoding === "csv" && Array.isArray(value)) {
      query += `&${name}=${encodeURIComponent(value.join(","))}`
    } else {
      const text = encodeScalar(operation, spec, value)
      if (typeof text !== "string") return text
      query += `&${name}=${encodeURIComponent(text)}`
    }
  }
  const url = `${descriptor.unversioned === true ? "" : `/v${apiVersion}`}${path}${
    query === "" ? "" : `?${query.slice(1)}`
  }`
  let body = descriptor.body ? args[descriptor.body.key] : undefined
  if (body !== undefined && descriptor.fields !== undefined) {
    const checked = checkBodyFields(descriptor, body, apiVersion)
    if (checked instanceof ApiVersionError) return checked
    body = checked.body
    if (checked.dropped.length > 0) (dropped ??= []).push(...checked.dropped)
  }
  const request = ((): PreparedRequest | InvalidArgumentError => {
    if (body === undefined) {
      return headers ? { method: descriptor.method, path: url, headers } : { method: descriptor.method, path: url }
    }
    if (descriptor.body?.contentType === "application/json") {
      const text = jsonText(operation, descriptor.body.key, body)
      if (typeof text !== "string") return text
      return {
        method: descriptor.method,
        path: url,
        headers: { ...headers, "content-type": "application/json" },
        body: text
      }
    }
    return {
      method: descriptor.method,
      path: url,
      headers: { ...headers, "content-type": descriptor.body?.contentType ?? "application/octet-stream" },
      body: body as Uint8Array
    }
  })()
  return dropped === undefined || isRefusal(request) ? request : { ...request, dropped }
}

/**
 * Whether the value at `segments` exists in `value`. A segment ending in `[]` walks into every
 * array item, one ending in `{}` into every map value.
 */
const fieldPresent = (value: unknown, segments: ReadonlyArray<string>, index = 0): boolean => {
  if (index === segments.length) return value !== undefined
  if (typeof value !== "object" || value === null) return false
  const segment = segments[index]!
  const each = segment.endsWith("[]") || segment.endsWith("{}")
  const key = each ? segment.slice(0, -2) : segment
  const next = (value as Record<string, unknown>)[key]
  if (!each) return fieldPresent(next, segments, index + 1)
  if (typeof next !== "object" || next === null) return false
  const items = Array.isArray(next) ? next : Object.values(next)
  return items.some((item) => fieldPresent(item, segments, index + 1))
}

/**
 * A copy of `value` without the value at `segments` (same walk as {@link fieldPresent}); the
 * caller's object is never changed.
 */
const withoutField = (value: unknown, segments: ReadonlyArray<string>, index = 0): unknown => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value
  const segment = segments[index]!
  const each = segment.endsWith("[]") || segment.endsWith("{}")
  const key = each ? segment.slice(0, -2) : segment
  const record = value as Readonly<Record<string, unknown>>
  if (!Object.hasOwn(record, key)) return value
  if (!each && index === segments.length - 1) {
    const { [key]: _removed, ...rest } = record
    return rest
  }
  const next = record[key]
  if (!each) return { ...record, [key]: withoutField(next, segments, index + 1) }
  if (typeof next !== "object" || next === null) return value
  const items = Array.isArray(next)
    ? next.map((item) => withoutField(item, segments, index + 1))
    : Object.fromEntries(Object.entries(next).map(([k, item]) => [k, withoutField(item, segments, index + 1)]))
  return { ...record, [key]: items }
}

/**
 * Refuses a body that sets a field the version does not have: newer than the version (the daemon
 * would ignore it), or removed before it with a `refuse` policy. A removed field whose policy is
 * `drop` is left out of the body instead.
 */
const checkBodyFields = (
  descriptor: OperationDescriptor,
  body: unknown,
  apiVersion: string
): ApiVersionError | { readonly body: unknown; readonly dropped: ReadonlyArray<string> } => {
  let sent = body
  const dropped: Array<string> = []
  for (const [path, availability] of Object.entries(descriptor.fields ?? {})) {
    if (!path.startsWith("body.")) continue
    const tooNewField = compareApiVersions(apiVersion, availability.since) < 0
    const removedField = isRemoved(availability, apiVersion)
    if (!tooNewField && !removedField) continue
    const segments = path.slice("body.".length).split(".")
    if (!fieldPresent(sent, segments)) continue
    const what = `field "${path.slice("body.".length)}"`
    if (tooNewField) return tooNew(descriptor.operationId, apiVersion, what, availability.since)
    if (availability.whenRemoved !== "drop") {
      return removed(descriptor.operationId, apiVersion, what, availability.until!)
    }
    sent = withoutField(sent, segments)
    dropped.push(what)
  }
  return { body: sent, dropped }
}

/**
 * The daemon's message and cause from an error body: `{"message":"…"}` (Docker), `{"cause":"…",
 * "message":"…","response":500}` (Podman) when JSON, else the trimmed text.
 */
export const daemonError = (body: string): { readonly message: string; readonly cause: string | undefined } => {
  const text = body.trim()
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; cause?: unknown } | null
      const cause = typeof parsed?.cause === "string" && parsed.cause !== "" ? parsed.cause : undefined
      if (typeof parsed?.message === "string") return { message: parsed.message, cause }
    } catch {
      // Not JSON after all: report the text as it came.
    }
  }
  const message = text === "" ? "(empty response)" : text.length > 1000 ? `${text.slice(0, 1000)}…` : text
  return { message, cause: undefined }
}

/** The daemon's message from an error body (see {@link daemonError}). */
export const daemonMessage = (body: string): string => daemonError(body).message

// How Podman's service answers a route it does not have (see UnsupportedByEngine).
const PODMAN_UNSUPPORTED = /^(?:Not Found|Path \S+ is not supported|Podman does not support service: .*)$/

/**
 * A non-success answer as a tagged error; a refusal of the URL's version becomes `ApiVersionError`,
 * Podman's answer for an endpoint it lacks `UnsupportedByEngine`.
 */
export const failureFromResponse = (
  operation: string,
  apiVersion: string,
  status: number,
  body: string,
  headers: HeaderMap = {},
  known?: EngineIdentity
): DockerError => {
  const { cause, message } = daemonError(body)
  if ((status === 404 || status === 503) && PODMAN_UNSUPPORTED.test(message)) {
    // Podman's router answers a route it lacks without its own headers: then what the layer
    // learnt from earlier answers says who this is.
    const said = engineIdentity(headers)
    const engine = said.kind === "unknown" && known !== undefined ? known : said
    if (engine.kind === "podman") {
      const name = `podman ${engine.version ?? ""}`.trim()
      return new UnsupportedByEngine({
        operation,
        engine: name,
        status,
        daemonMessage: message,
        message: `${operation}: ${name} does not support this operation (HTTP ${status}: ${message})`
      })
    }
  }
  const refusal = status === 400 ? parseVersionRefusal(message) : undefined
  if (refusal) {
    return new ApiVersionError({
      operation,
      apiVersion,
      required: refusal.required,
      message: `${operation}: the daemon refuses API ${apiVersion}: ${message}`
    })
  }
  return statusErrorFor({
    operation,
    status,
    daemonMessage: message,
    ...(cause !== undefined ? { daemonCause: cause } : {})
  })
}
