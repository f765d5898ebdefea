/**
 * Issue #12, cluster volumes on an engine outside any swarm: API 1.41 refuses them before
 * anything is sent; a newer daemon needs a manager for a create (`NotInSwarm`), and an update
 * reads the volume first (there is none). In the swarm project because its files run one after
 * another: no other file's swarm is up while this one runs (a crashed run's is left first).
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { Volumes } from "../../../src/index.js"
import { currentEngine } from "../../support/engines.js"
import { testLabels } from "../../support/labels.js"
import { losslessEngineLayer } from "../../support/lossless.js"
import { uniqueName } from "../../support/resources.js"
import { leaveSwarm } from "../../support/swarm.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const Services = Layer.provideMerge(Volumes.layer, lossless.layer)

describe(`cluster volumes outside a swarm on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  it.live(
    "refused before sending on 1.41; NotInSwarm for a create and NotFound for an update on 1.42+",
    () =>
      Effect.gen(function*() {
        const volumes = yield* Volumes
        const engine = yield* DockerEngine
        yield* leaveSwarm(engine)
        const name = uniqueName("cluster")
        const create = yield* volumes.create(name, {
          driver: "ed-no-such-csi",
          clusterVolumeSpec: { Group: "ed", AccessMode: { Scope: "single", Sharing: "none", MountVolume: {} } },
          labels: testLabels()
        }).pipe(Effect.flip)
        const update = yield* volumes.update(name, { Availability: "drain" }).pipe(Effect.flip)
        if (Number((yield* engine.apiVersion).split(".")[1]) >= 42) {
          expect(create._tag).toBe("NotInSwarm")
          // The update reads the volume first: there is none.
          expect(update._tag).toBe("NotFound")
        } else {
          expect(create._tag).toBe("ApiVersionError")
          expect(update._tag).toBe("ApiVersionError")
        }
        expect((yield* volumes.inspect(name).pipe(Effect.flip))._tag).toBe("NotFound")
      }).pipe(Effect.provide(Services)),
    60_000
  )
})
