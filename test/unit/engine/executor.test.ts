import { Cause, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Invalid } from "../../../src/core/fast-decode.js"
import { buildRequest, daemonMessage, failureFromResponse } from "../../../src/engine/executor.js"
import { ApiVersionError, InvalidArgumentError, type OperationDescriptor } from "../../../src/index.js"
import { decodeJsonBody } from "../../../src/wire/decode.js"

const op = {
  operationId: "Example",
  method: "POST",
  path: "/images/{name}/push",
  params: [
    { name: "name", key: "name", in: "path", required: true, encoding: "string", since: "1.41" },
    { name: "all", key: "all", in: "query", required: false, encoding: "boolean", since: "1.41" },
    { name: "filters", key: "filters", in: "query", required: false, encoding: "json", since: "1.41" },
    { name: "platform", key: "platform", in: "query", required: false, encoding: "repeat", since: "1.52" },
    { name: "variant", key: "variant", in: "query", required: false, encoding: "repeatJson", since: "1.52" },
    { name: "one-shot", key: "oneShot", in: "query", required: false, encoding: "boolean", since: "1.41" },
    { name: "gone", key: "gone", in: "query", required: false, encoding: "string", since: "1.41", until: "1.43" },
    { name: "X-Registry-Auth", key: "registryAuth", in: "header", required: false, encoding: "string", since: "1.41" }
  ],
  body: { key: "body", required: false, contentType: "application/json", since: "1.41" },
  response: { kind: "empty" },
  since: "1.41"
} as const satisfies OperationDescriptor

describe("buildRequest", () => {
  it("puts the version first, keeps image references readable, encodes query values", () => {
    const request = buildRequest(op, {
      name: "127.0.0.1:5000/busy box@sha256:ab",
      all: true,
      oneShot: false,
      filters: { label: ["a=b"] }
    }, "1.41")
    expect(request).toEqual({
      method: "POST",
      path: "/v1.41/images/127.0.0.1:5000/busy%20box@sha256:ab/push?all=1&filters=" +
        encodeURIComponent("{\"label\":[\"a=b\"]}") + "&one-shot=0"
    })
  })

  it("repeats repeatable parameters, sends headers and JSON bodies", () => {
    const request = buildRequest(op, {
      name: "x",
      platform: ["linux/amd64", "linux/arm64"],
      registryAuth: "e30=",
      body: { A: 1 }
    }, "1.52")
    expect(request).toEqual({
      method: "POST",
      path: "/v1.52/images/x/push?platform=linux%2Famd64&platform=linux%2Farm64",
      headers: { "X-Registry-Auth": "e30=", "content-type": "application/json" },
      body: "{\"A\":1}"
    })
  })

  it("sends one JSON document per element for repeatJson", () => {
    const request = buildRequest(op, {
      name: "x",
      variant: [{ os: "linux", architecture: "arm", variant: "v5" }, { os: "linux", architecture: "amd64" }]
    }, "1.52")
    expect(request).toEqual({
      method: "POST",
      path: "/v1.52/images/x/push?variant=" +
        encodeURIComponent("{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v5\"}") +
        "&variant=" + encodeURIComponent("{\"os\":\"linux\",\"architecture\":\"amd64\"}")
    })
  })

  it("refuses a parameter newer than the version, naming it and the version it needs", () => {
    const error = buildRequest(op, { name: "x", platform: ["linux/amd64"] }, "1.41")
    expect(error).toBeInstanceOf(ApiVersionError)
    expect((error as ApiVersionError).required).toBe("1.52")
    expect((error as ApiVersionError).message).toBe(
      "Example: parameter \"platform\" needs API 1.52, but requests use API 1.41"
    )
  })

  it("refuses a parameter the version no longer has", () => {
    const error = buildRequest(op, { name: "x", gone: "y" }, "1.44")
    expect((error as ApiVersionError).message).toContain("removed after API 1.43")
  })

  it("a repeated header is one line per value; a header value with CR, LF or NUL is refused (E33)", () => {
    const session = {
      ...op,
      params: [
        { name: "X-Method", key: "methods", in: "header", required: false, encoding: "repeat", since: "1.41" },
        { name: "X-Id", key: "id", in: "header", required: false, encoding: "string", since: "1.41" }
      ]
    } as const satisfies OperationDescriptor
    expect(buildRequest(session, { methods: ["/a/B", "/c/D"], id: "u1" }, "1.41")).toMatchObject({
      headers: { "X-Method": ["/a/B", "/c/D"], "X-Id": "u1" }
    })
    for (const bad of ["a\r\nX-Injected: 1", "a\nb", "a\0"]) {
      expect(buildRequest(session, { id: bad }, "1.41")).toBeInstanceOf(InvalidArgumentError)
      expect(buildRequest(session, { methods: ["/ok", bad] }, "1.41")).toBeInstanceOf(InvalidArgumentError)
    }
  })

  it("refuses an operation newer than the version", () => {
    const error = buildRequest({ ...op, since: "1.42" }, { name: "x" }, "1.41")
    expect((error as ApiVersionError).message).toBe("Example: this operation needs API 1.42, but requests use API 1.41")
  })
})

