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

  it.live("update (cluster volumes): 1.42+ sends the version and spec; 1.41 refuses before sending", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withVolumes(
        routes({ "PUT /volumes/c": empty(200) }),
        (volumes) => volumes.update("c", { Spec: { Group: "g" } }, { version: 7 }),
        "1.51"
      )
      expect(daemon.queryOf("PUT /volumes/c")).toEqual({ version: "7" })
      expect(daemon.bodyOf("PUT /volumes/c")).toEqual({ Spec: { Group: "g" } })
      const old = yield* withVolumes(
        routes({}),
        (volumes) => Effect.flip(volumes.update("c", undefined, { version: 1 }))
      )
      expect(old.result._tag).toBe("ApiVersionError")
    }))
})
