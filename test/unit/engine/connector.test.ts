import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EndpointError } from "../../../src/core/errors.js"
import { loadTlsMaterial, makeConnector, npipePath, sshArguments } from "../../../src/engine/connector.js"
import { type Endpoint, parseEndpoint } from "../../../src/engine/endpoint.js"

const endpoint = (address: string): Endpoint => {
  const parsed = parseEndpoint(address)
  if (parsed instanceof EndpointError) throw new Error(parsed.message)
  return parsed
}

describe("connector", () => {
  it("ssh arguments: caller's options first (ssh keeps the first value), then the CLI's own", () => {
    const ssh = endpoint("ssh://me@box:2222")
    if (ssh._tag !== "Ssh") throw new Error("not ssh")
    expect(sshArguments(ssh, { options: ["-F", "/cfg"], connectTimeout: 5 })).toEqual([
      "-F",
      "/cfg",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=5",
      "-T",
      "-l",
      "me",
      "-p",
      "2222",
      "--",
      "box",
      "docker",
      "system",
      "dial-stdio"
    ])
  })

  it("named pipe paths in Windows form", () => {
    expect(npipePath("//./pipe/docker_engine")).toBe("\\\\.\\pipe\\docker_engine")
  })

  // The project's machines (and CI) are Linux: this asserts the non-Windows answer unconditionally.
  it.effect("npipe:// outside Windows is an EndpointError", () =>
    Effect.gen(function*() {
      expect(process.platform).not.toBe("win32")
      const error = yield* makeConnector(endpoint("npipe:////./pipe/docker_engine")).pipe(Effect.scoped, Effect.flip)
      expect(error._tag).toBe("EndpointError")
      expect(error.message).toContain("only on Windows")
    }))

  it.effect("TLS options turn tcp:// into https", () =>
    Effect.gen(function*() {
      const connector = yield* makeConnector(endpoint("tcp://127.0.0.1:2376"), { tls: { verify: false } })
      expect(connector.origin).toBe("https://127.0.0.1:2376")
      expect(connector.endpoint).toMatchObject({ _tag: "Tcp", tls: true })
    }).pipe(Effect.scoped))

  it("a certificate without its key, and unusable PEM, are EndpointErrors without the bytes", () => {
    const secret = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
    const noKey = loadTlsMaterial("https://h:2376", { cert: "x" })
    expect(noKey).toBeInstanceOf(EndpointError)
    expect((noKey as EndpointError).message).toContain("without its key")
    const bad = loadTlsMaterial("https://h:2376", {
      cert: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
      key: secret
    })
    expect(bad).toBeInstanceOf(EndpointError)
    expect(JSON.stringify(bad)).not.toContain("c2VjcmV0")
  })
})
