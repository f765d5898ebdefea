/**
 * API versions: comparison, the range this client supports, the CLI's negotiation rule, and the
 * once-per-layer negotiation itself (`versionResolver`).
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import { ApiVersionError, type DockerError } from "../core/errors.js"

import { newestVersion, oldestVersion } from "../generated/versions.js"
import { firstHeader, type HeaderMap } from "../wire/headers.js"
import type { Transport } from "./transport.js"

/** The oldest Engine API version the generated code covers (from `spec/versions.json`). */
export const MIN_API_VERSION: string = oldestVersion
/** The newest Engine API version the generated code covers: negotiation never goes above it. */
export const MAX_API_VERSION: string = newestVersion

const parse = (version: string): readonly [number, number] | undefined => {
  const match = /^v?(\d+)\.(\d+)$/.exec(version.trim())
  return match ? [Number(match[1]), Number(match[2])] : undefined
}

/** Normalises `v1.41` / ` 1.41 ` to `1.41`; `undefined` when it is not a `major.minor` version. */
export const normalizeApiVersion = (version: string): string | undefined => {
  const parsed = parse(version)
  return parsed ? `${parsed[0]}.${parsed[1]}` : undefined
}

// Every request compares its version with the availability of the operation and its parameters:
// versions are few, so each is parsed once (an unparseable one ranks as 0.0).
const ranks = new Map<string, number>()
const rank = (version: string): number => {
  let r = ranks.get(version)
  if (r === undefined) {
    const parsed = parse(version)
    r = parsed ? parsed[0] * 1_000_000 + parsed[1] : 0
    if (ranks.size < 1024) ranks.set(version, r)
  }
  return r
}

/** Negative when `a < b`, zero when equal, positive when `a > b` (numeric: 1.9 < 1.10). */
export const compareApiVersions = (a: string, b: string): number => (a === b ? 0 : rank(a) - rank(b))

/** Whether `version` is a `major.minor` between `MIN_API_VERSION` and `MAX_API_VERSION`. */
export const isSupportedApiVersion = (version: string): boolean =>
  parse(version) !== undefined && compareApiVersions(version, MIN_API_VERSION) >= 0 &&
  compareApiVersions(version, MAX_API_VERSION) <= 0

/**
 * What the Docker CLI does: use the daemon's version when it is older than ours, else ours.
 * Returns `undefined` when the daemon sent no usable version.
 */
export const negotiateApiVersion = (daemonVersion: string | undefined): string | undefined => {
  const daemon = daemonVersion === undefined ? undefined : normalizeApiVersion(daemonVersion)
  if (daemon === undefined) return undefined
  return compareApiVersions(daemon, MAX_API_VERSION) < 0 ? daemon : MAX_API_VERSION
}

/**
 * Recognises the daemon's refusal of the version in the URL, e.g. Docker 29.0–29.2's
 * "client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your
 * client to a newer version". Returns the version the daemon asks for, when it names one.
 */
export const parseVersionRefusal = (
  message: string
): {
  /** The version the daemon asks for, when its message names one. */
  readonly required: string | undefined
} | undefined => {
  if (!/client version \S+ is too (old|new)/i.test(message)) return undefined
  const required = /(?:minimum|maximum) supported API version is (\d+\.\d+)/i.exec(message)?.[1]
  return { required }
}

/** How a layer decides the version of its requests (`versionResolver`): a pin, or one shared negotiation. */
export interface VersionResolver {
  /** The version: at once when negotiated, else after the (shared) negotiation. */
  readonly version: Effect.Effect<string, DockerError>
  /** The negotiated version, or `undefined` while none is: lets callers skip bookkeeping. */
  readonly current: () => string | undefined
}

/**
 * Negotiation as the Docker CLI does it: `HEAD /_ping` (then `GET` if HEAD is not answered 200),
 * read `Api-Version`, use min(ours, the daemon's). It runs once per engine; concurrent first calls
 * share it. It runs in the engine's scope, not the caller's fiber, so interrupting the first
 * caller does not fail the others; a failure is not cached (the daemon may come up later). Each
 * ping is bounded by `timeoutMillis` (the engine's bound): a daemon that accepts and never answers
 * fails the negotiation instead of holding every first call forever.
 */
export const versionResolver = (
  transport: Transport,
  scope: Scope.Scope,
  timeoutMillis: number | undefined,
  onAnswer: (headers: HeaderMap) => void = () => {}
): VersionResolver => {
  let resolved: Effect.Effect<string> | undefined
  let current: string | undefined
  let inflight: Deferred.Deferred<string, DockerError> | undefined
  const ping = (method: "HEAD" | "GET") =>
    Effect.map(
      transport.request("SystemPing", { method, path: "/_ping" }, timeoutMillis),
      (answer) => {
        onAnswer(answer.headers)
        return { ...answer, version: firstHeader(answer.headers, "api-version") }
      }
    )
  const negotiate = Effect.gen(function*() {
    // undici closes the connection after a HEAD (unless the answer says `keep-alive`, which the
    // daemon's does not), so HEAD costs a connection; over ssh a connection is an ssh handshake
    // (~0.5 s), so there the GET (which keeps it) goes first.
    const first = transport.endpoint._tag === "Ssh" ? "GET" : "HEAD"
    let answer = yield* ping(first)
    if (answer.status !== 200 && first === "HEAD") answer = yield* ping("GET")
    const plainToTls = transport.tlsRequired("SystemPing", answer.status, answer.body)
    if (plainToTls !== undefined) return yield* plainToTls
    const version = negotiateApiVersion(answer.version)
    if (version === undefined) {
      return yield* new ApiVersionError({
        operation: "SystemPing",
        apiVersion: "",
        required: undefined,
        message: `the daemon at ${transport.address} did not report an API version (HTTP ${answer.status} on /_ping)`
      })
    }
    if (!isSupportedApiVersion(version)) {
      return yield* new ApiVersionError({
        operation: "SystemPing",
        apiVersion: version,
        required: MIN_API_VERSION,
        message:
          `the daemon at ${transport.address} speaks API ${version}; effect-docker needs ${MIN_API_VERSION} or newer`
      })
    }
    return version
  })
  const version = Effect.suspend(() => {
    if (resolved !== undefined) return resolved
    if (inflight !== undefined) return Deferred.await(inflight)
    const deferred = Deferred.makeUnsafe<string, DockerError>()
    inflight = deferred
    return negotiate.pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          // Every later call reuses this one Effect: the hot path allocates nothing for the version.
          if (Exit.isSuccess(exit)) {
            resolved = Effect.succeed(exit.value)
            current = exit.value
          }
          inflight = undefined
          Deferred.doneUnsafe(deferred, exit)
        })
      ),
      Effect.forkIn(scope),
      Effect.andThen(Deferred.await(deferred))
    )
  })
  return { version, current: () => current }
}
