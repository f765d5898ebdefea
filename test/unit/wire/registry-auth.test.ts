/** The registry credentials headers the daemon decodes: URL-safe base64 WITH padding. */
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { encodeRegistryAuth, encodeRegistryConfig, registryCredentials } from "../../../src/wire/registry-auth.js"

/** Go's base64.URLEncoding decoder: URL-safe alphabet, padding required. */
const goUrlDecode = (value: string): string => {
  expect(value).toMatch(/^[A-Za-z0-9_-]*={0,2}$/)
  expect(value.length % 4).toBe(0)
  return Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8")
}

describe("X-Registry-Auth encoding", () => {
  // This password makes the standard encoding of the JSON contain `+`, `/` and `=`.
  const password = "s3cr3t?>~~"
  const json = JSON.stringify({ username: "testuser", password })

  it("uses the URL-safe alphabet with padding where standard base64 has + / =", () => {
    const standard = Buffer.from(json).toString("base64")
    expect(standard).toContain("+")
    expect(standard).toContain("/")
    expect(standard.endsWith("=")).toBe(true)
    const header = encodeRegistryAuth(registryCredentials({ username: "testuser", password }))
    expect(header).not.toMatch(/[+/]/)
    expect(header.endsWith("=")).toBe(true) // Node's "base64url" would drop it; Go's decoder then fails
    expect(header).toBe(standard.replace(/\+/g, "-").replace(/\//g, "_"))
    expect(JSON.parse(goUrlDecode(header))).toEqual({ username: "testuser", password })
  })

  it("is `e30=` (`{}`) without credentials, and carries tokens and the server address", () => {
    expect(encodeRegistryAuth(undefined)).toBe("e30=")
    const header = encodeRegistryAuth(registryCredentials({ identityToken: "tok", serverAddress: "r.example:5000" }))
    expect(JSON.parse(goUrlDecode(header))).toEqual({ identitytoken: "tok", serveraddress: "r.example:5000" })
  })

  it("X-Registry-Config maps each registry to its AuthConfig", () => {
    const header = encodeRegistryConfig({
      "127.0.0.1:5000": registryCredentials({ username: "u", password: "p" })
    })
    expect(JSON.parse(goUrlDecode(header))).toEqual({
      "127.0.0.1:5000": { username: "u", password: "p", serveraddress: "127.0.0.1:5000" }
    })
  })

  it("secrets are Redacted: they never print", () => {
    const credentials = registryCredentials({ username: "u", password: "hunter2" })
    expect(String(credentials.password)).not.toContain("hunter2")
    expect(JSON.stringify(credentials)).not.toContain("hunter2")
    expect(Redacted.value(credentials.password!)).toBe("hunter2")
  })
})
