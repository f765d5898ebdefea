/**
 * The swarm services' own decisions, as pure functions and on a scripted daemon (for what a real
 * daemon cannot be made to do on demand: an update that loses the race with another one).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { mergeSpec, registryCredentials, Services, type ServiceSpec, serviceSpec, Swarm } from "../../../src/index.js"
import { encodeData } from "../../../src/services/swarm-data.js"
import { isOutOfSequence } from "../../../src/services/versioned-update.js"
import { empty, json, refuse, routes, scriptedService } from "../../support/scripted-daemon.js"

describe("mergeSpec", () => {
  const current: ServiceSpec = {
    Name: "web",
    Labels: { a: "1", b: "2" },
    TaskTemplate: {
      ContainerSpec: { Image: "img", Env: ["A=1", "B=2"], Labels: { c: "3" } },
      Placement: { Constraints: ["node.role==worker"] }
    },
    Mode: { Replicated: { Replicas: 2 } }
  }

  it("merges objects key by key, keeps what the patch leaves out", () => {
    expect(mergeSpec(current, { TaskTemplate: { ContainerSpec: { Args: ["x"] } } })).toEqual({
      ...current,
      TaskTemplate: { ...current.TaskTemplate, ContainerSpec: { ...current.TaskTemplate!.ContainerSpec, Args: ["x"] } }
    })
    expect(mergeSpec(current, undefined)).toBe(current)
    expect(mergeSpec(current, { Name: undefined })).toEqual(current)
  })

  it("replaces arrays, label maps and the mode; an empty map removes every label; null clears", () => {
    const merged = mergeSpec(current, {
      Labels: {},
      TaskTemplate: { ContainerSpec: { Env: ["C=3"], Labels: { d: "4" } } },
      Mode: { Global: {} }
    })
    expect(merged.Labels).toEqual({})
    expect(merged.TaskTemplate?.ContainerSpec).toEqual({ Image: "img", Env: ["C=3"], Labels: { d: "4" } })
    expect(merged.TaskTemplate?.Placement).toEqual(current.TaskTemplate!.Placement)
    expect(merged.Mode).toEqual({ Global: {} })
    expect(mergeSpec(current, { TaskTemplate: { Placement: null } }).TaskTemplate?.Placement).toBeNull()
    // Neither input is changed.
    expect(current.Labels).toEqual({ a: "1", b: "2" })
  })
})

describe("serviceSpec", () => {
  it("writes the common options as the daemon's fields", () => {
    expect(
      serviceSpec({
        name: "web",
        image: "busybox:local",
        command: ["sh", "-c"],
        args: ["echo hi"],
        env: { A: "1" },
        labels: { l: "1" },
        containerLabels: { c: "1" },
        replicas: 3,
        constraints: ["node.labels.zone==a"],
        placement: { MaxReplicas: 2 },
        secrets: [{ id: "sid", name: "db-password" }],
        configs: [{ id: "cid", name: "app.conf", target: "/etc/app.conf", mode: 0o400 }],
        networks: ["backend", { Target: "front", Aliases: ["web"] }],
        stopGracePeriod: "2 seconds",
        tty: true
      })
    ).toEqual({
      Name: "web",
      Labels: { l: "1" },
      TaskTemplate: {
        ContainerSpec: {
          Image: "busybox:local",
          Command: ["sh", "-c"],
          Args: ["echo hi"],
          Env: ["A=1"],
          Labels: { c: "1" },
          TTY: true,
          Secrets: [{
            File: { Name: "db-password", UID: "0", GID: "0", Mode: 0o444 },
            SecretID: "sid",
            SecretName: "db-password"
          }],
          Configs: [{
            File: { Name: "/etc/app.conf", UID: "0", GID: "0", Mode: 0o400 },
            ConfigID: "cid",
            ConfigName: "app.conf"
          }],
          StopGracePeriod: 2_000_000_000
        },
        Placement: { MaxReplicas: 2, Constraints: ["node.labels.zone==a"] },
        Networks: [{ Target: "backend" }, { Target: "front", Aliases: ["web"] }]
      },
      Mode: { Replicated: { Replicas: 3 } }
    })
    expect(serviceSpec({ image: "i", global: true, env: ["X=1"] })).toEqual({
      TaskTemplate: { ContainerSpec: { Image: "i", Env: ["X=1"] } },
      Mode: { Global: {} }
    })
  })
})

describe("secret and config data", () => {
  it("is base64 of the UTF-8 text or of exactly the bytes given (a view's own range)", () => {
    expect(encodeData("s3cret ü")).toBe(Buffer.from("s3cret ü", "utf8").toString("base64"))
    const bytes = new Uint8Array([9, 0, 255, 7])
    expect(encodeData(bytes.subarray(1, 3))).toBe(Buffer.from([0, 255]).toString("base64"))
  })
})

describe("update out of sequence", () => {
  const withServices = scriptedService(Services, Services.layer)
  const service = (index: number) =>
    json({ ID: "svc", Version: { Index: index }, Spec: { Name: "web", Labels: { a: "1" }, TaskTemplate: {} } })

  it("is what the daemon says when the version is stale", () => {
    expect(isOutOfSequence({ daemonMessage: "rpc error: code = Unknown desc = update out of sequence" })).toBe(true)
    expect(isOutOfSequence({ daemonMessage: "no such service" })).toBe(false)
    expect(isOutOfSequence(undefined)).toBe(false)
  })

  it.live("an update that lost the race is made once more from a fresh read, then the daemon's answer stands", () =>
    Effect.gen(function*() {
      let inspects = 0
      let updates = 0
      const { daemon, result } = yield* withServices(
        routes({
          "GET /services/svc": () => service(++inspects === 1 ? 10 : 11),
          "POST /services/svc/update": () =>
            ++updates === 1 ? refuse(500, "update out of sequence") : json({ Warnings: [] })
        }),
        (services) => services.update("svc", { Labels: { b: "2" } })
      )
      expect(result).toEqual({ Warnings: [] })
      const sent = daemon.requests().filter((r) => r.method === "POST")
      expect(sent.map((r) => r.query.get("version"))).toEqual(["10", "11"])
      expect(JSON.parse(sent[1]!.body.toString("utf8"))).toEqual({ Name: "web", Labels: { b: "2" }, TaskTemplate: {} })
      // No credentials were asked for: none sent, the daemon keeps the service's own.
      expect(sent.every((r) => r.headers["x-registry-auth"] === undefined)).toBe(true)

      // Twice out of sequence: the second refusal is the caller's.
      updates = 0
      inspects = 0
      const twice = yield* withServices(
        routes({
          "GET /services/svc": () => service(++inspects),
          "POST /services/svc/update": refuse(500, "update out of sequence")
        }),
        (services) => Effect.flip(services.update("svc", { Labels: {} }))
      )
      expect(twice.result).toMatchObject({ _tag: "ServerError", daemonMessage: "update out of sequence" })
      expect(twice.daemon.calls().filter((c) => c.startsWith("POST"))).toHaveLength(2)
    }))

  it.live("create sends the credentials given as X-Registry-Auth; scale of a global service sends nothing", () =>
    Effect.gen(function*() {
      const auth = registryCredentials({ username: "u", password: "p4ss", serverAddress: "127.0.0.1:5000" })
      const { daemon, result } = yield* withServices(
        routes({
          "POST /services/create": json({ ID: "svc" }, 201),
          "GET /services/g": json({ ID: "g", Version: { Index: 3 }, Spec: { Mode: { Global: {} } } })
        }),
        (services) =>
          Effect.all([
            services.create({ TaskTemplate: { ContainerSpec: { Image: "127.0.0.1:5000/app:1" } } }, { auth }),
            Effect.flip(services.scale("g", 2))
          ])
      )
      expect(result[0].Id).toBe("svc")
      const header = daemon.only("POST /services/create").headers["x-registry-auth"]!
      expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toMatchObject({
        username: "u",
        password: "p4ss",
        serveraddress: "127.0.0.1:5000"
      })
      expect(result[1]).toMatchObject({ _tag: "ServiceModeError", mode: "global", serviceId: "g" })
      expect(daemon.calls()).toEqual(["POST /services/create", "GET /services/g"])
    }))

  it.live("create of an image named by its ID sends no registry's credentials (nothing is pulled)", () =>
    Effect.gen(function*() {
      const image = `sha256:${"ab".repeat(32)}`
      const { daemon } = yield* withServices(
        routes({ "POST /services/create": json({ ID: "svc" }, 201) }),
        (services) => services.create({ TaskTemplate: { ContainerSpec: { Image: image } } }, {})
      )
      const header = daemon.only("POST /services/create").headers["x-registry-auth"]!
      expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toEqual({})
    }))
})

describe("Swarm secrets", () => {
  const withSwarm = scriptedService(Swarm, Swarm.layer)

  it.live("join and unlock send the Redacted token and key; unlockKey returns it Redacted, undefined when off", () =>
    Effect.gen(function*() {
      let key = "SWMKEY-1-abc"
      const { daemon, result } = yield* withSwarm(
        routes({
          "POST /swarm/join": empty(200),
          "POST /swarm/unlock": empty(200),
          "GET /swarm/unlockkey": () => json({ UnlockKey: key })
        }),
        (swarm) =>
          Effect.gen(function*() {
            yield* swarm.join({ remoteAddrs: ["127.0.0.1:2377"], joinToken: Redacted.make("SWMTKN-1-xyz") })
            yield* swarm.unlock(Redacted.make("SWMKEY-1-abc"))
            const on = yield* swarm.unlockKey()
            key = ""
            return [on, yield* swarm.unlockKey()] as const
          })
      )
      expect(daemon.bodyOf("POST /swarm/join")).toEqual({
        ListenAddr: "0.0.0.0:2377",
        RemoteAddrs: ["127.0.0.1:2377"],
        JoinToken: "SWMTKN-1-xyz"
      })
      expect(daemon.bodyOf("POST /swarm/unlock")).toEqual({ UnlockKey: "SWMKEY-1-abc" })
      expect(String(result[0])).not.toContain("SWMKEY")
      expect(Redacted.value(result[0]!)).toBe("SWMKEY-1-abc")
      expect(result[1]).toBeUndefined()
    }))
})