describe("always-sent parameters (x-ed-always-send)", () => {
  const enable = {
    operationId: "PluginEnable",
    method: "POST",
    path: "/plugins/{name}/enable",
    params: [
      { name: "name", key: "name", in: "path", required: true, encoding: "string", since: "1.41" },
      {
        name: "timeout",
        key: "timeout",
        in: "query",
        required: false,
        encoding: "integer",
        since: "1.41",
        default: 0,
        alwaysSent: true
      },
      { name: "force", key: "force", in: "query", required: false, encoding: "boolean", since: "1.41", default: false },
      {
        name: "later",
        key: "later",
        in: "query",
        required: false,
        encoding: "string",
        since: "1.44",
        default: "x",
        alwaysSent: true
      },
      {
        name: "gone",
        key: "gone",
        in: "query",
        required: false,
        encoding: "boolean",
        since: "1.41",
        until: "1.43",
        default: true,
        alwaysSent: true
      }
    ],
    response: { kind: "empty" },
    since: "1.41"
  } as const satisfies OperationDescriptor

  it("sends the default when the caller omits the parameter; a plain default is not sent", () => {
    expect(buildRequest(enable, { name: "p" }, "1.41")).toEqual({
      method: "POST",
      path: "/v1.41/plugins/p/enable?timeout=0&gone=1"
    })
  })

  it("sends the caller's value when given", () => {
    expect(buildRequest(enable, { name: "p", timeout: 30 }, "1.41")).toMatchObject({
      path: "/v1.41/plugins/p/enable?timeout=30&gone=1"
    })
  })

  it("never sends a default the version does not have, in either direction", () => {
    expect(buildRequest(enable, { name: "p" }, "1.44")).toMatchObject({
      path: "/v1.44/plugins/p/enable?timeout=0&later=x"
    })
  })
})

