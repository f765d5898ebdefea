/**
 * Registry credentials: the header encoding the daemon decodes (URL-safe base64 WITH padding),
 * config.json entries, and credential helpers run as programs on PATH.
 */
import { Effect, Exit, Redacted } from "effect"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { allCredentials, credentialsForRegistry } from "../../src/services/registry-credentials.js"
import {
  convertToHostname,
  credentialSourceFor,
  DOCKER_HUB_AUTH_KEY,
  encodeRegistryAuth,
  encodeRegistryConfig,
  registryCredentials,
  registryOfReference,
  splitReference
} from "../../src/wire/registry-auth.js"

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

describe("references", () => {
  it("names the registry as the CLI keys credentials", () => {
    expect(registryOfReference("busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("library/busybox:1")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("docker.io/library/busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("127.0.0.1:5000/a/b:1")).toBe("127.0.0.1:5000")
    expect(registryOfReference("localhost/x")).toBe("localhost")
    expect(registryOfReference("ghcr.io/o/r@sha256:abc")).toBe("ghcr.io")
  })
  it("splits repository and tag or digest (a port is not a tag)", () => {
    expect(splitReference("127.0.0.1:5000/a/b:1")).toEqual({ repository: "127.0.0.1:5000/a/b", tag: "1" })
    expect(splitReference("127.0.0.1:5000/a/b")).toEqual({ repository: "127.0.0.1:5000/a/b", tag: undefined })
    expect(splitReference("a@sha256:00")).toEqual({ repository: "a", tag: "sha256:00" })
    expect(convertToHostname("https://127.0.0.1:5000/v1/")).toBe("127.0.0.1:5000")
  })
})

describe("config.json and credential helpers", () => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), "ed-creds-"))
    dirs.push(dir)
    return dir
  }
  const configDir = (config: unknown) => {
    const dir = temp()
    writeFileSync(join(dir, "config.json"), JSON.stringify(config))
    return dir
  }
  /** A `docker-credential-<name>` script in its own bin directory; returns an env whose PATH finds it. */
  const helper = (name: string, script: string) => {
    const bin = temp()
    mkdirSync(bin, { recursive: true })
    const file = join(bin, `docker-credential-${name}`)
    writeFileSync(file, `#!/bin/sh\n${script}\n`)
    chmodSync(file, 0o755)
    return { PATH: `${bin}:${process.env.PATH ?? ""}` }
  }
  const get = (registry: string, options: Parameters<typeof credentialsForRegistry>[1]) =>
    Effect.runPromise(credentialsForRegistry(registry, options))
  /** The credentials with secrets revealed as `redacted:<value>` and absent fields dropped. */
  const plain = (credentials: Awaited<ReturnType<typeof get>>) => {
    if (credentials === undefined) return undefined
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(credentials)) {
      if (value === undefined) continue
      out[key] = Redacted.isRedacted(value) ? `redacted:${Redacted.value(value as Redacted.Redacted<string>)}` : value
    }
    return out
  }

  it("auths: base64 user:password (a password with a colon), found by hostname of a URL key", async () => {
    const auth = Buffer.from("testuser:pa:ss").toString("base64")
    const dir = configDir({ auths: { "https://127.0.0.1:5000/v1/": { auth, email: "e@x" } } })
    expect(plain(await get("127.0.0.1:5000", { configDir: dir }))).toEqual({
      username: "testuser",
      password: "redacted:pa:ss",
      email: "e@x",
      serverAddress: "https://127.0.0.1:5000/v1/"
    })
    expect(await get("127.0.0.1:5001", { configDir: dir })).toBeUndefined()
  })

  it("auths: identity tokens", async () => {
    const dir = configDir({ auths: { "r.example": { identitytoken: "id-tok" } } })
    expect(plain(await get("r.example", { configDir: dir }))).toMatchObject({ identityToken: "redacted:id-tok" })
  })

  it("a missing config.json means no credentials; a broken one is a CredentialsError", async () => {
    expect(await get("127.0.0.1:5000", { configDir: temp() })).toBeUndefined()
    const dir = temp()
    writeFileSync(join(dir, "config.json"), "{not json")
    const exit = await Effect.runPromiseExit(credentialsForRegistry("x", { configDir: dir }))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("CredentialsError")
  })

  it("credHelpers: runs docker-credential-<name> get with the server on stdin", async () => {
    const env = helper(
      "edtest",
      `read server; [ "$1" = get ] || exit 3; printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper:secret"}' "$server"`
    )
    const dir = configDir({
      credHelpers: { "127.0.0.1:5000": "edtest" },
      auths: { "127.0.0.1:5000": { auth: "eDp5" } }
    })
    expect(plain(await get("127.0.0.1:5000", { configDir: dir, env }))).toEqual({
      username: "helper-user",
      password: "redacted:helper:secret",
      serverAddress: "127.0.0.1:5000"
    })
  })

  it("credsStore: `<token>` means an identity token; `credentials not found` means none", async () => {
    const env = helper(
      "edstore",
      `read server; case "$server" in r.example) echo '{"Username":"<token>","Secret":"refresh"}';; ` +
        `*) echo "credentials not found in native keychain"; exit 1;; esac`
    )
    const dir = configDir({ credsStore: "edstore" })
    expect(plain(await get("r.example", { configDir: dir, env }))).toEqual({
      identityToken: "redacted:refresh",
      serverAddress: "r.example"
    })
    expect(await get("other.example", { configDir: dir, env })).toBeUndefined()
  })

  it("a failing or missing helper is a CredentialsError naming it, never the secret", async () => {
    const env = helper("edbroken", `echo "keychain locked" >&2; exit 2`)
    const dir = configDir({ credsStore: "edbroken" })
    const exit = await Effect.runPromiseExit(credentialsForRegistry("r.example", { configDir: dir, env }))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain(
      "docker-credential-edbroken get failed for r.example (exit 2): keychain locked"
    )
    const missing = await Effect.runPromiseExit(
      credentialsForRegistry("r.example", { configDir: configDir({ credsStore: "ednothere" }), env })
    )
    expect(JSON.stringify(missing)).toContain("docker-credential-ednothere is not on PATH")
  })

  it("allCredentials: auths, the store's list and credHelpers (for X-Registry-Config)", async () => {
    const env = {
      PATH: [
        helper(
          "edlist",
          `case "$1" in list) echo '{"listed.example":"u"}';; get) read s; echo "{\\"Username\\":\\"u\\",\\"Secret\\":\\"s-$s\\"}";; esac`
        ).PATH
      ].join(":")
    }
    const dir = configDir({
      credsStore: "edlist",
      auths: { "file.example": {} },
      credHelpers: { "helped.example": "edlist" }
    })
    const all = await Effect.runPromise(allCredentials({ configDir: dir, env }))
    expect(Object.keys(all).sort()).toEqual(["file.example", "helped.example", "listed.example"])
    expect(Redacted.value(all["helped.example"]!.password!)).toBe("s-helped.example")
    expect(credentialSourceFor({ credsStore: "x", credHelpers: { a: "y" } }, "a")).toMatchObject({ helper: "y" })
  })
})
