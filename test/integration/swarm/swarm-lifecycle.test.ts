/**
 * Issue #13, `Swarm` on this engine outside and inside a swarm: every call on a node in no swarm
 * fails with `NotInSwarm` — `leave` too, so "nothing to leave" is told from a real failure —,
 * `init` makes a swarm on this engine's own ports, a second `init` is refused, `leave` ends it.
 * The swarm is left (force) in a finalizer whatever happens (test/support/swarm.ts).
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { Nodes, Services, Swarm } from "../../../src/index.js"
import { currentEngine } from "../../support/engines.js"
import { testLabels } from "../../support/labels.js"
import { losslessEngineLayer } from "../../support/lossless.js"
import { leaveSwarm, LISTEN_ADDR, swarmPorts } from "../../support/swarm.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const Live = Layer.mergeAll(Swarm.layer, Nodes.layer, Services.layer).pipe(Layer.provideMerge(lossless.layer))

describe(`Swarm init / leave on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  layer(Live, { excludeTestServices: true, timeout: "120 seconds" })("no swarm, then one", (it) => {
    it.effect("outside a swarm NotInSwarm (leave included); init, refused twice, leave", () =>
      Effect.gen(function*() {
        const swarm = yield* Swarm
        const engine = yield* DockerEngine
        // A swarm a crashed run (or an earlier file) left behind.
        yield* leaveSwarm(engine)

        const outside = yield* Effect.all([
          swarm.inspect().pipe(Effect.flip),
          swarm.leave().pipe(Effect.flip),
          swarm.leave({ force: true }).pipe(Effect.flip),
          swarm.unlockKey().pipe(Effect.flip),
          swarm.joinTokens().pipe(Effect.flip),
          Effect.flatMap(Nodes, (nodes) => nodes.list()).pipe(Effect.flip),
          Effect.flatMap(Services, (services) => services.list()).pipe(Effect.flip)
        ])
        expect(outside.map((e) => e._tag)).toEqual(Array(7).fill("NotInSwarm"))
        // The two wordings of the daemons (see src/core/errors.ts), both with status 503.
        expect(outside.map((e) => (e as { status?: number }).status)).toEqual(Array(7).fill(503))
        expect((outside[1] as { daemonMessage: string }).daemonMessage).toBe("This node is not part of a swarm")
        expect((outside[0] as { daemonMessage: string }).daemonMessage).toMatch(
          /^This node is not a swarm manager\. Use/
        )

        // A join the daemon refuses (a malformed token: refused before it dials anyone — a
        // well-formed one would keep trying in the background) leaves the node outside, and the
        // token (given Redacted) is not in the error.
        const token = "SWMTKN-1-ed-not-a-token"
        const join = yield* Effect.acquireRelease(
          swarm.join({ remoteAddrs: [LISTEN_ADDR], joinToken: Redacted.make(token), listenAddr: LISTEN_ADDR }).pipe(
            Effect.flip
          ),
          () => leaveSwarm(engine)
        )
        expect(join).toMatchObject({ _tag: "ServerError", daemonMessage: "invalid join token" })
        expect(join.message).not.toContain(token)
        expect((yield* swarm.inspect().pipe(Effect.flip))._tag).toBe("NotInSwarm")

        const nodeId = yield* Effect.acquireRelease(
          swarm.init({
            listenAddr: LISTEN_ADDR,
            advertiseAddr: "127.0.0.1",
            dataPathPort: swarmPorts.dataPath,
            spec: { Labels: testLabels() }
          }),
          () => leaveSwarm(engine)
        )
        expect(nodeId).toMatch(/^[0-9a-z]{25}$/)
        const inspected = yield* swarm.inspect()
        expect(inspected.Spec?.Labels).toEqual(testLabels())
        expect(inspected.DataPathPort).toBe(swarmPorts.dataPath)
        expect((yield* Effect.flatMap(Nodes, (nodes) => nodes.list())).map((n) => n.ID)).toEqual([nodeId])

        const again = yield* swarm.init({ listenAddr: LISTEN_ADDR, advertiseAddr: "127.0.0.1" }).pipe(Effect.flip)
        expect(again._tag).toBe("ServiceUnavailable")
        expect((again as { daemonMessage: string }).daemonMessage).toMatch(/already part of a swarm/)

        // The last manager leaves only with force.
        const refused = yield* swarm.leave().pipe(Effect.flip)
        expect((refused as { daemonMessage: string }).daemonMessage).toMatch(/last manager|--force/)
        expect((yield* swarm.inspect()).ID).toBe(inspected.ID)
        yield* swarm.leave({ force: true })
        expect((yield* swarm.inspect().pipe(Effect.flip))._tag).toBe("NotInSwarm")
        expect((yield* swarm.leave({ force: true }).pipe(Effect.flip))._tag).toBe("NotInSwarm")
      }))
  })
})
