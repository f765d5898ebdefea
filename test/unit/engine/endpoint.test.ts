import { describe, expect, it } from "vitest"
import { DEFAULT_UNIX_SOCKET, EndpointError, formatEndpoint, parseEndpoint } from "../../../src/index.js"

describe("parseEndpoint (DOCKER_HOST)", () => {
  it.each([
    [undefined, { _tag: "Unix", socketPath: DEFAULT_UNIX_SOCKET }],
    ["", { _tag: "Unix", socketPath: DEFAULT_UNIX_SOCKET }],
    ["unix://", { _tag: "Unix", socketPath: DEFAULT_UNIX_SOCKET }],
    ["unix:///tmp/x/docker.sock", { _tag: "Unix", socketPath: "/tmp/x/docker.sock" }],
    ["tcp://127.0.0.1", { _tag: "Tcp", host: "127.0.0.1", port: 2375, tls: false }],
    ["tcp://127.0.0.1:2377", { _tag: "Tcp", host: "127.0.0.1", port: 2377, tls: false }],
    ["http://localhost:80", { _tag: "Tcp", host: "localhost", port: 80, tls: false }],
    ["https://127.0.0.1", { _tag: "Tcp", host: "127.0.0.1", port: 2376, tls: true }],
    ["tcp://[::1]:2375", { _tag: "Tcp", host: "::1", port: 2375, tls: false }],
    ["ssh://me@host:2222", { _tag: "Ssh", user: "me", host: "host", port: 2222 }],
    ["ssh://host", { _tag: "Ssh", user: undefined, host: "host", port: undefined }],
    ["npipe:////./pipe/docker_engine", { _tag: "Npipe", path: "//./pipe/docker_engine" }]
  ])("%s", (input, expected) => {
    expect(parseEndpoint(input)).toEqual(expected)
  })

  it.each([
    ["/var/run/docker.sock", "expected a scheme"],
    ["ftp://host", "unsupported scheme"],
    ["tcp://", "missing host"],
    ["tcp://host:2375/path", "a path (/path) is not supported"]
  ])("refuses %s", (input, why) => {
    const result = parseEndpoint(input)
    expect(result).toBeInstanceOf(EndpointError)
    expect((result as EndpointError).message).toContain(why)
    expect((result as EndpointError).endpoint).toBe(input)
  })

  it("formats back to the CLI's notation", () => {
    for (const address of ["unix:///tmp/d.sock", "tcp://127.0.0.1:2375", "https://127.0.0.1:2376", "ssh://u@h:22"]) {
      const parsed = parseEndpoint(address)
      if (parsed instanceof EndpointError) throw parsed
      expect(formatEndpoint(parsed)).toBe(address)
    }
  })
})
