import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ContainerInspect } from "../../src/generated/operations/container/ContainerInspect.js"
import {
  compareApiVersions,
  Docker,
  DockerEngine,
  MAX_API_VERSION,
  sameImageReference,
  System
} from "../../src/index.js"
import { countingProxy } from "../support/counting-proxy.js"
import { currentEngine } from "../support/engines.js"
import { podmanOr } from "../support/podman-limitations.js"
import { scopedVolume, uniqueName } from "../support/resources.js"

const target = currentEngine()

// What each engine generation must report: docker-20.10 is Debian 12's Docker 20.10 (API 1.41);
// docker-latest is the newest Docker Debian ships, whose exact version the start script recorded.
const expectedApi = target.id === "docker-20.10" ? "1.41" : target.api

describe(`system on engine ${target.id} (${target.host})`, () => {
  layer(Docker.layer({ host: target.host }))("negotiated", (it) => {
    it.effect("ping reports the daemon's API version and OS from its headers", () =>
      Effect.gen(function*() {
        const ping = yield* (yield* System).ping()
        expect(ping.status).toBe("OK")
        expect(ping.apiVersion).toBe(expectedApi)
        // Podman sends neither `Ostype` nor `Swarm`, and says what it is in `Libpod-Api-Version`.
        expect(ping.engine.kind).toBe(target.kind)
        if (target.version !== undefined) expect(ping.engine.version).toBe(target.version)
        expect(ping.osType).toBe(target.kind === "podman" ? undefined : "linux")
        // `Swarm` is sent from API 1.42 on (the 20.10 daemon never sends it); its value depends on
        // whether the swarm test file (running in parallel) has the engine in a swarm right now.
        if (target.id === "docker-20.10" || target.kind === "podman") expect(ping.swarm).toBeUndefined()
        else expect(ping.swarm).toMatch(/^(inactive|pending|error|locked|active\/(worker|manager))$/)
      }))

    it.effect("version decodes the engine's real values", () =>
      Effect.gen(function*() {
        const version = yield* (yield* System).version()
        expect(version.ApiVersion).toBe(expectedApi)
        if (target.version !== undefined) expect(version.Version).toBe(target.version)
        expect(version.Version.startsWith(target.id === "docker-20.10" ? "20.10." : "")).toBe(true)
        expect(version.Os).toBe("linux")
        expect(version.Arch).toBe("amd64")
        // Podman's engine component is "Podman Engine" (with Conmon and the OCI runtime beside it).
        expect(version.Components?.map((c) => c.Name)).toContain(target.kind === "podman" ? "Podman Engine" : "Engine")
      }))

    it.effect("info decodes the engine's real values", () =>
      Effect.gen(function*() {
        const [info, version] = yield* Effect.all([(yield* System).info(), (yield* System).version()])
        expect(info.ServerVersion).toBe(version.Version)
        expect(info.OSType).toBe("linux")
        expect(info.OperatingSystem).toMatch(/\S/)
        expect(info.Containers).toBe(info.ContainersRunning + info.ContainersPaused + info.ContainersStopped)
        expect(info.Images).toBeGreaterThanOrEqual(1) // busybox:local at least
      }))

    it.effect("dataUsage (df) decodes the engine's disk usage", () =>
      podmanOr(
        "df-image-tags",
        Effect.gen(function*() {
          const df = yield* (yield* System).dataUsage()
          // Both generations still send the pre-1.52 shape at their own API version.
          expect(typeof df.LayersSize).toBe("number")
          expect(df.Images?.some((image) => image.RepoTags?.some((tag) => sameImageReference(tag, "busybox:local"))))
            .toBe(true)
        })
      ))

    it.effect("the negotiated version is min(client's newest, daemon's)", () =>
      Effect.gen(function*() {
        const negotiated = yield* (yield* DockerEngine).apiVersion
        const daemon = (yield* (yield* System).ping()).apiVersion!
        expect(negotiated).toBe(compareApiVersions(daemon, MAX_API_VERSION) < 0 ? daemon : MAX_API_VERSION)
        expect(negotiated).toBe(expectedApi)
      }))
  })

  it.live("concurrent first calls share one negotiation, and every request carries the version", () =>
    Effect.gen(function*() {
      const proxy = yield* countingProxy(target.host)
      const results = yield* Effect.gen(function*() {
        const system = yield* System
        return yield* Effect.all(Array.from({ length: 8 }, () => system.version()), { concurrency: "unbounded" })
      }).pipe(Effect.provide(Docker.layer({ host: proxy.host })))
      expect(results.map((v) => v.ApiVersion)).toEqual(Array(8).fill(expectedApi))
      const requests = proxy.requests()
      expect(requests.filter((r) => r === "HEAD /_ping")).toHaveLength(1)
      expect(requests.filter((r) => r.endsWith("/version"))).toEqual(Array(8).fill(`GET /v${expectedApi}/version`))
    }))

  it.live("ping is sent unversioned and does not negotiate; the next versioned call does", () =>
    Effect.gen(function*() {
      const proxy = yield* countingProxy(target.host)
      const { ping, version } = yield* Effect.gen(function*() {
        const system = yield* System
        const ping = yield* system.ping()
        const afterPing = proxy.requests()
        const version = yield* system.version()
        return { ping: { ...ping, afterPing }, version }
      }).pipe(Effect.provide(Docker.layer({ host: proxy.host })))
      // As the Docker CLI pings: no version prefix, so no negotiation before it.
      expect(ping.afterPing).toEqual(["GET /_ping"])
      expect(ping.status).toBe("OK")
      expect(ping.apiVersion).toBe(target.api)
      expect(version.ApiVersion).toBe(expectedApi)
      expect(proxy.requests().slice(1)).toEqual(["HEAD /_ping", `GET /v${expectedApi}/version`])
    }))

  it.live("events: a Date-bounded window ends by itself and holds what happened in it", () =>
    podmanOr(
      "events-past-until",
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const system = yield* System
        const since = new Date(Date.now() - 1000)
        const name = uniqueName("sys-events")
        yield* scopedVolume(engine, {}, name)
        const events = yield* system.events({
          since,
          until: new Date(Date.now() + 500),
          filters: { type: ["volume"], volume: [name] }
        }).pipe(Stream.runCollect, Effect.timeout("20 seconds"))
        expect(events.map((e) => [e.Type, e.Action, e.Actor?.ID])).toEqual([["volume", "create", name]])
      })
    ).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))

  it.live("a pinned version skips negotiation and is the URL prefix", () =>
    Effect.gen(function*() {
      const proxy = yield* countingProxy(target.host)
      const version = yield* Effect.flatMap(System, (s) => s.version()).pipe(
        Effect.provide(Docker.layer({ host: proxy.host, apiVersion: "1.41" }))
      )
      expect(version.ApiVersion).toBe(expectedApi)
      expect(proxy.requests()).toEqual(["GET /v1.41/version"])
    }))

  it.live("a pinned version newer than the daemon's is refused with ApiVersionError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.flatMap(System, (s) => s.info()).pipe(
          Effect.provide(Docker.layer({ host: target.host, apiVersion: MAX_API_VERSION }))
        )
      )
      expect(error._tag).toBe("ApiVersionError")
      if (error._tag !== "ApiVersionError") return
      expect(error.operation).toBe("SystemInfo")
      expect(error.apiVersion).toBe(MAX_API_VERSION)
      expect(error.required).toBe(expectedApi)
      expect(error.message).toContain("too new")
    }))

  it.live("a daemon error becomes a typed error with status, message and operation", () =>
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      const error = yield* Effect.flip(engine.json(ContainerInspect, { id: "effect-docker-no-such-container" }))
      expect(error._tag).toBe("NotFound")
      if (error._tag !== "NotFound") return
      expect(error.status).toBe(404)
      expect(error.operation).toBe("ContainerInspect")
      // The daemon's own words: Docker's, or Podman's (with its `cause`).
      const words = target.kind === "podman"
        ? "no container with name or ID \"effect-docker-no-such-container\" found: no such container"
        : "No such container: effect-docker-no-such-container"
      expect(error.daemonMessage).toBe(words)
      expect(error.daemonCause).toBe(target.kind === "podman" ? "no such container" : undefined)
      expect(error.message).toBe(`ContainerInspect: ${words} (HTTP 404)`)
      const recovered = yield* engine.json(ContainerInspect, { id: "effect-docker-no-such-container" }).pipe(
        Effect.catchTag("NotFound", (e) => Effect.succeed(`recovered ${e.status}`))
      )
      expect(recovered).toBe("recovered 404")
    }).pipe(Effect.provide(DockerEngine.layer({ host: target.host }))))

  it.live("a missing socket is a ConnectionError naming the path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.flatMap(System, (s) => s.version()).pipe(
          Effect.provide(Docker.layer({ host: "unix:///tmp/effect-docker-no-such-dir/docker.sock" }))
        )
      )
      expect(error._tag).toBe("ConnectionError")
      if (error._tag !== "ConnectionError") return
      expect(error.code).toBe("ENOENT")
      expect(error.endpoint).toBe("unix:///tmp/effect-docker-no-such-dir/docker.sock")
      expect(error.message).toContain("/tmp/effect-docker-no-such-dir/docker.sock")
    }))
})
