/**
 * Issue #12, volumes on a real engine: every `Volumes` method, its effect read back from the
 * daemon (inspect, list, a container's mounts), every read through the lossless probe. Cluster
 * volumes, with a swarm and without one, are tested in the swarm project
 * (test/integration/swarm/volumes-swarm.test.ts), whose files run one after another: this project
 * runs beside it, so here the engine may be in a swarm or not.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Scope } from "effect"
import { DockerEngine } from "../../src/engine/engine.js"
import { Volumes, type VolumesShape } from "../../src/index.js"
import { currentEngine } from "../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../support/labels.js"
import { losslessEngineLayer } from "../support/lossless.js"
import { scopedContainer, uniqueName } from "../support/resources.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const Services = Layer.provideMerge(Volumes.layer, lossless.layer)

const live = (
  name: string,
  body: (volumes: VolumesShape) => Effect.Effect<void, unknown, Scope.Scope | DockerEngine>
) => it.live(name, () => Effect.flatMap(Volumes, body).pipe(Effect.scoped, Effect.provide(Services)), 60_000)

// One `label` filter: the case id is unique to this run already, and Podman matches several
// `label` filters as ANY of them, not all (podman-limitations: label-filters-any).
const caseFilter = (caseId: string) => ({ label: [`ed.case=${caseId}`] })
const caseLabels = (caseId: string) => ({ ...testLabels(), "ed.case": caseId })

/** Is the engine's API at least 1.42 (cluster volumes, prune's `all`)? */
const apiAtLeast142 = Effect.map(
  Effect.flatMap(DockerEngine, (engine) => engine.apiVersion),
  (version) => Number(version.split(".")[1]) >= 42
)

describe(`volumes on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  live(
    "create with driver options and labels: inspect and list say what was asked",
    (volumes) =>
      Effect.gen(function*() {
        const caseId = uniqueName("create")
        const name = uniqueName("vol")
        // A tmpfs `mode` rather than `size`: Podman refuses size and inodes where its storage has
        // no project quota (500 "Filesystem does not support Project Quota").
        const created = yield* volumes.scoped(name, {
          driver: "local",
          driverOpts: { type: "tmpfs", device: "tmpfs", o: "mode=1777" },
          labels: { ...caseLabels(caseId), "ed.note": "a = b" }
        })
        expect(created.Name).toBe(name)
        const inspected = yield* volumes.inspect(name)
        expect(inspected.Driver).toBe("local")
        expect(inspected.Scope).toBe("local")
        expect(inspected.Options).toEqual({ type: "tmpfs", device: "tmpfs", o: "mode=1777" })
        expect(inspected.Labels).toEqual({ ...caseLabels(caseId), "ed.note": "a = b" })
        expect(inspected.Mountpoint).toContain(name)
        const listed = yield* volumes.list({ filters: caseFilter(caseId) })
        expect(listed.Volumes?.map((v) => v.Name)).toEqual([name])

        const again = yield* volumes.create(name, { labels: caseLabels(caseId) })
        // Creating an existing local volume is not an error: the daemon returns the one it has.
        expect(again.Name).toBe(name)
        expect((yield* volumes.inspect(name)).Options).toEqual({ type: "tmpfs", device: "tmpfs", o: "mode=1777" })
      })
  )

  live("an anonymous volume: the daemon names it", (volumes) =>
    Effect.gen(function*() {
      const created = yield* volumes.scoped(undefined, { labels: testLabels() })
      expect(created.Name).toMatch(/^[0-9a-f]{64}$/)
      expect((yield* volumes.inspect(created.Name)).Labels).toMatchObject(testLabels())
    }))

  live(
    "remove: in use is Conflict even with force; unused is gone; missing is NotFound",
    (volumes) =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const name = uniqueName("inuse")
        yield* volumes.scoped(name, { labels: testLabels() })
        const container = yield* scopedContainer(engine, { HostConfig: { NetworkMode: "none", Binds: [`${name}:/v`] } })
        const refused = yield* volumes.remove(name).pipe(Effect.flip)
        expect(refused._tag).toBe("Conflict")
        // Podman: "volume … is being used by the following container(s): <id>".
        expect(refused.message).toMatch(/volume is in use|volume is being used/)
        expect(refused.message).toContain(container.id)
        expect((yield* volumes.remove(name, { force: true }).pipe(Effect.flip))._tag).toBe("Conflict")

        const unused = yield* volumes.create(uniqueName("unused"), { labels: testLabels() })
        yield* volumes.remove(unused.Name)
        expect((yield* volumes.inspect(unused.Name).pipe(Effect.flip))._tag).toBe("NotFound")
        expect((yield* volumes.remove(unused.Name).pipe(Effect.flip))._tag).toBe("NotFound")
        // force: a missing volume is not an error.
        yield* volumes.remove(unused.Name, { force: true })
      })
  )

  live("scoped: removed when its scope closes", (volumes) =>
    Effect.gen(function*() {
      const name = yield* Effect.scoped(
        Effect.map(volumes.scoped(uniqueName("scoped"), { labels: testLabels() }), (v) => v.Name)
      )
      expect((yield* volumes.inspect(name).pipe(Effect.flip))._tag).toBe("NotFound")
    }))

  live(
    "prune removes exactly the labelled unused volumes (named ones with `all`, as the version allows)",
    (volumes) =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const caseId = uniqueName("prune")
        const a = yield* volumes.scoped(uniqueName("a"), { labels: caseLabels(caseId) })
        const b = yield* volumes.scoped(uniqueName("b"), { labels: caseLabels(caseId) })
        const used = yield* volumes.scoped(uniqueName("used"), { labels: caseLabels(caseId) })
        const kept = yield* volumes.scoped(uniqueName("kept"), { labels: caseLabels(uniqueName("other")) })
        yield* scopedContainer(engine, { HostConfig: { NetworkMode: "none", Binds: [`${used.Name}:/v`] } })

        if (yield* apiAtLeast142) {
          // 1.42+: without `all` only anonymous volumes go, and these are all named.
          const spared = yield* volumes.prune({ filters: caseFilter(caseId) })
          expect(spared.VolumesDeleted ?? []).toEqual([])
        } else {
          // 1.41 cannot spare named volumes: refused before anything is sent.
          expect((yield* volumes.prune({ filters: caseFilter(caseId), all: false }).pipe(Effect.flip))._tag).toBe(
            "ApiVersionError"
          )
        }
        const pruned = yield* volumes.prune({ filters: caseFilter(caseId), all: true })
        expect([...(pruned.VolumesDeleted ?? [])].sort()).toEqual([a.Name, b.Name].sort())
        expect(pruned.SpaceReclaimed).toBeTypeOf("number")
        const left = (yield* volumes.list({ filters: { label: [`${TEST_LABEL}=${runId()}`] } })).Volumes ?? []
        expect(left.map((v) => v.Name)).toEqual(expect.arrayContaining([used.Name, kept.Name]))
        expect(left.map((v) => v.Name)).not.toEqual(expect.arrayContaining([a.Name]))
        expect(left.map((v) => v.Name)).not.toEqual(expect.arrayContaining([b.Name]))
      })
  )
})
