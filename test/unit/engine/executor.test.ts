import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { buildRequest, daemonMessage, failureFromResponse } from "../../../src/engine/executor.js"
import { ApiVersionError, type OperationDescriptor } from "../../../src/index.js"
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

  it("reports where a body does not decode", () => {
    const schema = Schema.Struct({ Id: Schema.String })
    expect(decodeJsonBody("Op", schema, "{\"Id\":\"x\",\"Extra\":1}")).toEqual(Exit.succeed({ Id: "x" }))
    const bad = decodeJsonBody("Op", schema, "{\"Id\":1}")
    expect(Exit.isFailure(bad)).toBe(true)
    const notJson = decodeJsonBody("Op", schema, "<html>")
    expect(Exit.isFailure(notJson)).toBe(true)
  })
})
