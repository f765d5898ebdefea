/**
 * `Networks`' own decisions, on a scripted daemon: option names become the body's fields,
 * `CheckDuplicate` is sent where the version has it, `names` match whole names, a forced removal
 * disconnects every endpoint (stale ones by name) first, and a container's endpoint is found by
 * the network's name or ID.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ipamConfig, ipamPool, Networks } from "../../../src/index.js"
import { containerInspectAnswer, empty, json, refuse, routes, scriptedService } from "../../support/scripted-daemon.js"

const withNetworks = scriptedService(Networks, Networks.layer)

const created = json({ Id: "n1", Warning: "" }, 201)

/** `GET /networks/{id}` as a daemon answers it, with `Containers`. */
const inspectAnswer = (containers: Record<string, unknown>) =>
  json({ Name: "net", Id: "n1full", Scope: "local", Driver: "bridge", Containers: containers })

describe("Networks.create", () => {
  it.live("translates every option into the body, and asks for the duplicate check on 1.41", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withNetworks(
        routes({ "POST /networks/create": created }),
        (networks) =>
          networks.create("net", {
            driver: "bridge",
            options: { "com.docker.network.bridge.name": "ed0" },
            ipam: ipamConfig({
              pools: [
                ipamPool({
                  subnet: "10.9.0.0/24",
                  ipRange: "10.9.0.128/25",
                  gateway: "10.9.0.1",
                  auxAddresses: { a: "10.9.0.2" }
                })
              ],
              options: { o: "1" }
            }),
            internal: true,
            labels: { l: "1" },
            enableIPv6: false,
            attachable: true,
            scope: "local",
            ingress: false,
            configOnly: false,
            configFrom: "base"
          })
      )
      expect(result.Id).toBe("n1")
      expect(daemon.bodyOf("POST /networks/create")).toEqual({
        Name: "net",
        CheckDuplicate: true,
        Driver: "bridge",
        Options: { "com.docker.network.bridge.name": "ed0" },
        IPAM: {
          Driver: "default",
          Config: [{
            Subnet: "10.9.0.0/24",
            IPRange: "10.9.0.128/25",
            Gateway: "10.9.0.1",
            AuxiliaryAddresses: { a: "10.9.0.2" }
          }],
          Options: { o: "1" }
        },
        Internal: true,
        Labels: { l: "1" },
        EnableIPv6: false,
        Attachable: true,
        Scope: "local",
        Ingress: false,
        ConfigOnly: false,
        ConfigFrom: { Network: "base" }
      })
    }))

  it.live("sends no CheckDuplicate where the version always checks (1.44+)", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withNetworks(
        routes({ "POST /networks/create": created }),
        (networks) => networks.create("net"),
        "1.51"
      )
      expect(daemon.bodyOf("POST /networks/create")).toEqual({ Name: "net" })
    }))

  it.live("a name in use is Conflict, with the daemon's words", () =>
    Effect.gen(function*() {
      const { result } = yield* withNetworks(
        routes({ "POST /networks/create": refuse(409, "network with name net already exists") }),
        (networks) => Effect.flip(networks.create("net"))
      )
      expect(result._tag).toBe("Conflict")
      expect(result.message).toContain("network with name net already exists")
    }))
})

describe("Networks.list", () => {
  it.live("names match whole names; ids and names join the caller's filters", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withNetworks(
        routes({
          "GET /networks": json([{ Name: "web", Id: "1" }, { Name: "web-2", Id: "2" }])
        }),
        (networks) => networks.list({ names: ["web"], ids: ["1"], filters: { label: ["a=b"], name: { old: true } } })
      )
      expect(result.map((n) => n.Name)).toEqual(["web"])
      expect(JSON.parse(daemon.queryOf("GET /networks").filters!)).toEqual({
        label: ["a=b"],
        name: { old: true, web: true },
        id: ["1"]
      })
    }))

  it.live("without options: no filters sent, nothing narrowed", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withNetworks(
        routes({ "GET /networks": json([{ Name: "a" }, { Name: "b" }]) }),
        (networks) => networks.list()
      )
      expect(result).toHaveLength(2)
      expect(daemon.queryOf("GET /networks")).toEqual({})
    }))
})

describe("Networks.connect / disconnect", () => {
  it.live("connect options become the EndpointConfig, addresses under IPAMConfig", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withNetworks(
        routes({ "POST /networks/net/connect": empty(200) }),
        (networks) =>
          Effect.andThen(
            networks.connect("net", "c1", {
              aliases: ["db"],
              ipv4Address: "10.9.0.5",
              ipv6Address: "fd00::5",
              linkLocalIps: ["169.254.0.5"],
              links: ["other:o"],
              driverOpts: { k: "v" },
              macAddress: "02:42:0a:09:00:05"
            }),
            networks.connect("net", "c2")
          )
      )
      const [first, second] = daemon.requests().map((r) => JSON.parse(r.body.toString("utf8")))
      expect(first).toEqual({
        Container: "c1",
        EndpointConfig: {
          Aliases: ["db"],
          Links: ["other:o"],
          DriverOpts: { k: "v" },
          MacAddress: "02:42:0a:09:00:05",
          IPAMConfig: { IPv4Address: "10.9.0.5", IPv6Address: "fd00::5", LinkLocalIPs: ["169.254.0.5"] }
        }
      })
      expect(second).toEqual({ Container: "c2" })
    }))

  it.live("disconnect sends Force only when asked", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withNetworks(
        routes({ "POST /networks/net/disconnect": empty(200) }),
        (networks) =>
          Effect.andThen(networks.disconnect("net", "c1", { force: true }), networks.disconnect("net", "c2"))
      )
      expect(daemon.requests().map((r) => JSON.parse(r.body.toString("utf8")))).toEqual([
        { Container: "c1", Force: true },
        { Container: "c2" }
      ])
    }))
})

