/**
 * `Volumes`' own decisions, on a scripted daemon: option names become the body's fields, an
 * anonymous volume sends no name, `prune({ all })` as each API version allows it, and a scoped
 * volume is force-removed with its scope.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Volumes } from "../../../src/index.js"
import { empty, json, refuse, routes, scriptedService } from "../../support/scripted-daemon.js"

const withVolumes = scriptedService(Volumes, Volumes.layer)

const volume = (name: string) => json({ Name: name, Driver: "local", Mountpoint: `/v/${name}` }, 201)
const pruned = json({ VolumesDeleted: [], SpaceReclaimed: 0 })

describe("Volumes.create", () => {
  it.live("translates the options; no name means an anonymous volume", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withVolumes(
        routes({
          "POST /volumes/create": (request) => volume(JSON.parse(request.body.toString("utf8")).Name ?? "anon")
        }),
        (volumes) =>
          Effect.all([
            volumes.create("data", {
              driver: "local",
              driverOpts: { type: "tmpfs", device: "tmpfs" },
              labels: { l: "1" }
            }),
            volumes.create()
          ])
      )
      expect(result.map((v) => v.Name)).toEqual(["data", "anon"])
      expect(daemon.requests().map((r) => JSON.parse(r.body.toString("utf8")))).toEqual([
        { Name: "data", Driver: "local", DriverOpts: { type: "tmpfs", device: "tmpfs" }, Labels: { l: "1" } },
        {}
      ])
    }))

  it.live("a cluster volume spec on 1.41 is refused before anything is sent", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withVolumes(
        routes({}),
        (volumes) => Effect.flip(volumes.create("c", { clusterVolumeSpec: { Group: "g" } }))
      )
      expect(result._tag).toBe("ApiVersionError")
      expect(daemon.calls()).toEqual([])
    }))
})

describe("Volumes.prune", () => {
  const pruneFilters = (all: boolean | undefined, apiVersion: string) =>
    Effect.map(
      withVolumes(
        routes({ "POST /volumes/prune": pruned }),
        (volumes) => volumes.prune({ filters: { label: ["a=b"] }, all }),
        apiVersion
      ),
      ({ daemon }) => JSON.parse(daemon.queryOf("POST /volumes/prune").filters!)
    )

  it.live("1.42+: all becomes the `all` filter", () =>
    Effect.gen(function*() {
      expect(yield* pruneFilters(true, "1.51")).toEqual({ label: ["a=b"], all: ["true"] })
      expect(yield* pruneFilters(false, "1.51")).toEqual({ label: ["a=b"], all: ["false"] })
      expect(yield* pruneFilters(undefined, "1.51")).toEqual({ label: ["a=b"] })
    }))

  it.live("1.41: all: true sends nothing (that version prunes named volumes anyway)", () =>
    Effect.gen(function*() {
      expect(yield* pruneFilters(true, "1.41")).toEqual({ label: ["a=b"] })
    }))

  it.live("1.41: all: false is an ApiVersionError, nothing sent", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withVolumes(routes({}), (volumes) => Effect.flip(volumes.prune({ all: false })))
      expect(result._tag).toBe("ApiVersionError")
      expect(result).toMatchObject({ required: "1.42" })
      expect(daemon.calls()).toEqual([])
    }))
})

describe("Volumes.remove / scoped / update", () => {
  it.live("in use is Conflict, with the daemon's words", () =>
    Effect.gen(function*() {
      const { result } = yield* withVolumes(
        routes({ "DELETE /volumes/data": refuse(409, "remove data: volume is in use - [abc]") }),
        (volumes) => Effect.flip(volumes.remove("data", { force: true }))
      )
      expect(result._tag).toBe("Conflict")
      expect(result.message).toContain("volume is in use")
    }))

  it.live("scoped: force-removed when the scope closes", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withVolumes(
        routes({ "POST /volumes/create": volume("data"), "DELETE /volumes/data": empty(204) }),
        (volumes) => Effect.scoped(Effect.asVoid(volumes.scoped("data")))
      )
      expect(daemon.calls()).toEqual(["POST /volumes/create", "DELETE /volumes/data"])
      expect(daemon.queryOf("DELETE /volumes/data")).toEqual({ force: "1" })
    }))

  const clusterVolume = (index: number) =>
    json({
      Name: "c",
      Driver: "csi",
      Mountpoint: "",
      Scope: "global",
      ClusterVolume: { ID: "cv1", Version: { Index: index }, Spec: { Group: "g", Availability: "active" } }
    })

  it.live("update (cluster volumes): reads the volume, sends its cluster ID, current version and the patched spec", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withVolumes(
        routes({ "GET /volumes/c": clusterVolume(7), "PUT /volumes/cv1": empty(200) }),
        (volumes) => volumes.update("c", { Availability: "drain" }),
        "1.51"
      )
      expect(daemon.calls()).toEqual(["GET /volumes/c", "PUT /volumes/cv1"])
      expect(daemon.queryOf("PUT /volumes/cv1")).toEqual({ version: "7" })
      expect(daemon.bodyOf("PUT /volumes/cv1")).toEqual({ Spec: { Group: "g", Availability: "drain" } })
    }))

  it.live("update: an update that lost a race is read and sent once more; a second loss is the caller's", () =>
    Effect.gen(function*() {
      let reads = 0
      let writes = 0
      const outOfSequence = refuse(500, "rpc error: code = Unknown desc = update out of sequence")
      const { daemon } = yield* withVolumes(
        routes({
          "GET /volumes/c": () => clusterVolume(7 + reads++),
          "PUT /volumes/cv1": () => (writes++ === 0 ? outOfSequence : empty(200))
        }),
        (volumes) => volumes.update("c", { Availability: "pause" }),
        "1.51"
      )
      expect(daemon.calls()).toEqual(["GET /volumes/c", "PUT /volumes/cv1", "GET /volumes/c", "PUT /volumes/cv1"])
      expect(daemon.requests().filter((r) => r.method === "PUT").map((r) => r.query.get("version"))).toEqual(["7", "8"])
      const racing = yield* withVolumes(
        routes({ "GET /volumes/c": clusterVolume(7), "PUT /volumes/cv1": outOfSequence }),
        (volumes) => Effect.flip(volumes.update("c", { Availability: "pause" })),
        "1.51"
      )
      expect(racing.daemon.calls()).toHaveLength(4)
      expect(racing.result._tag).toBe("ServerError")
    }))

  it.live("update: a local volume is refused after the read; 1.41 refuses before anything is sent", () =>
    Effect.gen(function*() {
      const local = yield* withVolumes(
        routes({ "GET /volumes/c": json({ Name: "c", Driver: "local", Mountpoint: "/v/c", Scope: "local" }) }),
        (volumes) => Effect.flip(volumes.update("c", { Availability: "drain" })),
        "1.51"
      )
      expect(local.daemon.calls()).toEqual(["GET /volumes/c"])
      expect(local.result._tag).toBe("InvalidArgumentError")
      expect(local.result.message).toMatch(/local volume/)
      const old = yield* withVolumes(
        routes({}),
        (volumes) => Effect.flip(volumes.update("c", { Availability: "drain" }))
      )
      expect(old.daemon.calls()).toEqual([])
      expect(old.result._tag).toBe("ApiVersionError")
    }))
})
