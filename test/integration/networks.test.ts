/**
 * Issue #12, local networks on a real engine: every `Networks` method, its effect read back from
 * the daemon (inspect of the network and of the containers on it), every read through the
 * lossless probe. Containers never receive traffic: addresses and aliases are read from inspect.
 * Subnets are per engine (both projects run at once) and per test.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Scope } from "effect"
import { DockerEngine } from "../../src/engine/engine.js"
import { ipamConfig, ipamPool, Networks, type NetworksShape } from "../../src/index.js"
import { currentEngine } from "../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../support/labels.js"
import { losslessEngineLayer } from "../support/lossless.js"
import { podmanOr } from "../support/podman-limitations.js"
import { awaitContainerStatus, scopedRunningContainer, uniqueName } from "../support/resources.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const Services = Layer.provideMerge(Networks.layer, lossless.layer)

/** A /24 of this engine's own for test `n`: 10.77.<engine * 16 + n>.0/24. */
const subnet = (n: number) => `10.77.${target.index * 16 + n}`

const live = (
  name: string,
  body: (networks: NetworksShape) => Effect.Effect<void, unknown, Scope.Scope | DockerEngine>,
  timeout = 60_000
) => it.live(name, () => Effect.flatMap(Networks, body).pipe(Effect.scoped, Effect.provide(Services)), timeout)

/** A labelled network, removed (with what is attached) when the test's scope closes. */
const labelledNetwork = (
  networks: NetworksShape,
  caseId: string,
  options: Parameters<NetworksShape["create"]>[1] = {}
) =>
  networks.scoped(uniqueName("net"), { ...options, labels: { ...options.labels, ...testLabels(), "ed.case": caseId } })
    .pipe(Effect.flatMap((created) => networks.inspect(created.Id)))

/** A running container (on the default bridge), force-removed with the scope. */
const runningContainer = Effect.flatMap(DockerEngine, scopedRunningContainer)

// One `label` filter: the case id is unique to this run already, and Podman matches several
// `label` filters as ANY of them, not all (podman-limitations: label-filters-any).
const caseFilter = (caseId: string) => ({ label: [`ed.case=${caseId}`] })

