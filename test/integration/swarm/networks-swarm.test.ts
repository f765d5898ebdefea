/**
 * Issue #12, swarm-scoped networks on a real engine: an attachable overlay network (create with
 * IPAM, inspect by scope, a standalone container connected with an alias, forced removal with it
 * attached) and an ingress network, on a one-node swarm this file initialises and leaves.
 *
 * The engine's swarm (test/support/swarm.ts): the swarm project runs its files one after another.
 * The swarm is left (force) in the layer's finalizer, and a swarm a crashed run left is left first.
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { ipamConfig, ipamPool, Networks } from "../../../src/index.js"
import { currentEngine } from "../../support/engines.js"
import { testLabels } from "../../support/labels.js"
import { losslessEngineLayer } from "../../support/lossless.js"
import { pollUntil, scopedRunningContainer, uniqueName } from "../../support/resources.js"
import { oneNodeSwarm } from "../../support/swarm.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
/** This engine's overlay subnet: 10.78.<engine>.0/24. */
const subnet = `10.78.${target.index}`

/** A one-node swarm for the file, left (force) when the file is done. */
const SwarmLive = Layer.effectDiscard(Effect.flatMap(DockerEngine, (engine) => oneNodeSwarm(engine)))

const Services = Layer.provideMerge(Networks.layer, Layer.provideMerge(SwarmLive, lossless.layer))

describe(`swarm-scoped networks on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  layer(Services, { excludeTestServices: true, timeout: "120 seconds" })("one-node swarm", (it) => {
    it.effect("an attachable overlay: IPAM, scope, a standalone container with an alias, forced removal", () =>
      Effect.gen(function*() {
        const networks = yield* Networks
        const engine = yield* DockerEngine
        const net = yield* networks.scoped(uniqueName("overlay"), {
          driver: "overlay",
          attachable: true,
          scope: "swarm",
          labels: testLabels(),
          ipam: ipamConfig({ pools: [ipamPool({ subnet: `${subnet}.0/24`, gateway: `${subnet}.1` })] })
        })
        const inspected = yield* networks.inspect(net.Id, { scope: "swarm" })
        expect(inspected.Scope).toBe("swarm")
        expect(inspected.Driver).toBe("overlay")
        expect(inspected.Attachable).toBe(true)
        expect(inspected.Labels).toMatchObject(testLabels())
        expect(inspected.IPAM?.Config).toEqual([{ Subnet: `${subnet}.0/24`, Gateway: `${subnet}.1` }])
        expect((yield* networks.list({ filters: { scope: ["swarm"] }, names: [inspected.Name!] })).map((n) => n.Id))
          .toEqual([net.Id])
        const duplicate = yield* networks.create(inspected.Name!, { driver: "overlay", labels: testLabels() })
          .pipe(Effect.flip)
        expect(duplicate._tag).toBe("Conflict")

        const container = yield* scopedRunningContainer(engine)
        yield* networks.connect(net.Id, container.id, { aliases: ["svc-db"] })
        const endpoint = yield* networks.endpoint(inspected.Name!, container.id)
        expect(endpoint.NetworkID).toBe(net.Id)
        expect(endpoint.Aliases).toContain("svc-db")
        expect(endpoint.IPAddress).toMatch(new RegExp(`^${subnet.replace(/\./g, "\\.")}\\.`))
        const attached = yield* networks.containers(net.Id)
        expect(attached.map((c) => c.Id)).toContain(container.id)

        // Removal while the container is attached: refused plainly — as the swarm says it, 400
        // "in use by task" (the container's attachment task), not the local 403 — done with force.
        const refused = yield* networks.remove(net.Id).pipe(Effect.flip)
        expect(refused._tag).toBe("BadRequest")
        expect(refused.message).toMatch(/is in use by task/)
        yield* networks.remove(net.Id, { force: true })
        // The manager removed it; this node's copy goes when its agent catches up (bounded wait).
        yield* pollUntil(
          networks.inspect(net.Id).pipe(Effect.as(false), Effect.catchTag("NotFound", () => Effect.succeed(true))),
          (gone) => gone,
          { what: `network ${net.Id} gone` }
        )
      }))

    it.effect("an ingress network of our own in place of the swarm's", () =>
      Effect.gen(function*() {
        const networks = yield* Networks
        // One ingress per swarm: the default one (no service uses it yet) makes way for ours.
        const second = yield* networks.create(uniqueName("ingress"), {
          driver: "overlay",
          ingress: true,
          labels: testLabels()
        }).pipe(Effect.flip)
        expect(second._tag).toBe("Conflict")
        expect(second.message).toMatch(/ingress/i)
        yield* networks.remove("ingress")
        const ours = yield* networks.scoped(uniqueName("ingress"), {
          driver: "overlay",
          ingress: true,
          labels: testLabels()
        })
        const inspected = yield* networks.inspect(ours.Id)
        expect(inspected.Ingress).toBe(true)
        expect(inspected.Scope).toBe("swarm")
        expect(inspected.Labels).toMatchObject(testLabels())
      }))
  })
})