describe("Networks.remove", () => {
  it.live("without force: only the delete, and the daemon's refusal as it is", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withNetworks(
        routes({
          "DELETE /networks/net": refuse(403, "error while removing network: network net has active endpoints")
        }),
        (networks) => Effect.flip(networks.remove("net"))
      )
      expect(daemon.calls()).toEqual(["DELETE /networks/net"])
      expect(result._tag).toBe("Forbidden")
    }))

  it.live("force: every endpoint force-disconnected by name (a stale one too), not the load balancer, then the delete", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withNetworks(
        routes({
          "GET /networks/net": inspectAnswer({
            abc: { Name: "running", EndpointID: "e1" },
            "ep-e2": { Name: "gone", EndpointID: "e2" },
            "lb-net": { Name: "net-endpoint", EndpointID: "e3" }
          }),
          "POST /networks/net/disconnect": (request) =>
            JSON.parse(request.body.toString("utf8")).Container === "gone"
              ? empty(200)
              : refuse(404, "No such container: running"),
          "DELETE /networks/net": empty(204)
        }),
        (networks) => networks.remove("net", { force: true })
      )
      expect(daemon.calls()).toEqual([
        "GET /networks/net",
        "POST /networks/net/disconnect",
        "POST /networks/net/disconnect",
        "DELETE /networks/net"
      ])
      const bodies = daemon.requests().filter((r) => r.path.endsWith("/disconnect")).map((r) =>
        JSON.parse(r.body.toString("utf8"))
      )
      expect(bodies).toEqual([{ Container: "running", Force: true }, { Container: "gone", Force: true }])
    }))

  it.live("force on a swarm network: the delete retried while the daemon says 'in use by task'", () =>
    Effect.gen(function*() {
      let deletes = 0
      const { daemon } = yield* withNetworks(
        routes({
          "GET /networks/net": inspectAnswer({ abc: { Name: "c" } }),
          "POST /networks/net/disconnect": empty(200),
          "DELETE /networks/net": () =>
            ++deletes < 3
              ? refuse(400, "rpc error: code = FailedPrecondition desc = network net is in use by task t1")
              : empty(204)
        }),
        (networks) => networks.remove("net", { force: true })
      )
      expect(daemon.calls().filter((c) => c === "DELETE /networks/net")).toHaveLength(3)
    }))

  it.live("without force, 'in use by task' is the daemon's BadRequest at once", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withNetworks(
        routes({ "DELETE /networks/net": refuse(400, "network net is in use by task t1") }),
        (networks) => Effect.flip(networks.remove("net"))
      )
      expect(result._tag).toBe("BadRequest")
      expect(daemon.calls()).toEqual(["DELETE /networks/net"])
    }))

  it.live("scoped: created, then removed with its endpoints when the scope closes", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withNetworks(
        routes({
          "POST /networks/create": created,
          "GET /networks/n1": inspectAnswer({ abc: { Name: "c" } }),
          "POST /networks/n1/disconnect": empty(200),
          "DELETE /networks/n1": empty(204)
        }),
        (networks) => Effect.scoped(Effect.asVoid(networks.scoped("net")))
      )
      expect(daemon.calls()).toEqual([
        "POST /networks/create",
        "GET /networks/n1",
        "POST /networks/n1/disconnect",
        "DELETE /networks/n1"
      ])
    }))
})

describe("Networks.containers / endpoint", () => {
  it.live("containers: each endpoint with its container's Id", () =>
    Effect.gen(function*() {
      const { result } = yield* withNetworks(
        routes({ "GET /networks/net": inspectAnswer({ abc: { Name: "c", IPv4Address: "10.9.0.2/24" } }) }),
        (networks) => networks.containers("net")
      )
      expect(result).toEqual([{ Id: "abc", Name: "c", IPv4Address: "10.9.0.2/24" }])
    }))

  const containerAnswer = containerInspectAnswer({
    Name: "/c",
    NetworkSettings: {
      Networks: {
        net: { NetworkID: "n1full", Aliases: ["db"], IPAddress: "10.9.0.2" },
        other: { NetworkID: "n2full" }
      }
    }
  })

  it.live("endpoint: the container's settings on the network, found by name or ID", () =>
    Effect.gen(function*() {
      const { result } = yield* withNetworks(
        routes({ "GET /containers/c/json": containerAnswer, "GET /networks/n1full": inspectAnswer({}) }),
        (networks) => networks.endpoint("n1full", "c")
      )
      expect(result).toMatchObject({ NetworkID: "n1full", Aliases: ["db"], IPAddress: "10.9.0.2" })
    }))

  it.live("endpoint: NotFound when the container is not connected", () =>
    Effect.gen(function*() {
      const { result } = yield* withNetworks(
        routes({
          "GET /containers/c/json": containerAnswer,
          "GET /networks/third": json({ Name: "third", Id: "n3full" })
        }),
        (networks) => Effect.flip(networks.endpoint("third", "c"))
      )
      expect(result._tag).toBe("NotFound")
      expect(result.message).toContain("container c is not connected to network third")
    }))
})