describe(`networks on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  live(
    "create with IPAM, options and labels: inspect says what was asked; a duplicate is Conflict",
    (networks) =>
      Effect.gen(function*() {
        const caseId = uniqueName("create")
        const net = yield* labelledNetwork(networks, caseId, {
          driver: "bridge",
          internal: true,
          options: { "com.docker.network.bridge.enable_icc": "true" },
          ipam: ipamConfig({
            pools: [ipamPool({
              subnet: `${subnet(1)}.0/24`,
              ipRange: `${subnet(1)}.128/25`,
              gateway: `${subnet(1)}.1`,
              auxAddresses: { reserved: `${subnet(1)}.2` }
            })]
          }),
          labels: { "ed.note": "a = b" }
        })
        expect(net.Driver).toBe("bridge")
        expect(net.Internal).toBe(true)
        expect(net.Scope).toBe("local")
        // Podman keeps no com.docker.network.bridge.* option (podman-limitations: bridge-options).
        expect(net.Options).toEqual(target.kind === "podman" ? {} : { "com.docker.network.bridge.enable_icc": "true" })
        expect(net.Labels).toMatchObject({ "ed.note": "a = b", "ed.case": caseId })
        expect(net.IPAM?.Driver).toBe("default")
        // Podman keeps the subnet and gateway of a pool, not its IPRange or AuxiliaryAddresses.
        expect(net.IPAM?.Config).toEqual([
          target.kind === "podman" ? { Subnet: `${subnet(1)}.0/24`, Gateway: `${subnet(1)}.1` } : {
            Subnet: `${subnet(1)}.0/24`,
            IPRange: `${subnet(1)}.128/25`,
            Gateway: `${subnet(1)}.1`,
            AuxiliaryAddresses: { reserved: `${subnet(1)}.2` }
          }
        ])
        // verbose and scope reach the daemon (a local network answers the same).
        const verbose = yield* networks.inspect(net.Name!, { verbose: true, scope: "local" })
        expect(verbose.Id).toBe(net.Id)

        const duplicate = yield* networks.create(net.Name!, { labels: testLabels() }).pipe(Effect.flip)
        expect(duplicate._tag).toBe("Conflict")
        expect(duplicate.message).toContain("already exists")
        // Exactly one network of that name: 20.10 would have made a second without CheckDuplicate.
        expect((yield* networks.list({ names: [net.Name!] })).map((n) => n.Id)).toEqual([net.Id])
      })
  )

  live("list: names match whole names, ids and filters narrow", (networks) =>
    Effect.gen(function*() {
      const caseId = uniqueName("list")
      const name = uniqueName("web")
      const one = yield* networks.scoped(name, { labels: { ...testLabels(), "ed.case": caseId } })
      const two = yield* networks.scoped(`${name}-2`, { labels: { ...testLabels(), "ed.case": caseId } })
      expect((yield* networks.list({ names: [name] })).map((n) => n.Id)).toEqual([one.Id])
      expect((yield* networks.list({ ids: [two.Id.slice(0, 12)] })).map((n) => n.Id)).toEqual([two.Id])
      const byLabel = yield* networks.list({ filters: caseFilter(caseId) })
      expect(byLabel.map((n) => n.Id).sort()).toEqual([one.Id, two.Id].sort())
      expect((yield* networks.list({ names: [name], filters: { driver: ["bridge"] } })).map((n) => n.Id)).toEqual([
        one.Id
      ])
    }))

  live(
    "connect with alias and address: the endpoint, the network's containers; disconnect",
    (networks) =>
      Effect.gen(function*() {
        const caseId = uniqueName("connect")
        const net = yield* labelledNetwork(networks, caseId, {
          ipam: ipamConfig({ pools: [ipamPool({ subnet: `${subnet(2)}.0/24`, gateway: `${subnet(2)}.1` })] })
        })
        const container = yield* runningContainer
        yield* networks.connect(net.Name!, container.name, {
          aliases: ["db", "primary"],
          ipv4Address: `${subnet(2)}.50`,
          driverOpts: { "ed.opt": "1" }
        })

        const endpoint = yield* networks.endpoint(net.Name!, container.id)
        expect(endpoint.NetworkID).toBe(target.kind === "podman" ? net.Name : net.Id) // Podman: the name
        expect(endpoint.IPAddress).toBe(`${subnet(2)}.50`)
        expect(endpoint.Gateway).toBe(`${subnet(2)}.1`)
        // Podman does not echo the endpoint's IPAMConfig or DriverOpts (null); the address is set.
        expect(endpoint.IPAMConfig?.IPv4Address).toBe(target.kind === "podman" ? undefined : `${subnet(2)}.50`)
        expect(endpoint.Aliases).toEqual(expect.arrayContaining(["db", "primary"]))
        expect(endpoint.DriverOpts).toEqual(target.kind === "podman" ? null : { "ed.opt": "1" })
        // The same endpoint found by the network's ID.
        expect((yield* networks.endpoint(net.Id!, container.name)).EndpointID).toBe(endpoint.EndpointID)

        const attached = yield* networks.containers(net.Id!)
        expect(attached).toEqual([
          expect.objectContaining({
            Id: container.id,
            Name: container.name,
            EndpointID: endpoint.EndpointID,
            IPv4Address: `${subnet(2)}.50/24`
          })
        ])

        // An address already taken: the daemon's refusal, typed.
        const other = yield* runningContainer
        const taken = yield* networks.connect(net.Name!, other.id, { ipv4Address: `${subnet(2)}.50` }).pipe(Effect.flip)
        expect(["Forbidden", "Conflict", "ServerError", "BadRequest"]).toContain(taken._tag)
        expect(taken.message).toMatch(/already in use|Address already|is not available/i) // Podman: not available
        // The refused container is not attached, and the network still reads (Podman answers 500
        // `network inspection mismatch` for it, and for the container list, while it keeps the
        // refused join, which Networks.connect undoes).
        expect((yield* networks.containers(net.Id!)).map((endpoint) => endpoint.Id)).toEqual([container.id])

        yield* networks.disconnect(net.Name!, container.id)
        expect((yield* networks.endpoint(net.Name!, container.id).pipe(Effect.flip))._tag).toBe("NotFound")
        expect(yield* networks.containers(net.Id!)).toEqual([])
      })
  )

  live(
    "remove: in use is refused as the daemon says; force disconnects and removes",
    (networks) =>
      Effect.gen(function*() {
        const caseId = uniqueName("remove")
        const net = yield* labelledNetwork(networks, caseId)
        const container = yield* runningContainer
        yield* networks.connect(net.Id!, container.id)

        const refused = yield* networks.remove(net.Id!).pipe(Effect.flip)
        // Podman: 500 "… has associated containers with it …: network is being used" (Conflict),
        // and only when named by its name: Networks.remove names it so (see networks.ts).
        expect(refused._tag).toBe(target.kind === "podman" ? "Conflict" : "Forbidden")
        expect(refused.message).toMatch(target.kind === "podman" ? /network is being used/ : /has active endpoints/)

        yield* networks.remove(net.Id!, { force: true })
        expect((yield* networks.inspect(net.Id!).pipe(Effect.flip))._tag).toBe("NotFound")
        // The container lives on, without that network.
        const engine = yield* DockerEngine
        yield* awaitContainerStatus(engine, container.id, "running")
        // Podman lists its default network as `bridge`, but a container's entry names it `podman`.
        const defaultNetwork = target.kind === "podman" ? "podman" : "bridge"
        expect((yield* networks.endpoint(defaultNetwork, container.id)).NetworkID).toBeTypeOf("string")

        expect((yield* networks.remove(net.Id!).pipe(Effect.flip))._tag).toBe("NotFound")
        expect((yield* networks.inspect("ed-no-such-network").pipe(Effect.flip))._tag).toBe("NotFound")
      })
  )

  live("scoped: removed with its scope while a container is still attached", (networks) =>
    Effect.gen(function*() {
      const container = yield* runningContainer
      const id = yield* Effect.scoped(Effect.gen(function*() {
        const net = yield* networks.scoped(uniqueName("scoped"), { labels: testLabels() })
        yield* networks.connect(net.Id, container.id)
        expect((yield* networks.containers(net.Id)).map((c) => c.Id)).toEqual([container.id])
        return net.Id
      }))
      expect((yield* networks.inspect(id).pipe(Effect.flip))._tag).toBe("NotFound")
    }))

  live(
    "a config-only network and one configured from it",
    (networks) =>
      podmanOr(
        "config-only-networks",
        Effect.gen(function*() {
          const caseId = uniqueName("configfrom")
          const base = yield* labelledNetwork(networks, caseId, {
            configOnly: true,
            ipam: ipamConfig({ pools: [ipamPool({ subnet: `${subnet(3)}.0/24`, gateway: `${subnet(3)}.1` })] })
          })
          expect(base.ConfigOnly).toBe(true)
          expect(base.Scope).toBe("local")
          expect(base.Driver).toBe("null")
          // The daemon refuses any configuration of its own on a network configured from another,
          // labels included ("user specified configurations are not supported…", 403): this one
          // cannot carry the test label, so only its scope's finalizer removes it.
          const created = yield* networks.scoped(uniqueName("derived"), { driver: "bridge", configFrom: base.Name! })
          const derived = yield* networks.inspect(created.Id)
          const refused = yield* networks.create(uniqueName("derived"), {
            configFrom: base.Name!,
            labels: testLabels()
          }).pipe(Effect.flip)
          expect(refused._tag).toBe("Forbidden")
          expect(derived.ConfigFrom).toEqual({ Network: base.Name })
          expect(derived.IPAM?.Config).toEqual([{ Subnet: `${subnet(3)}.0/24`, Gateway: `${subnet(3)}.1` }])
        })
      )
  )

  live("prune removes exactly the unused networks the filter names", (networks) =>
    Effect.gen(function*() {
      const caseId = uniqueName("prune")
      const keepId = uniqueName("keep")
      const a = yield* labelledNetwork(networks, caseId)
      const b = yield* labelledNetwork(networks, caseId)
      const used = yield* labelledNetwork(networks, caseId)
      const kept = yield* labelledNetwork(networks, keepId)
      const container = yield* runningContainer
      yield* networks.connect(used.Id!, container.id)

      const pruned = yield* networks.prune({ filters: caseFilter(caseId) })
      expect([...(pruned.NetworksDeleted ?? [])].sort()).toEqual([a.Name, b.Name].sort())
      const left = yield* networks.list({ filters: { label: [`${TEST_LABEL}=${runId()}`] } })
      expect(left.map((n) => n.Id)).toEqual(expect.arrayContaining([used.Id, kept.Id]))
      expect(left.map((n) => n.Id)).not.toContain(a.Id)
      expect(left.map((n) => n.Id)).not.toContain(b.Id)
    }))
})
