/**
 * `System`: the daemon itself — ping, version, info, events, disk usage. (`POST /auth`, docker-py's
 * `login`, is `Images.login`, next to the registry credentials it checks.)
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, streamWithDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeSystemClient, type SystemClient } from "../generated/clients/system.js"
import type { SystemEvents, SystemEventsArgs } from "../generated/operations/system/SystemEvents.js"
import { SystemPing } from "../generated/operations/system/SystemPing.js"
import { type EngineIdentity, engineIdentity } from "../wire/engine-identity.js"
import { firstHeader } from "../wire/headers.js"
import { unixSeconds } from "../wire/time.js"

/** What `_ping` tells about the daemon, from its response headers. */

// Its Schema (EventMessage) is evaluated on the first call only (src/core/lazy.ts).
const SystemEvents$ = lazyDescriptor(() =>
  import("../generated/operations/system/SystemEvents.js").then((m) => m.SystemEvents)
)
/** What `System.ping` returns: the `_ping` answer and its headers. */
export interface SystemPingResult {
  /** The body: `OK`. */
  readonly status: string
  /** The newest API version the daemon speaks (`Api-Version`). */
  readonly apiVersion: string | undefined
  /** `linux` or `windows` (`OSType`); Podman does not send it. */
  readonly osType: string | undefined
  /**
   * What answered: `docker` or `podman` (Podman's Docker-compatible service), and the engine's own
   * version (`28.5.2+dfsg4`, `4.3.1`), from `Server` / `Libpod-Api-Version`.
   */
  readonly engine: EngineIdentity
  /** `Docker-Experimental: true`. */
  readonly experimental: boolean
  /** `1` (classic) or `2` (BuildKit) (`Builder-Version`). */
  readonly builderVersion: string | undefined
  /**
   * `inactive`, `pending`, `error`, `locked`, `active/worker`, `active/manager` (API 1.42+ Docker;
   * Podman, which has no swarm, does not send it).
   */
  readonly swarm: string | undefined
}

/** The daemon: the generated pass-throughs (`SystemClient`: `version`, `info`, `dataUsage`) and the below. */
export interface SystemShape extends SystemClient {
  /** `GET /_ping`: is the daemon there, and what does it speak. */
  readonly ping: () => Effect.Effect<SystemPingResult, DockerError>
  /**
   * `GET /events`: the daemon's events as they happen (with `since`, first the recorded ones from
   * then). Without `until` the stream never ends by itself: stop consuming (`take`, interruption)
   * and its connection closes. `since`/`until` take a `Date`, Unix seconds, or the daemon's own
   * forms (`"1700000000.5"`, RFC 3339, a duration such as `"10m"`).
   */
  readonly events: (options?: SystemEventsOptions) => Stream.Stream<SystemEvents.Message, DockerError>
}

/** Options of `System.events`: the daemon's filters, and the window. */
export interface SystemEventsOptions extends Omit<SystemEventsArgs, "since" | "until"> {
  /** From when: a `Date`, Unix seconds, or the daemon's own forms (`10m`, RFC 3339); default now. */
  readonly since?: Date | number | string | undefined
  /** Until when (same forms); default: follow until interrupted. */
  readonly until?: Date | number | string | undefined
}

/** The daemon reads Unix seconds with a fractional part (`"1700000000.123"`), or its own forms. */
const eventTime = (time: Date | number | string): string => typeof time === "string" ? time : String(unixSeconds(time))

/** The System service over `engine`. */
export const makeSystem = (engine: DockerEngineShape): SystemShape => ({
  ...makeSystemClient(engine),
  ping: () =>
    Effect.map(engine.raw(SystemPing), (answer): SystemPingResult => ({
      status: answer.body,
      apiVersion: firstHeader(answer.headers, "api-version"),
      osType: firstHeader(answer.headers, "ostype"),
      engine: engineIdentity(answer.headers),
      experimental: firstHeader(answer.headers, "docker-experimental") === "true",
      builderVersion: firstHeader(answer.headers, "builder-version"),
      swarm: firstHeader(answer.headers, "swarm")
    })),
  events: ({ since, until, ...rest } = {}) =>
    streamWithDescriptor(SystemEvents$, (d) =>
      engine.messages(d, {
        ...rest,
        ...(since !== undefined ? { since: eventTime(since) } : {}),
        ...(until !== undefined ? { until: eventTime(until) } : {})
      }))
})

/**
 * The System service: ping, version, info, events, disk usage (see `SystemShape`).
 *
 * @example
 * ```ts
 * import { System } from "effect-docker"
 *
 * const system = yield* System
 * const { ApiVersion, Version } = yield* system.version()
 * // the next 3 container events, then the request is closed
 * yield* system.events({ filters: { type: ["container"] } }).pipe(
 *   Stream.take(3),
 *   Stream.runForEach((e) => Console.log(e.Action, e.Actor?.ID))
 * )
 * ```
 */
export class System extends Context.Service<System, SystemShape>()("effect-docker/System") {
  /** System over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<System, never, DockerEngine> = Layer.effect(System)(
    Effect.map(DockerEngine, makeSystem)
  )
}
