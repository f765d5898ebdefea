/**
 * `Networks`: every network operation of the Engine API — list, create, inspect, remove, prune,
 * connect, disconnect — plus the containers attached to a network, a container's endpoint on one,
 * and a network that lives as long as a scope.
 *
 * Decisions that show in the API:
 * - **Duplicates.** `create` always asks the daemon to refuse a name already in use
 *   (`CheckDuplicate`): Docker 20.10 (API ≤ 1.43) otherwise creates a second network of the same
 *   name, answering 201 with only a `Warning`, and every later call by that name is then
 *   "ambiguous". A duplicate is `Conflict` on every version. (From API 1.44 the daemon always
 *   checks and the field is not sent.)
 * - **Names.** `list({ names })` matches whole names: the daemon's `name` filter matches any part
 *   of a name (`web` finds `web-2`), so the answer is narrowed to exact names. `ids` stay prefixes,
 *   as the CLI treats them.
 * - **Removal with what is attached.** `remove(network, { force: true })` (and the finalizer of
 *   `scoped`) force-disconnects every endpoint first, by its endpoint name: Docker 20.10 leaves a
 *   stale endpoint behind when a container on a user network is force-removed, and the network
 *   then cannot be removed ("has active endpoints", 403) until that endpoint is disconnected by
 *   name with `Force`. A swarm network is refused for a moment after that (its attachment tasks
 *   go asynchronously, 400 "in use by task"): the removal is retried for up to 10 s then.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { definedOnly } from "../core/defined.js"
import { type DockerError, NotFound } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeNetworkClient, type NetworkClient } from "../generated/clients/network.js"
import type { NetworkCreate, NetworkCreateBody } from "../generated/operations/network/NetworkCreate.js"
import type { NetworkList } from "../generated/operations/network/NetworkList.js"
import type { EndpointResource } from "../generated/schemas/EndpointResource.js"
import type { EndpointSettings } from "../generated/schemas/EndpointSettings.js"
import type { Filters } from "../generated/schemas/Filters.js"
import type { IPAM } from "../generated/schemas/IPAM.js"
import type { IPAMConfig } from "../generated/schemas/IPAMConfig.js"
import { withFilterValues } from "../wire/filters.js"

const ContainerInspect$ = lazyDescriptor(() =>
  import("../generated/operations/container/ContainerInspect.js").then((m) => m.ContainerInspect)
)
const NetworkConnect$ = lazyDescriptor(() =>
  import("../generated/operations/network/NetworkConnect.js").then((m) => m.NetworkConnect)
)
const NetworkCreate$ = lazyDescriptor(() =>
  import("../generated/operations/network/NetworkCreate.js").then((m) => m.NetworkCreate)
)
const NetworkDelete$ = lazyDescriptor(() =>
  import("../generated/operations/network/NetworkDelete.js").then((m) => m.NetworkDelete)
)
const NetworkDisconnect$ = lazyDescriptor(() =>
  import("../generated/operations/network/NetworkDisconnect.js").then((m) => m.NetworkDisconnect)
)
const NetworkList$ = lazyDescriptor(() =>
  import("../generated/operations/network/NetworkList.js").then((m) => m.NetworkList)
)

/** One IPAM pool (docker-py's `IPAMPool`): a subnet, the range to allocate from, its gateway. */
export interface IpamPoolOptions {
  /** CIDR, e.g. `"10.20.0.0/24"`. */
  readonly subnet?: string | undefined
  /** The part of `subnet` containers get addresses from (CIDR). */
  readonly ipRange?: string | undefined
  /** The subnet's gateway address. */
  readonly gateway?: string | undefined
  /** Addresses the driver must not hand out: host name → address. */
  readonly auxAddresses?: Readonly<Record<string, string>> | undefined
}

/** A network's IPAM configuration (docker-py's `IPAMConfig`). */
export interface IpamConfigOptions {
  /** The IPAM driver (default `"default"`, the daemon's built-in one). */
  readonly driver?: string | undefined
  /** The address pools (`IPAMConfig`: `Subnet`, `IPRange`, `Gateway`, `AuxiliaryAddresses`). */
  readonly pools?: ReadonlyArray<IPAMConfig> | undefined
  /** Options of the IPAM driver. */
  readonly options?: Readonly<Record<string, string>> | undefined
}