describe("body fields and versions", () => {
  const create = {
    ...op,
    path: "/containers/create",
    params: [],
    fields: {
      "body.HostConfig.Annotations": { since: "1.43" },
      "body.HostConfig.Mounts[].VolumeOptions.Subpath": { since: "1.45" },
      "body.NetworkingConfig.EndpointsConfig{}.DNSNames": { since: "1.44" },
      "body.MacAddress": { since: "1.41", until: "1.51" },
      "response.Warnings": { since: "1.41" }
    }
  } as const satisfies OperationDescriptor

  it("refuses a body field newer than the version, naming it", () => {
    const error = buildRequest(create, { body: { Image: "x", HostConfig: { Annotations: { a: "b" } } } }, "1.41")
    expect((error as ApiVersionError).message).toBe(
      "Example: field \"HostConfig.Annotations\" needs API 1.43, but requests use API 1.41"
    )
    expect(buildRequest(create, { body: { HostConfig: { Annotations: { a: "b" } } } }, "1.43")).not.toBeInstanceOf(
      ApiVersionError
    )
  })

  it("walks arrays and maps", () => {
    const mounts = { HostConfig: { Mounts: [{ Type: "bind" }, { Type: "volume", VolumeOptions: { Subpath: "s" } }] } }
    expect((buildRequest(create, { body: mounts }, "1.44") as ApiVersionError).required).toBe("1.45")
    const endpoints = { NetworkingConfig: { EndpointsConfig: { n1: {}, n2: { DNSNames: ["a"] } } } }
    expect((buildRequest(create, { body: endpoints }, "1.43") as ApiVersionError).required).toBe("1.44")
    expect(buildRequest(create, { body: { HostConfig: { Mounts: [{ Type: "bind" }] } } }, "1.41")).not.toBeInstanceOf(
      ApiVersionError
    )
  })

  it("refuses a field the version no longer has", () => {
    const error = buildRequest(create, { body: { MacAddress: "02:42:ac:11:00:02" } }, "1.52")
    expect((error as ApiVersionError).message).toContain("field \"MacAddress\" was removed after API 1.51")
  })
})

describe("arguments refused before anything is sent", () => {
  const remove = {
    ...op,
    operationId: "ContainerDelete",
    method: "DELETE",
    path: "/containers/{id}",
    params: [{ name: "id", key: "id", in: "path", required: true, encoding: "string", since: "1.41" }]
  } as const satisfies OperationDescriptor
  const refusal = (built: unknown) => {
    expect(built).toBeInstanceOf(InvalidArgumentError)
    const error = built as InvalidArgumentError
    return { tag: error._tag, argument: error.argument, message: error.message }
  }

  it("refuses . and .. path segments, which a cleaning proxy or router would reroute", () => {
    expect(refusal(buildRequest(remove, { id: "../../images/x" }, "1.41"))).toEqual({
      tag: "InvalidArgumentError",
      argument: "id",
      message: "ContainerDelete: \"id\" (\"../../images/x\") has a \".\" or \"..\" path segment"
    })
    for (const id of ["..", ".", "a/./b", "a/.."]) {
      expect(refusal(buildRequest(remove, { id }, "1.41")).argument).toBe("id")
    }
  })

  it("refuses empty values and empty segments; keeps dots inside a segment", () => {
    expect(refusal(buildRequest(remove, { id: "" }, "1.41")).message).toBe("ContainerDelete: \"id\" is empty")
    for (const id of ["/web", "a//b", "a/"]) {
      expect(refusal(buildRequest(remove, { id }, "1.41")).message).toContain("empty path segment")
    }
    expect(buildRequest(remove, { id: "my.app..v2" }, "1.41")).toEqual({
      method: "DELETE",
      path: "/v1.41/containers/my.app..v2"
    })
    expect(buildRequest(op, { name: "127.0.0.1:5000/a/b:1" }, "1.41")).toEqual({
      method: "POST",
      path: "/v1.41/images/127.0.0.1:5000/a/b:1/push"
    })
  })

  it("refuses a missing path parameter instead of sending a literal {id}", () => {
    expect(refusal(buildRequest(remove, {}, "1.41")).message).toBe(
      "ContainerDelete: \"id\" is required (a path parameter)"
    )
    expect(refusal(buildRequest(remove, { id: { Id: "x" } }, "1.41")).message).toBe(
      "ContainerDelete: \"id\" must be a string, not object"
    )
  })

  it("refuses a body or JSON parameter that cannot be serialised, as a typed error", () => {
    const circular: Record<string, unknown> = { A: 1 }
    circular["self"] = circular
    const body = refusal(buildRequest(op, { name: "x", body: circular }, "1.41"))
    expect(body.argument).toBe("body")
    expect(body.message).toMatch(/^Example: "body" cannot be serialised as JSON: .*circular/i)
    expect(refusal(buildRequest(op, { name: "x", body: { Size: 1n } }, "1.41")).message).toMatch(/BigInt/)
    expect(refusal(buildRequest(op, { name: "x", body: () => 1 }, "1.41")).message).toBe(
      "Example: \"body\" cannot be serialised as JSON (a function)"
    )
    expect(refusal(buildRequest(op, { name: "x", filters: { n: 2n } }, "1.41")).argument).toBe("filters")
    expect(refusal(buildRequest(op, { name: "x", variant: [circular] }, "1.52")).argument).toBe("variant")
  })
})

