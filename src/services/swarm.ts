/**
 * `Swarm`: this node's swarm — init, join, leave, inspect, update, unlock, and the join tokens and
 * unlock key (`Redacted`, so they print as `<redacted>` wherever they go).
 *
 * Decisions that show in the API:
 * - **Update** takes a patch of the swarm's spec and applies it to the current one (see
 *   `spec-merge.ts`), sending the current `Version.Index` read just before (retried once from a
 *   fresh read when the daemon answers "update out of sequence").
 * - **Outside a swarm** every call but `init` / `join` fails with `NotInSwarm` — `leave` too, so
 *   "there was nothing to leave" is told apart from a real failure (`catchTag("NotInSwarm")`).
 * - **Secrets in, secrets out.** `join` and `unlock` take the token / key as a string or
 *   `Redacted`; `joinTokens` and `unlockKey` return them `Redacted`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { definedOnly } from "../core/defined.js"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeSwarmClient, type SwarmClient } from "../generated/clients/swarm.js"
import type { SwarmSpec } from "../generated/schemas/SwarmSpec.js"
import { mergeSpec, type SpecPatch } from "./spec-merge.js"
import { updateAtCurrentVersion } from "./versioned-update.js"

// Loaded on first use (src/core/lazy.ts): a program that never touches swarm pays nothing for it.
const SwarmInit$ = lazyDescriptor(() => import("../generated/operations/swarm/SwarmInit.js").then((m) => m.SwarmInit))
const SwarmJoin$ = lazyDescriptor(() => import("../generated/operations/swarm/SwarmJoin.js").then((m) => m.SwarmJoin))
const SwarmUpdate$ = lazyDescriptor(() =>
  import("../generated/operations/swarm/SwarmUpdate.js").then((m) => m.SwarmUpdate)
)
const SwarmUnlock$ = lazyDescriptor(() =>
  import("../generated/operations/swarm/SwarmUnlock.js").then((m) => m.SwarmUnlock)
)
const SwarmUnlockkey$ = lazyDescriptor(() =>
  import("../generated/operations/swarm/SwarmUnlockkey.js").then((m) => m.SwarmUnlockkey)
)

/** A secret given as a plain string or `Redacted`. */
export type SecretString = string | Redacted.Redacted<string>

const reveal = (value: SecretString): string => Redacted.isRedacted(value) ? Redacted.value(value) : value

/** Options of `Swarm.init`. */
export interface SwarmInitOptions {
  /** Where managers listen (`<ip|interface>[:port]`, default `0.0.0.0:2377`). */
  readonly listenAddr?: string | undefined
  /** The address advertised to other nodes (`<ip|interface>[:port]`). */
  readonly advertiseAddr?: string | undefined
  /** The address or interface for data-path (VXLAN) traffic. */
  readonly dataPathAddr?: string | undefined
  /** The VXLAN UDP port (default 4789). */
  readonly dataPathPort?: number | undefined
  /** Subnet pools for global-scope networks (default `["10.0.0.0/8"]`). */
  readonly defaultAddrPool?: ReadonlyArray<string> | undefined
  /** The size of each network taken from the pools (default 24). */
  readonly subnetSize?: number | undefined
  /** Start a new single-manager cluster from this node's state (disaster recovery). */
  readonly forceNewCluster?: boolean | undefined
  /** The swarm's spec (labels, raft, dispatcher, CA, autolock…). */
  readonly spec?: SwarmSpec | undefined
}

/** Options of `Swarm.join`. */
export interface SwarmJoinOptions {
  /** Managers already in the swarm (`host:port`). */
  readonly remoteAddrs: ReadonlyArray<string>
  /** A worker or manager join token (`Swarm.joinTokens`). */
  readonly joinToken: SecretString
  /** Where this node listens should it become a manager (default `0.0.0.0:2377`). */
  readonly listenAddr?: string | undefined
  /** The address advertised to other nodes (`<ip|interface>[:port]`). */
  readonly advertiseAddr?: string | undefined
  /** The address or interface for data-path (VXLAN) traffic. */
  readonly dataPathAddr?: string | undefined
}

/** Options of `Swarm.update`. */
export interface SwarmUpdateOptions {
  /** Issue a new worker join token. */
  readonly rotateWorkerToken?: boolean | undefined
  /** Issue a new manager join token. */
  readonly rotateManagerToken?: boolean | undefined
  /** A new unlock key (with autolock on). */
  readonly rotateManagerUnlockKey?: boolean | undefined
}

