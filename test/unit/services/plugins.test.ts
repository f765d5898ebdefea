/**
 * `Plugins`' own decisions, on a scripted daemon: privileges fetched from the registry when not
 * given and sent as the pull/upgrade body (a daemon's `null` read as none), the caller's own
 * privileges sent as they are, credentials as X-Registry-Auth, settings as `KEY=value`, and the
 * pulled plugin read back.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Plugins, registryCredentials } from "../../../src/index.js"
import { dummyPluginConfig } from "../../support/plugin-fixture.js"
import { empty, json, jsonLines, routes, scriptedService } from "../../support/scripted-daemon.js"

const withPlugins = scriptedService(
  Plugins,
  Plugins.layerWith({ credentials: { configDir: "/nonexistent-ed-config", env: {} } })
)
const capability = { Name: "capabilities", Description: "", Value: ["CAP_NET_BIND_SERVICE"] }
const plugin = json({
  Id: "p1",
  Name: "r/p:1",
  Enabled: false,
  Settings: { Mounts: [], Env: [], Args: [], Devices: [] },
  Config: dummyPluginConfig
})
const decodeAuth = (header: string | undefined) =>
  JSON.parse(Buffer.from(header ?? "", "base64").toString("utf8")) as Record<string, unknown>

describe("Plugins.pull / upgrade", () => {
  it.live("privileges come from the registry when not given, and are the body", () =>
    Effect.gen(function*() {
      const auth = registryCredentials({ username: "u", password: "s3cret", serverAddress: "127.0.0.1:5000" })
      const { daemon, result } = yield* withPlugins(
        routes({
          "GET /plugins/privileges": json([capability]),
          "POST /plugins/pull": jsonLines({ status: "Downloading" }, { status: "Download complete" }),
          "GET /plugins/r/p:1/json": plugin
        }),
        (plugins) => plugins.pull("127.0.0.1:5000/r/p:1", { name: "r/p:1", auth })
      )
      expect(result.Id).toBe("p1")
      expect(daemon.calls()).toEqual(["GET /plugins/privileges", "POST /plugins/pull", "GET /plugins/r/p:1/json"])
      expect(daemon.queryOf("POST /plugins/pull")).toEqual({ remote: "127.0.0.1:5000/r/p:1", name: "r/p:1" })
      expect(daemon.bodyOf("POST /plugins/pull")).toEqual([capability])
      const header = daemon.requests()[1]!.headers["x-registry-auth"] as string | undefined
      expect(decodeAuth(header)).toMatchObject({ username: "u", password: "s3cret", serveraddress: "127.0.0.1:5000" })
    }))

  it.live("given privileges are sent as they are; a daemon's null means none", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withPlugins(
        routes({
          "GET /plugins/privileges": json(null),
          "POST /plugins/r/p:1/upgrade": jsonLines({ status: "Upgraded" }),
          "GET /plugins/r/p:1/json": plugin
        }),
        (plugins) =>
          Effect.all([
            plugins.privileges("r/p:2", { auth: "anonymous" }),
            plugins.upgrade("r/p:1", "r/p:2", { privileges: [capability], auth: "anonymous" })
          ])
      )
      expect(result[0]).toEqual([])
      expect(daemon.calls()).toEqual([
        "GET /plugins/privileges",
        "POST /plugins/r/p:1/upgrade",
        "GET /plugins/r/p:1/json"
      ])
      expect(daemon.bodyOf("POST /plugins/r/p:1/upgrade")).toEqual([capability])
      expect(daemon.requests()[1]!.headers["x-registry-auth"]).toBe("e30=")
    }))
})

describe("Plugins.configure / enable", () => {
  it.live("settings become KEY=value; enable sends the default timeout", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withPlugins(
        routes({ "POST /plugins/p/set": empty(), "POST /plugins/p/enable": empty() }),
        (plugins) =>
          Effect.andThen(
            Effect.all([plugins.configure("p", { A: "1", B: "two" }), plugins.configure("p", ["C=3"])]),
            plugins.enable("p")
          )
      )
      expect(daemon.requests().filter((r) => r.path === "/plugins/p/set").map((r) => JSON.parse(r.body.toString())))
        .toEqual([["A=1", "B=two"], ["C=3"]])
      expect(daemon.queryOf("POST /plugins/p/enable")).toEqual({ timeout: "0" })
    }))
})
