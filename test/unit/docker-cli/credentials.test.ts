/** Registry credentials as the Docker CLI finds them: config.json entries and credential helpers on PATH. */
import { Effect, Exit, Redacted } from "effect"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { allCredentials, credentialsForRegistry, credentialSourceFor } from "../../../src/docker-cli/credentials.js"

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