/** The swarm's join tokens. */
export interface SwarmJoinTokens {
  /** Joins a node as a worker. */
  readonly worker: Redacted.Redacted<string>
  /** Joins a node as a manager. */
  readonly manager: Redacted.Redacted<string>
}

/** This node's swarm: the generated pass-throughs (`SwarmClient`: inspect, leave) and the decisions. */
export interface SwarmShape extends Omit<SwarmClient, "unlockKey"> {
  /** `POST /swarm/init`: makes this node the first manager of a new swarm; its node ID. */
  readonly init: (options?: SwarmInitOptions) => Effect.Effect<string, DockerError>
  /** `POST /swarm/join`: joins the swarm `remoteAddrs` belong to (worker or manager by the token). */
  readonly join: (options: SwarmJoinOptions) => Effect.Effect<void, DockerError>
  /**
   * `POST /swarm/update`: the current spec with `patch` applied, at the current version (read
   * here); with the options, rotates tokens or the unlock key.
   */
  readonly update: (
    patch?: SpecPatch<SwarmSpec>,
    options?: SwarmUpdateOptions
  ) => Effect.Effect<void, DockerError>
  /** `POST /swarm/unlock`: unlocks a locked manager (autolock) with its unlock key. */
  readonly unlock: (key: SecretString) => Effect.Effect<void, DockerError>
  /** `GET /swarm/unlockkey`: the unlock key; `undefined` while autolock is off. */
  readonly unlockKey: () => Effect.Effect<Redacted.Redacted<string> | undefined, DockerError>
  /** The worker and manager join tokens (from `inspect`). */
  readonly joinTokens: () => Effect.Effect<SwarmJoinTokens, DockerError>
}

/** The Swarm service over `engine`. */
export const makeSwarm = (engine: DockerEngineShape): SwarmShape => {
  const client = makeSwarmClient(engine)
  return {
    inspect: client.inspect,
    leave: client.leave,
    init: (options = {}) =>
      withDescriptor(SwarmInit$, (d) =>
        engine.json(d, {
          body: definedOnly({
            ListenAddr: options.listenAddr,
            AdvertiseAddr: options.advertiseAddr,
            DataPathAddr: options.dataPathAddr,
            DataPathPort: options.dataPathPort,
            DefaultAddrPool: options.defaultAddrPool,
            SubnetSize: options.subnetSize,
            ForceNewCluster: options.forceNewCluster,
            Spec: options.spec
          })
        })),
    join: (options) =>
      withDescriptor(SwarmJoin$, (d) =>
        engine.empty(d, {
          body: {
            ListenAddr: options.listenAddr ?? "0.0.0.0:2377",
            RemoteAddrs: options.remoteAddrs,
            JoinToken: reveal(options.joinToken),
            ...definedOnly({ AdvertiseAddr: options.advertiseAddr, DataPathAddr: options.dataPathAddr })
          }
        })),
    update: (patch, options = {}) =>
      updateAtCurrentVersion(client.inspect(), (swarm, version) =>
        withDescriptor(SwarmUpdate$, (d) =>
          engine.empty(d, {
            version,
            body: mergeSpec<SwarmSpec>(swarm.Spec ?? {}, patch),
            ...definedOnly(options)
          }))),
    unlock: (key) => withDescriptor(SwarmUnlock$, (d) => engine.empty(d, { body: { UnlockKey: reveal(key) } })),
    unlockKey: () =>
      withDescriptor(
        SwarmUnlockkey$,
        (d) =>
          Effect.map(engine.json(d), ({ UnlockKey }) =>
            UnlockKey === undefined || UnlockKey === "" ? undefined : Redacted.make(UnlockKey))
      ),
    joinTokens: () =>
      Effect.map(client.inspect(), (swarm) => ({
        worker: Redacted.make(swarm.JoinTokens?.Worker ?? ""),
        manager: Redacted.make(swarm.JoinTokens?.Manager ?? "")
      }))
  }
}

/** The Swarm service: this node's swarm — init, join, leave, update, tokens, unlock (see `SwarmShape`). */
export class Swarm extends Context.Service<Swarm, SwarmShape>()("effect-docker/Swarm") {
  /** Swarm over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Swarm, never, DockerEngine> = Layer.effect(Swarm)(
    Effect.map(DockerEngine, makeSwarm)
  )
}
