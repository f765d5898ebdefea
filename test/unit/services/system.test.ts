/**
 * `System`'s own decisions, on a scripted daemon: what `ping` reads from the headers, how `events`
 * writes its time bounds and filters, and that the generated pass-throughs reach their paths.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { System } from "../../../src/index.js"
import { bytes, json, jsonLines, routes, scriptedService } from "../../support/scripted-daemon.js"

const withSystem = scriptedService(System, System.layer)

const event = (action: string, time: number) => ({
  Type: "container",
  Action: action,
  Actor: { ID: "abc", Attributes: { name: "web" } },
  scope: "local",
  time,
  timeNano: time * 1e9
})

describe("System: ping", () => {
  it.live("reads Api-Version, OSType, Docker-Experimental, Builder-Version and Swarm", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withSystem(
        routes({
          "GET /_ping": bytes("OK", {
            "Content-Type": "text/plain; charset=utf-8",
            "Api-Version": "1.47",
            OSType: "linux",
            "Docker-Experimental": "true",
            "Builder-Version": "2",
            Swarm: "active/manager",
            Server: "Docker/27.3.1 (linux)",
            "Cache-Control": "no-cache, no-store, must-revalidate"
          })
        }),
        (system) => system.ping()
      )
      expect(result).toEqual({
        status: "OK",
        apiVersion: "1.47",
        osType: "linux",
        experimental: true,
        builderVersion: "2",
        swarm: "active/manager",
        engine: { kind: "docker", version: "27.3.1" }
      })
      expect(daemon.calls()).toEqual(["GET /_ping"])
    }))

  it.live("without those headers: undefined, and not experimental", () =>
    Effect.gen(function*() {
      const { result } = yield* withSystem(
        routes({ "GET /_ping": bytes("OK", { "Content-Type": "text/plain", "Docker-Experimental": "false" }) }),
        (system) => system.ping()
      )
      expect(result).toEqual({
        status: "OK",
        apiVersion: undefined,
        osType: undefined,
        experimental: false,
        builderVersion: undefined,
        swarm: undefined,
        engine: { kind: "unknown", version: undefined }
      })
    }))
})

describe("System: ping on Podman", () => {
  it.live("Podman's headers (as 4.3.1 sends them): kind podman, no OSType, no Swarm", () =>
    Effect.gen(function*() {
      const { result } = yield* withSystem(
        routes({
          "GET /_ping": bytes("OK", {
            "Content-Type": "text/plain; charset=utf-8",
            "Api-Version": "1.41",
            "Libpod-Api-Version": "4.3.1",
            "Libpod-Buildah-Version": "1.28.2",
            Server: "Libpod/4.3.1 (linux)",
            "Docker-Experimental": "true",
            "Builder-Version": ""
          })
        }),
        (system) => system.ping()
      )
      expect(result).toEqual({
        status: "OK",
        apiVersion: "1.41",
        osType: undefined,
        experimental: true,
        builderVersion: "",
        swarm: undefined,
        engine: { kind: "podman", version: "4.3.1" }
      })
    }))
})

describe("System: events", () => {
  const events = routes({ "GET /events": jsonLines(event("start", 1700000000), event("die", 1700000050)) })

  it.live("since/until as Date: Unix seconds with fractions; filters JSON-encoded; the messages decoded", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withSystem(
        events,
        (system) =>
          Stream.runCollect(system.events({
            since: new Date("2023-11-14T22:13:20.125Z"),
            until: new Date("2023-11-14T22:15:00.5Z"),
            filters: { type: ["container"], event: ["start", "die"] }
          }))
      )
      expect(result.map((message) => [message.Type, message.Action, message.Actor?.ID, message.time])).toEqual([
        ["container", "start", "abc", 1700000000],
        ["container", "die", "abc", 1700000050]
      ])
      const query = daemon.only("GET /events").query
      expect(query.get("since")).toBe("1700000000.125")
      expect(query.get("until")).toBe("1700000100.5")
      expect(JSON.parse(query.get("filters") ?? "null")).toEqual({ type: ["container"], event: ["start", "die"] })
    }))

  it.live("numbers as they are, the daemon's own forms as strings; nothing when omitted", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withSystem(
        events,
        (system) =>
          Effect.all([
            Stream.runDrain(system.events({ since: 1700000000, until: "10m" })),
            Stream.runDrain(system.events())
          ])
      )
      expect(daemon.requests().map((request) => Object.fromEntries(request.query))).toEqual([
        { since: "1700000000", until: "10m" },
        {}
      ])
    }))
})

describe("System: pass-throughs", () => {
  it.live("version, info and dataUsage reach their paths and decode", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withSystem(
        routes({
          "GET /version": json({
            Version: "27.3.1",
            ApiVersion: "1.47",
            MinAPIVersion: "1.24",
            GitCommit: "41ca978",
            GoVersion: "go1.22.7",
            Os: "linux",
            Arch: "amd64"
          }),
          "GET /info": json({
            ID: "node-1",
            Containers: 3,
            ContainersRunning: 1,
            ContainersPaused: 0,
            ContainersStopped: 2,
            Images: 5,
            Driver: "overlay2",
            DockerRootDir: "/var/lib/docker",
            KernelVersion: "6.8.0",
            OperatingSystem: "Ubuntu 24.04",
            OSType: "linux",
            Architecture: "x86_64",
            NCPU: 4,
            MemTotal: 8_000_000_000,
            Name: "host",
            ServerVersion: "27.3.1"
          }),
          "GET /system/df": json({ LayersSize: 1234, Images: [], Containers: [], Volumes: [], BuildCache: [] })
        }),
        (system) => Effect.all([system.version(), system.info(), system.dataUsage({ type: ["image", "volume"] })]),
        "1.42"
      )
      const [version, info, usage] = result
      expect([version.Version, version.ApiVersion, version.Os]).toEqual(["27.3.1", "1.47", "linux"])
      expect([info.ID, info.NCPU, info.ServerVersion]).toEqual(["node-1", 4, "27.3.1"])
      expect(usage.LayersSize).toBe(1234)
      expect(daemon.calls()).toEqual(["GET /version", "GET /info", "GET /system/df"])
      expect(daemon.requests().map((request) => request.version)).toEqual(["1.42", "1.42", "1.42"])
      expect(daemon.only("GET /system/df").query.getAll("type")).toEqual(["image", "volume"])
    }))
})