/** An IPAM pool as the daemon takes it (`IPAM.Config[]`). */
export const ipamPool = (options: IpamPoolOptions): IPAMConfig =>
  definedOnly({
    Subnet: options.subnet,
    IPRange: options.ipRange,
    Gateway: options.gateway,
    AuxiliaryAddresses: options.auxAddresses
  })

/** A network's `IPAM` as the daemon takes it, for `create({ ipam })`. */
export const ipamConfig = (options: IpamConfigOptions = {}): IPAM =>
  definedOnly({ Driver: options.driver ?? "default", Config: options.pools, Options: options.options })

/** Options of `Networks.list`. */
export interface NetworkListOptions {
  /** Only networks with exactly these names. */
  readonly names?: ReadonlyArray<string> | undefined
  /** Only networks whose ID starts with one of these. */
  readonly ids?: ReadonlyArray<string> | undefined
  /** The daemon's filters (`driver`, `label`, `scope`, `type`, `dangling`…). */
  readonly filters?: Filters | undefined
}

/** Options of `Networks.create` and `scoped`. */
export interface NetworkCreateOptions {
  /** `bridge` (default), `overlay` (swarm), `macvlan`, `ipvlan`, or a plugin's. */
  readonly driver?: string | undefined
  /** Driver options (`com.docker.network.bridge.name`…). */
  readonly options?: Readonly<Record<string, string>> | undefined
  /** Addressing: `ipamConfig({ pools: [ipamPool({ subnet, gateway })] })`. */
  readonly ipam?: IPAM | undefined
  /** No external connectivity. */
  readonly internal?: boolean | undefined
  /** Labels to put on the network. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** Enable IPv6 on it. */
  readonly enableIPv6?: boolean | undefined
  /** API 1.47+. */
  readonly enableIPv4?: boolean | undefined
  /** A swarm-scoped network that standalone containers may join. */
  readonly attachable?: boolean | undefined
  /** `local`, `swarm` or `global`. */
  readonly scope?: string | undefined
  /** The swarm's routing-mesh network (one per swarm). */
  readonly ingress?: boolean | undefined
  /** A network that only holds configuration for others (`configFrom`). */
  readonly configOnly?: boolean | undefined
  /** The config-only network whose configuration this one uses. */
  readonly configFrom?: string | undefined
}

/** Options of `Networks.connect`: the container's endpoint settings on the network. */
export interface NetworkConnectOptions {
  /** Extra DNS names of the container on this network. */
  readonly aliases?: ReadonlyArray<string> | undefined
  /** A static IPv4 address for the container on the network. */
  readonly ipv4Address?: string | undefined
  /** A static IPv6 address. */
  readonly ipv6Address?: string | undefined
  /** Link-local addresses. */
  readonly linkLocalIps?: ReadonlyArray<string> | undefined
  /** Legacy links, `container[:alias]`. */
  readonly links?: ReadonlyArray<string> | undefined
  /** Driver options of the endpoint. */
  readonly driverOpts?: Readonly<Record<string, string>> | undefined
  /** The endpoint's MAC address (API 1.44+). */
  readonly macAddress?: string | undefined
}

/** Options of `Networks.disconnect`. */
export interface NetworkDisconnectOptions {
  /** Disconnect even when the container is gone or not running (removes a stale endpoint by name). */
  readonly force?: boolean | undefined
}

/** Options of `Networks.remove`. */
export interface NetworkRemoveOptions {
  /** Force-disconnect every endpoint first (also stale ones), then remove. */
  readonly force?: boolean | undefined
}

/** The containers attached to a network: each endpoint, with the container's ID (`Id`). */
export type NetworkContainersResult = ReadonlyArray<
  EndpointResource & {
    /** The container's ID. */
    readonly Id: string
  }
>

/**
 * Every network operation: the generated pass-throughs (`NetworkClient`: inspect, prune) and the
 * methods below, which decide something.
 */