describe("removed parameters and fields: the spec/removed-fields.yaml policy", () => {
  const create = {
    ...op,
    path: "/networks/create",
    params: [
      {
        name: "keep",
        key: "keep",
        in: "query",
        required: false,
        encoding: "integer",
        since: "1.41",
        until: "1.51",
        whenRemoved: "drop"
      },
      {
        name: "old",
        key: "old",
        in: "query",
        required: false,
        encoding: "integer",
        since: "1.41",
        until: "1.51",
        whenRemoved: "refuse"
      }
    ],
    fields: {
      "body.CheckDuplicate": { since: "1.41", until: "1.45", whenRemoved: "drop" },
      "body.Endpoints{}.Legacy": { since: "1.41", until: "1.45", whenRemoved: "drop" },
      "body.MacAddress": { since: "1.41", until: "1.51", whenRemoved: "refuse" },
      "body.Fresh": { since: "1.50" }
    }
  } as const satisfies OperationDescriptor

  it("drops a removed field whose policy is drop, leaving the caller's object alone", () => {
    const body = { Name: "n", CheckDuplicate: true, Endpoints: { a: { Legacy: 1, Keep: 2 }, b: {} } }
    const request = buildRequest(create, { body, keep: 5 }, "1.52")
    expect(request).toEqual({
      method: "POST",
      path: "/v1.52/networks/create",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Name: "n", Endpoints: { a: { Keep: 2 }, b: {} } }),
      dropped: ["parameter \"keep\"", "field \"CheckDuplicate\"", "field \"Endpoints{}.Legacy\""]
    })
    expect(body.CheckDuplicate).toBe(true)
    expect(body.Endpoints.a.Legacy).toBe(1)
  })

  it("sends it unchanged at a version that has it", () => {
    const request = buildRequest(create, { body: { Name: "n", CheckDuplicate: true }, keep: 5 }, "1.45")
    expect(request).toEqual({
      method: "POST",
      path: "/v1.45/networks/create?keep=5",
      headers: { "content-type": "application/json" },
      body: "{\"Name\":\"n\",\"CheckDuplicate\":true}"
    })
  })

  it("refuses a removed field or parameter whose policy is refuse, and a field newer than the version", () => {
    expect((buildRequest(create, { body: { MacAddress: "02:42:ac:11:00:02" } }, "1.52") as ApiVersionError).message)
      .toBe("Example: field \"MacAddress\" was removed after API 1.51, but requests use API 1.52")
    expect((buildRequest(create, { old: 1 }, "1.52") as ApiVersionError).message)
      .toBe("Example: parameter \"old\" was removed after API 1.51, but requests use API 1.52")
    expect((buildRequest(create, { body: { CheckDuplicate: true, Fresh: 1 } }, "1.46") as ApiVersionError).required)
      .toBe("1.50")
  })
})

