/**
 * `System`: the daemon itself — ping, version, info, events, disk usage. (`POST /auth`, docker-py's
 * `login`, is `Images.login`, next to the registry credentials it checks.)
 */
import { Context, Effect, Layer, type Stream } from "effect"
import type { DockerError } from "../core/errors.js"
import { DockerEngine } from "../engine/engine.js"
import {
  SystemDataUsage,
  type SystemDataUsageArgs,
  type SystemDataUsageResponse
} from "../generated/operations/system/SystemDataUsage.js"
import { SystemEvents, type SystemEventsArgs } from "../generated/operations/system/SystemEvents.js"
import { SystemInfo as SystemInfoOp } from "../generated/operations/system/SystemInfo.js"
import { SystemPing } from "../generated/operations/system/SystemPing.js"
import { SystemVersion as SystemVersionOp } from "../generated/operations/system/SystemVersion.js"
import type { EventMessage } from "../generated/schemas/EventMessage.js"
import type { SystemInfo } from "../generated/schemas/SystemInfo.js"
import type { SystemVersion } from "../generated/schemas/SystemVersion.js"

/** What `_ping` tells about the daemon, from its response headers. */
export interface PingResult {
  /** The body: `OK`. */
  readonly status: string
  /** The newest API version the daemon speaks (`Api-Version`). */
  readonly apiVersion: string | undefined
  /** `linux` or `windows` (`OSType`). */
  readonly osType: string | undefined
  /** `Docker-Experimental: true`. */
  readonly experimental: boolean
  /** `1` (classic) or `2` (BuildKit) (`Builder-Version`). */
  readonly builderVersion: string | undefined
  /** `inactive`, `pending`, `error`, `locked`, `active/worker`, `active/manager` (API 1.42+). */
  readonly swarm: string | undefined
}

export interface SystemShape {
  /** `GET /_ping`: is the daemon there, and what does it speak. */
  readonly ping: () => Effect.Effect<PingResult, DockerError>
  /** `GET /version`. */
  readonly version: () => Effect.Effect<SystemVersion, DockerError>
  /** `GET /info`. */
  readonly info: () => Effect.Effect<SystemInfo, DockerError>
  /**
   * `GET /events`: the daemon's events as they happen (with `since`, first the recorded ones from
   * then). Without `until` the stream never ends by itself: stop consuming (`take`, interruption)
   * and its connection closes. `since`/`until` take a `Date`, Unix seconds, or the daemon's own
   * forms (`"1700000000.5"`, RFC 3339, a duration such as `"10m"`).
   */
  readonly events: (options?: EventsOptions) => Stream.Stream<EventMessage, DockerError>
  /** `GET /system/df`: disk usage of images, containers, volumes and the build cache. */
  readonly dataUsage: (options?: SystemDataUsageArgs) => Effect.Effect<SystemDataUsageResponse, DockerError>
}

export interface EventsOptions extends Omit<SystemEventsArgs, "since" | "until"> {
  readonly since?: Date | number | string | undefined
  readonly until?: Date | number | string | undefined
}

/** The daemon reads Unix seconds with a fractional part (`"1700000000.123"`). */
const eventTime = (time: Date | number | string): string =>
  time instanceof Date ? (time.getTime() / 1000).toFixed(3) : String(time)

const first = (value: string | Array<string> | undefined): string | undefined => Array.isArray(value) ? value[0] : value

export class System extends Context.Service<System, SystemShape>()("effect-docker/System") {
  static readonly layer: Layer.Layer<System, never, DockerEngine> = Layer.effect(System)(
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      return {
        ping: () =>
          Effect.map(engine.raw(SystemPing), (answer): PingResult => ({
            status: answer.body,
            apiVersion: first(answer.headers["api-version"]),
            osType: first(answer.headers["ostype"]),
            experimental: first(answer.headers["docker-experimental"]) === "true",
            builderVersion: first(answer.headers["builder-version"]),
            swarm: first(answer.headers["swarm"])
          })),
        version: () => engine.json(SystemVersionOp),
        info: () => engine.json(SystemInfoOp),
        events: ({ since, until, ...rest } = {}) =>
          engine.messages(SystemEvents, {
            ...rest,
            ...(since !== undefined ? { since: eventTime(since) } : {}),
            ...(until !== undefined ? { until: eventTime(until) } : {})
          }),
        dataUsage: (options = {}) => engine.json(SystemDataUsage, options)
      }
    })
  )
}