export interface NetworksShape extends NetworkClient {
  /** `GET /networks`, with `names` (exact) and `ids` (prefixes) added to the filters. */
  readonly list: (options?: NetworkListOptions) => Effect.Effect<NetworkList.Response, DockerError>
  /** `POST /networks/create`; a name in use is `Conflict` on every version. */
  readonly create: (
    name: string,
    options?: NetworkCreateOptions
  ) => Effect.Effect<NetworkCreate.Response, DockerError>
  /** `DELETE /networks/{id}`; `force` disconnects everything attached first. */
  readonly remove: (network: string, options?: NetworkRemoveOptions) => Effect.Effect<void, DockerError>
  /** `POST /networks/{id}/connect`. */
  readonly connect: (
    network: string,
    container: string,
    options?: NetworkConnectOptions
  ) => Effect.Effect<void, DockerError>
  /** `POST /networks/{id}/disconnect`. */
  readonly disconnect: (
    network: string,
    container: string,
    options?: NetworkDisconnectOptions
  ) => Effect.Effect<void, DockerError>
  /** The containers attached to `network` on this node (from its inspect). */
  readonly containers: (network: string) => Effect.Effect<NetworkContainersResult, DockerError>
  /**
   * `container`'s endpoint on `network` (its `NetworkSettings.Networks` entry: addresses, aliases,
   * DNS names); `NotFound` when the container is not connected to it.
   */
  readonly endpoint: (network: string, container: string) => Effect.Effect<EndpointSettings, DockerError>
  /**
   * A network removed when `scope` closes — force-disconnecting whatever is still attached, stale
   * endpoints included. A failure to remove it is logged (a finalizer cannot fail).
   */
  readonly scoped: (
    name: string,
    options?: NetworkCreateOptions
  ) => Effect.Effect<NetworkCreate.Response, DockerError, Scope.Scope>
}

const createBody = (name: string, options: NetworkCreateOptions): NetworkCreateBody =>
  definedOnly({
    Name: name,
    // Dropped by the descriptor where the version no longer has it (1.44+ always checks).
    CheckDuplicate: true,
    Driver: options.driver,
    Options: options.options,
    IPAM: options.ipam,
    Internal: options.internal,
    Labels: options.labels,
    EnableIPv6: options.enableIPv6,
    EnableIPv4: options.enableIPv4,
    Attachable: options.attachable,
    Scope: options.scope,
    Ingress: options.ingress,
    ConfigOnly: options.configOnly,
    ConfigFrom: options.configFrom === undefined ? undefined : { Network: options.configFrom }
  })

const endpointConfig = (options: NetworkConnectOptions): EndpointSettings | undefined => {
  const ipam = definedOnly({
    IPv4Address: options.ipv4Address,
    IPv6Address: options.ipv6Address,
    LinkLocalIPs: options.linkLocalIps
  })
  const config = definedOnly({
    Aliases: options.aliases,
    Links: options.links,
    DriverOpts: options.driverOpts,
    MacAddress: options.macAddress,
    IPAMConfig: Object.keys(ipam).length === 0 ? undefined : ipam
  })
  return Object.keys(config).length === 0 ? undefined : config
}

/** Swarm networks' load-balancer endpoint (`lb-<network>`): the daemon's own, removed with the network. */
const isLoadBalancer = (key: string) => key.startsWith("lb-")

