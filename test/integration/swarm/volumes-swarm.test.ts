/**
 * Issue #12, cluster volumes on a one-node swarm this file initialises and leaves. A cluster
 * volume lives in the swarm's store: a manager creates, inspects, lists and updates it without its
 * CSI plugin being there (the volume stays pending, with no mount point), which is what this bed
 * can offer — no CSI plugin runs here. Removal is the plugin's job: without it a plain remove is
 * accepted (204) and the volume stays; `force` removes it from the store. API 1.41 has no cluster
 * volumes: there every method refuses before anything is sent, swarm or not. Reads go through the
 * lossless probe.
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { Volumes } from "../../../src/index.js"
import { currentEngine } from "../../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../../support/labels.js"
import { losslessEngineLayer } from "../../support/lossless.js"
import { uniqueName } from "../../support/resources.js"
import { oneNodeSwarm } from "../../support/swarm.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const SwarmLive = Layer.effectDiscard(Effect.flatMap(DockerEngine, (engine) => oneNodeSwarm(engine)))
const Services = Layer.provideMerge(Volumes.layer, Layer.provideMerge(SwarmLive, lossless.layer))

const spec = {
  Group: "ed-group",
  AccessMode: { Scope: "single" as const, Sharing: "none" as const, MountVolume: {} },
  Availability: "active" as const
}

describe(`cluster volumes on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  layer(Services, { excludeTestServices: true, timeout: "120 seconds" })("one-node swarm", (it) => {
    it.effect("create, inspect, list, update the availability, remove (pending without its plugin), force-remove", () =>
      Effect.gen(function*() {
        const volumes = yield* Volumes
        const engine = yield* DockerEngine
        const version = yield* engine.apiVersion
        const name = uniqueName("cluster")
        const created = volumes.create(name, {
          driver: "ed-no-such-csi",
          clusterVolumeSpec: spec,
          labels: testLabels()
        })
        if (Number(version.split(".")[1]) < 42) {
          expect((yield* Effect.flip(created))._tag).toBe("ApiVersionError")
          expect((yield* Effect.flip(volumes.update(name, { Availability: "drain" })))._tag).toBe("ApiVersionError")
          expect((yield* Effect.flip(volumes.inspect(name)))._tag).toBe("NotFound")
          return
        }
        yield* Effect.acquireRelease(
          created,
          () => volumes.remove(name, { force: true }).pipe(Effect.catch((e) => Effect.logWarning(String(e))))
        )

        const inspected = yield* volumes.inspect(name)
        expect(inspected.Scope).toBe("global")
        expect(inspected.Driver).toBe("ed-no-such-csi")
        expect(inspected.Labels).toEqual(testLabels())
        expect(inspected.ClusterVolume?.Spec).toEqual(spec)
        expect(inspected.ClusterVolume?.ID).toMatch(/^[a-z0-9]{25}$/)
        const before = inspected.ClusterVolume?.Version?.Index ?? 0
        const listed = yield* volumes.list({ filters: { label: [`${TEST_LABEL}=${runId()}`] } })
        expect(listed.Volumes?.map((v) => v.Name)).toContain(name)

        yield* volumes.update(name, { Availability: "drain" })
        const drained = yield* volumes.inspect(name)
        expect(drained.ClusterVolume?.Spec).toEqual({ ...spec, Availability: "drain" })
        expect(drained.ClusterVolume?.Version?.Index).toBeGreaterThan(before)
        expect(drained.ClusterVolume?.ID).toBe(inspected.ClusterVolume?.ID)

        const local = yield* volumes.scoped(uniqueName("local"), { labels: testLabels() })
        const refused = yield* Effect.flip(volumes.update(local.Name, { Availability: "pause" }))
        expect(refused._tag).toBe("InvalidArgumentError")

        // Without its plugin the swarm cannot delete it: accepted, and still there.
        yield* volumes.remove(name)
        expect((yield* volumes.inspect(name)).Name).toBe(name)
        yield* volumes.remove(name, { force: true })
        expect((yield* Effect.flip(volumes.inspect(name)))._tag).toBe("NotFound")
      }))
  })
})
