/**
 * From an operation descriptor and an argument object to a request, and from a daemon's answer to
 * a value or a tagged error. Pure: no I/O here, so every rule is testable without a daemon.
 */
import type { OperationDescriptor, ParamSpec } from "../core/descriptor.js"
import { ApiVersionError, type DockerError, statusErrorFor } from "../core/errors.js"
import { compareApiVersions, parseVersionRefusal } from "./api-version.js"
import type { TransportRequest } from "./transport.js"

export type Args = Readonly<Record<string, unknown>>

// Image references and paths keep `/`, `:` and `@` readable: the daemon's router matches
// `{name:.*}`, and the Docker CLI sends them unescaped too.
const encodePathSegment = (value: string): string =>
  encodeURIComponent(value).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/g, "@")

const encodeScalar = (spec: ParamSpec, value: unknown): string => {
  switch (spec.encoding) {
    case "boolean":
      return value ? "1" : "0"
    case "json":
      return typeof value === "string" ? value : JSON.stringify(value)
    default:
      return String(value)
  }
}

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
 * Builds the request for `descriptor` at `apiVersion`. Refuses, before anything is sent, an
 * operation or argument that the version cannot express: the daemon would silently ignore it.
 */
export const buildRequest = (
  descriptor: OperationDescriptor,
  args: Args,
  apiVersion: string
): TransportRequest | ApiVersionError => {
  const operation = descriptor.operationId
  if (compareApiVersions(apiVersion, descriptor.since) < 0) {
    return tooNew(operation, apiVersion, "this operation", descriptor.since)
  }
  if (descriptor.until !== undefined && compareApiVersions(apiVersion, descriptor.until) > 0) {
    return removed(operation, apiVersion, "this operation", descriptor.until)
  }
  let path = descriptor.path
  let query = ""
  let headers: Record<string, string> | undefined
  for (const spec of descriptor.params) {
    // An always-sent parameter the caller omitted goes out with its default, where the version has it.
    const value = args[spec.key] === undefined && spec.alwaysSent === true &&
        compareApiVersions(apiVersion, spec.since) >= 0 &&
        (spec.until === undefined || compareApiVersions(apiVersion, spec.until) <= 0)
      ? spec.default
      : args[spec.key]
    if (value === undefined) continue
    if (compareApiVersions(apiVersion, spec.since) < 0) {
      return tooNew(operation, apiVersion, `parameter "${spec.key}"`, spec.since)
    }
    if (spec.until !== undefined && compareApiVersions(apiVersion, spec.until) > 0) {
      return removed(operation, apiVersion, `parameter "${spec.key}"`, spec.until)
    }
    switch (spec.in) {
      case "path":
        path = path.replace(`{${spec.name}}`, encodePathSegment(String(value)))
        break
      case "header":
        ;(headers ??= {})[spec.name] = encodeScalar(spec, value)
        break
      case "query": {
        const name = encodeURIComponent(spec.name)
        if (spec.encoding === "repeat" && Array.isArray(value)) {
          for (const item of value) query += `&${name}=${encodeURIComponent(String(item))}`
        } else if (spec.encoding === "repeatJson") {
          // One JSON document per element (OCI platform objects on image get/load since 1.52).
          for (const item of Array.isArray(value) ? value : [value]) {
            query += `&${name}=${encodeURIComponent(typeof item === "string" ? item : JSON.stringify(item))}`
          }
        } else if (spec.encoding === "csv" && Array.isArray(value)) {
          query += `&${name}=${encodeURIComponent(value.join(","))}`
        } else {
          query += `&${name}=${encodeURIComponent(encodeScalar(spec, value))}`
        }
      }
    }
  }
  const url = `/v${apiVersion}${path}${query === "" ? "" : `?${query.slice(1)}`}`
  const body = descriptor.body ? args[descriptor.body.key] : undefined
  if (body !== undefined && descriptor.fields !== undefined) {
    const refused = refuseBodyFields(descriptor, body, apiVersion)
    if (refused) return refused
  }
  if (body === undefined) {
    return headers
      ? { method: descriptor.method, path: url, headers }
      : { method: descriptor.method, path: url }
  }
  if (descriptor.body?.contentType === "application/json") {
    return {
      method: descriptor.method,
      path: url,
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body)
    }
  }
  return {
    method: descriptor.method,
    path: url,
    headers: { ...headers, "content-type": descriptor.body?.contentType ?? "application/octet-stream" },
    body: body as Uint8Array
  }
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

/** Refuses a body that sets a field the version does not have (the daemon would ignore it). */
const refuseBodyFields = (
  descriptor: OperationDescriptor,
  body: unknown,
  apiVersion: string
): ApiVersionError | undefined => {
  for (const [path, availability] of Object.entries(descriptor.fields ?? {})) {
    if (!path.startsWith("body.")) continue
    const tooNewField = compareApiVersions(apiVersion, availability.since) < 0
    const removedField = availability.until !== undefined && compareApiVersions(apiVersion, availability.until) > 0
    if (!tooNewField && !removedField) continue
    if (!fieldPresent(body, path.slice("body.".length).split("."))) continue
    const what = `field "${path.slice("body.".length)}"`
    return tooNewField
      ? tooNew(descriptor.operationId, apiVersion, what, availability.since)
      : removed(descriptor.operationId, apiVersion, what, availability.until!)
  }
  return undefined
}

/** The daemon's message from an error body: `{"message":"…"}` when JSON, else the trimmed text. */
export const daemonMessage = (body: string): string => {
  const text = body.trim()
  if (text.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(text)
      const message = (parsed as { message?: unknown } | null)?.message
      if (typeof message === "string") return message
    } catch {
      // Not JSON after all: report the text as it came.
    }
  }
  return text === "" ? "(empty response)" : text.length > 1000 ? `${text.slice(0, 1000)}…` : text
}

/** A non-success answer as a tagged error; a refusal of the URL's version becomes `ApiVersionError`. */
export const failureFromResponse = (
  operation: string,
  apiVersion: string,
  status: number,
  body: string
): DockerError => {
  const message = daemonMessage(body)
  const refusal = status === 400 ? parseVersionRefusal(message) : undefined
  if (refusal) {
    return new ApiVersionError({
      operation,
      apiVersion,
      required: refusal.required,
      message: `${operation}: the daemon refuses API ${apiVersion}: ${message}`
    })
  }
  return statusErrorFor({ operation, status, daemonMessage: message })
}