describe("daemon answers", () => {
  it("takes the daemon's message from JSON or text", () => {
    expect(daemonMessage("{\"message\":\"No such image: x\"}\n")).toBe("No such image: x")
    expect(daemonMessage("page not found\n")).toBe("page not found")
    expect(daemonMessage("")).toBe("(empty response)")
    expect(daemonMessage("{not json")).toBe("{not json")
  })

  it("maps statuses to tagged errors", () => {
    const tags = [304, 400, 401, 403, 404, 409, 500, 503, 418].map((status) =>
      failureFromResponse("Op", "1.41", status, "{\"message\":\"m\"}")._tag
    )
    expect(tags).toEqual([
      "NotModified",
      "BadRequest",
      "Unauthorized",
      "Forbidden",
      "NotFound",
      "Conflict",
      "ServerError",
      "ServiceUnavailable",
      "UnexpectedStatus"
    ])
  })

  it("tells the swarm states apart by the daemon's message (as 20.10 and 28.x word them)", () => {
    const tag = (status: number, message: string) =>
      failureFromResponse("Op", "1.41", status, JSON.stringify({ message }))._tag
    // A node in no swarm: inspect, services, nodes… answer the first; leave and unlockkey the second.
    const noSwarm =
      "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."
    expect(tag(503, noSwarm)).toBe("NotInSwarm")
    expect(tag(503, "This node is not part of a swarm")).toBe("NotInSwarm")
    // A worker (moby's errSwarmNotManager).
    const worker =
      "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."
    expect(tag(503, worker)).toBe("NotAManager")
    expect(tag(406, worker)).toBe("NotAManager")
    expect(tag(406, noSwarm)).toBe("NotInSwarm")
    // Other 503s and 406s keep their tags; a 500 that mentions a swarm is still a daemon failure.
    expect(tag(503, "Swarm is encrypted and needs to be unlocked before it can be used.")).toBe("ServiceUnavailable")
    expect(tag(406, "m")).toBe("UnexpectedStatus")
    expect(tag(500, "This node is not part of a swarm")).toBe("ServerError")
  })

  it("turns a refused version into ApiVersionError", () => {
    const error = failureFromResponse(
      "SystemInfo",
      "1.41",
      400,
      "{\"message\":\"client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade\"}"
    )
    expect(error._tag).toBe("ApiVersionError")
    expect((error as ApiVersionError).required).toBe("1.44")
  })

  it("reports where a body does not decode (the Schema loaded when there is no fast decoder)", async () => {
    const schema = async () => Schema.Struct({ Id: Schema.String })
    const decode = (body: string) => Effect.runPromiseExit(decodeJsonBody("Op", schema, body))
    expect(await decode("{\"Id\":\"x\",\"Extra\":1}")).toEqual(Exit.succeed({ Id: "x" }))
    const bad = await decode("{\"Id\":1}")
    expect(Exit.isFailure(bad) && Cause.squash(bad.cause)).toMatchObject({ _tag: "DecodeError", operation: "Op" })
    const notJson = await decode("<html>")
    expect(Exit.isFailure(notJson) && Cause.squash(notJson.cause)).toMatchObject({ _tag: "DecodeError" })
  })

  it("decodes with the fast decoder alone when it accepts, and with the Schema when it refuses", async () => {
    let loads = 0
    const schema = async () => {
      loads++
      return Schema.Struct({ Id: Schema.String })
    }
    const fast = (u: unknown) =>
      typeof u === "object" && u !== null && typeof (u as { Id?: unknown }).Id === "string"
        ? { Id: (u as { Id: string }).Id }
        : Invalid
    // the fast path is an Exit: no Schema loaded, nothing asynchronous
    expect(decodeJsonBody("Op", schema, "{\"Id\":\"x\"}", fast)).toEqual(Exit.succeed({ Id: "x" }))
    expect(loads).toBe(0)
    const bad = await Effect.runPromiseExit(decodeJsonBody("Op", schema, "{\"Id\":2}", fast))
    expect(Exit.isFailure(bad) && Cause.squash(bad.cause)).toMatchObject({ _tag: "DecodeError", operation: "Op" })
    expect(loads).toBe(1)
  })
})