/** The Networks service over `engine`: the generated pass-throughs, and the decisions. */
export const makeNetworks = (engine: DockerEngineShape): NetworksShape => {
  const client = makeNetworkClient(engine)

  const disconnect: NetworksShape["disconnect"] = (network, container, options = {}) =>
    withDescriptor(NetworkDisconnect$, (d) =>
      engine.empty(d, {
        id: network,
        body: definedOnly({ Container: container, Force: options.force })
      }))

  const containers: NetworksShape["containers"] = (network) =>
    Effect.map(
      client.inspect(network),
      (inspected) => Object.entries(inspected.Containers ?? {}).map(([id, endpoint]) => ({ ...endpoint, Id: id }))
    )

  // Podman 4.3.1 removes a network that containers still use when it is named by its ID (204,
  // leaving them attached to nothing), and refuses it by name (500 "network is being used",
  // Conflict): on Podman the ID is turned into the name first, so the refusal comes as it should.
  const deleteNetwork = (network: string) =>
    engine.identity().kind !== "podman"
      ? withDescriptor(NetworkDelete$, (d) => engine.empty(d, { id: network }))
      : Effect.flatMap(
        client.inspect(network),
        (inspected) => withDescriptor(NetworkDelete$, (d) => engine.empty(d, { id: inspected.Name ?? network }))
      )

  const remove: NetworksShape["remove"] = (network, options = {}) =>
    options.force !== true
      ? deleteNetwork(network)
      : Effect.gen(function*() {
        const attached = yield* containers(network)
        // By endpoint name: a stale endpoint's container no longer exists, and only a forced
        // disconnect by name removes it. A container that went meanwhile is fine.
        yield* Effect.forEach(
          attached.filter((endpoint) => !isLoadBalancer(endpoint.Id)),
          (endpoint) =>
            disconnect(network, endpoint.Name ?? endpoint.Id, { force: true }).pipe(
              Effect.catchTag("NotFound", () => Effect.void)
            ),
          { discard: true }
        )
        // A swarm network keeps a disconnected container's attachment task for a moment, and is
        // refused meanwhile (400 "is in use by task"): retried for up to 10 s, only then.
        yield* deleteNetwork(network).pipe(
          Effect.retry({
            schedule: Schedule.spaced("200 millis"),
            times: 50,
            while: (error) =>
              attached.length > 0 && error._tag === "BadRequest" && /in use by task/.test(error.daemonMessage)
          })
        )
      })

  const create: NetworksShape["create"] = (name, options = {}) =>
    withDescriptor(NetworkCreate$, (d) => engine.json(d, { body: createBody(name, options) }))

  return {
    ...client,
    list: (options = {}) => {
      const filters = withFilterValues(
        withFilterValues(options.filters, "name", options.names),
        "id",
        options.ids
      )
      const names = options.names
      return Effect.map(
        withDescriptor(NetworkList$, (d) => engine.json(d, filters === undefined ? {} : { filters })),
        (networks) =>
          names === undefined || names.length === 0
            ? networks
            : networks.filter((network) => network.Name !== undefined && names.includes(network.Name))
      )
    },
    create,
    remove,
    connect: (network, container, options = {}) => {
      const config = endpointConfig(options)
      return withDescriptor(NetworkConnect$, (d) =>
        engine.empty(d, {
          id: network,
          body: config === undefined ? { Container: container } : { Container: container, EndpointConfig: config }
        })).pipe(
          // Podman 4.3.1 keeps a container whose connect its CNI plugin refused (500 `plugin
          // type="bridge" failed (add): … requested IP address … is not available`) recorded as
          // joined: until it is disconnected, every network inspect, the network list and the
          // container list answer 500 `network inspection mismatch`, engine-wide. The half-made join
          // is undone here (a disconnect, which Podman accepts), and the refusal is the error.
          Effect.catchTag(
            "ServerError",
            (error) =>
              engine.identity().kind === "podman" && /failed \(add\)/.test(error.daemonMessage)
                ? Effect.andThen(Effect.ignore(disconnect(network, container, { force: true })), Effect.fail(error))
                : Effect.fail(error)
          )
        )
    },
    disconnect,
    containers,
    endpoint: (network, container) =>
      Effect.flatMap(
        Effect.all([
          withDescriptor(ContainerInspect$, (d) => engine.json(d, { id: container })),
          client.inspect(network)
        ], { concurrency: 2 }),
        ([inspected, net]) => {
          // Keyed by network name; matched by ID too, as `network` may be either (or a prefix).
          const entry = Object.entries(inspected.NetworkSettings?.Networks ?? {}).find(([key, settings]) =>
            key === net.Name || (settings?.NetworkID !== undefined && settings.NetworkID === net.Id)
          )
          const settings = entry?.[1]
          if (settings !== undefined && settings !== null) return Effect.succeed(settings)
          const daemonMessage = `container ${container} is not connected to network ${network}`
          return Effect.fail(
            new NotFound({
              operation: "ContainerInspect",
              status: 404,
              daemonMessage,
              message: `Networks.endpoint: ${daemonMessage}`
            })
          )
        }
      ),
    scoped: (name, options) =>
      Effect.acquireRelease(create(name, options), (created) =>
        remove(created.Id, { force: true }).pipe(
          Effect.catchTag("NotFound", () => Effect.void),
          Effect.catch((error) =>
            Effect.logWarning(`Networks.scoped: could not remove network ${name}: ${error.message}`)
          )
        ))
  }
}

/**
 * The Networks service: every network operation (see `NetworksShape`).
 *
 * @example
 * ```ts
 * import { Containers, Networks } from "effect-docker"
 *
 * const networks = yield* Networks
 * const network = yield* networks.scoped("backend", { labels: { app: "demo" } }) // removed with the scope
 * const web = yield* (yield* Containers).runScoped({
 *   Image: "busybox",
 *   Cmd: ["sleep", "60"],
 *   HostConfig: { NetworkMode: "backend" }
 * })
 * const endpoint = yield* networks.endpoint(network.Id, web.id) // its address on the network
 * ```
 */
export class Networks extends Context.Service<Networks, NetworksShape>()("effect-docker/Networks") {
  /** Networks over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Networks, never, DockerEngine> = Layer.effect(Networks)(
    Effect.map(DockerEngine, makeNetworks)
  )
}
