import { describe, expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { EndpointError } from "../../../src/core/errors.js"
import {
  contextDigest,
  type DockerEnv,
  resolveContextName,
  type ResolvedContext,
  resolveDockerContext
} from "../../../src/docker-cli/context.js"
import { configDir, PEM, removeConfigDirs, tempDir } from "../../support/docker-config.js"

afterAll(removeConfigDirs)

const resolved = (env: DockerEnv): ResolvedContext => {
  const result = resolveDockerContext(env)
  if (result instanceof EndpointError) throw new Error(`unexpected EndpointError: ${result.message}`)
  return result
}
const failure = (env: DockerEnv): EndpointError => {
  const result = resolveDockerContext(env)
  if (!(result instanceof EndpointError)) throw new Error(`expected an EndpointError, got ${JSON.stringify(result)}`)
  return result
}

describe("context name precedence (docker/cli resolveContextName)", () => {
  const dir = configDir({
    currentContext: "from-config",
    contexts: {
      "from-config": { host: "tcp://config.example:2375" },
      "from-env": { host: "tcp://env.example:2375" }
    }
  })

  it("DOCKER_HOST beats DOCKER_CONTEXT and config.json: the default context", () => {
    const r = resolved({ DOCKER_CONFIG: dir, DOCKER_HOST: "tcp://host.example:2375", DOCKER_CONTEXT: "from-env" })
    expect(r).toMatchObject({ name: "default", source: "DOCKER_HOST", host: "tcp://host.example:2375", tls: undefined })
  })

  it("DOCKER_CONTEXT beats config.json's currentContext", () => {
    const r = resolved({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "from-env" })
    expect(r).toMatchObject({ name: "from-env", source: "DOCKER_CONTEXT", host: "tcp://env.example:2375" })
  })

  it("config.json's currentContext when neither variable is set", () => {
    expect(resolved({ DOCKER_CONFIG: dir })).toMatchObject({
      name: "from-config",
      source: "config.json",
      host: "tcp://config.example:2375"
    })
  })

  it("empty variables count as unset", () => {
    expect(resolved({ DOCKER_CONFIG: dir, DOCKER_HOST: "", DOCKER_CONTEXT: "  " })).toMatchObject({
      name: "from-config",
      source: "config.json"
    })
  })

  it("no config.json, no variables: the default context on the default socket", () => {
    expect(resolved({ DOCKER_CONFIG: configDir() })).toMatchObject({
      name: "default",
      source: "default",
      host: undefined,
      tls: undefined
    })
  })

  it("DOCKER_CONTEXT=default means the environment, even with a currentContext", () => {
    const r = resolved({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "default" })
    expect(r).toMatchObject({ name: "default", source: "DOCKER_CONTEXT", host: undefined })
  })

  it("without DOCKER_CONFIG the directory is ~/.docker (HOME)", () => {
    const home = tempDir("effect-docker-home-")
    mkdirSync(join(home, ".docker"))
    writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ currentContext: "x" }))
    expect(resolveContextName({ HOME: home })).toEqual({ name: "x", source: "config.json" })
  })

  it("uses the CLI's store layout: contexts/meta/<sha256(name)>/meta.json", () => {
    expect(contextDigest("from-env")).toBe(createHash("sha256").update("from-env").digest("hex"))
  })
})

describe("context errors", () => {
  it("a context that does not exist is a typed error naming it and where it came from", () => {
    const error = failure({ DOCKER_CONFIG: configDir(), DOCKER_CONTEXT: "nope" })
    expect(error._tag).toBe("EndpointError")
    expect(error.message).toContain(`Docker context "nope" (from DOCKER_CONTEXT) does not exist`)
    expect(error.message).toContain(join("contexts", "meta", contextDigest("nope"), "meta.json"))
  })

  it("a missing currentContext names config.json", () => {
    const dir = configDir({ currentContext: "gone" })
    expect(failure({ DOCKER_CONFIG: dir }).message).toContain(`from currentContext in ${join(dir, "config.json")}`)
  })

  it("an unparsable config.json names the file", () => {
    const dir = configDir({ config: "{ not json" })
    const error = failure({ DOCKER_CONFIG: dir })
    expect(error.message).toContain(join(dir, "config.json"))
    expect(error.message).toContain("invalid JSON")
  })

  it("a context without a docker endpoint", () => {
    const dir = configDir()
    const meta = join(dir, "contexts", "meta", contextDigest("k8s"))
    mkdirSync(meta, { recursive: true })
    writeFileSync(join(meta, "meta.json"), JSON.stringify({ Name: "k8s", Endpoints: { kubernetes: {} } }))
    expect(failure({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "k8s" }).message).toContain("has no docker endpoint")
  })

  it("an unreadable TLS file is named", () => {
    const dir = configDir({ contexts: { locked: { host: "tcp://h:2376", tls: { "ca.pem": PEM["ca.pem"] } } } })
    // A directory where key.pem should be: unreadable even for root (EISDIR).
    const key = join(dir, "contexts", "tls", contextDigest("locked"), "docker", "key.pem")
    mkdirSync(key)
    const error = failure({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "locked" })
    expect(error.message).toContain(key)
    expect(error.message).toContain("EISDIR")
  })
})

describe("TLS material", () => {
  it("DOCKER_TLS_VERIFY: ca/cert/key from DOCKER_CERT_PATH, verification on", () => {
    const certs = tempDir("effect-docker-certs-")
    for (const [file, text] of Object.entries(PEM)) writeFileSync(join(certs, file), text)
    const r = resolved({
      DOCKER_CONFIG: configDir(),
      DOCKER_HOST: "tcp://127.0.0.1:2376",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: certs
    })
    expect(r.host).toBe("tcp://127.0.0.1:2376")
    expect(r.tls?.verify).toBe(true)
    expect(String(r.tls?.ca)).toBe(PEM["ca.pem"])
    expect(String(r.tls?.cert)).toBe(PEM["cert.pem"])
    expect(String(r.tls?.key)).toBe(PEM["key.pem"])
  })

  it("any non-empty DOCKER_TLS_VERIFY turns verification on (as the CLI: even \"0\")", () => {
    const certs = tempDir("effect-docker-certs-")
    writeFileSync(join(certs, "ca.pem"), PEM["ca.pem"])
    const r = resolved({ DOCKER_CONFIG: configDir(), DOCKER_TLS_VERIFY: "0", DOCKER_CERT_PATH: certs })
    expect(r.tls?.verify).toBe(true)
    // No DOCKER_HOST with TLS on: the CLI's default TLS host.
    expect(r.host).toBe("tcp://localhost:2376")
    // cert.pem / key.pem absent: no client certificate.
    expect(r.tls?.cert).toBeUndefined()
    expect(r.tls?.key).toBeUndefined()
  })

  it("DOCKER_TLS without DOCKER_TLS_VERIFY: TLS without verification", () => {
    const certs = tempDir("effect-docker-certs-")
    writeFileSync(join(certs, "ca.pem"), PEM["ca.pem"])
    const r = resolved({
      DOCKER_CONFIG: configDir(),
      DOCKER_HOST: "tcp://h:2376",
      DOCKER_TLS: "1",
      DOCKER_CERT_PATH: certs
    })
    expect(r.tls?.verify).toBe(false)
  })

  it("the cert path defaults to the config directory", () => {
    const dir = configDir()
    writeFileSync(join(dir, "ca.pem"), PEM["ca.pem"])
    expect(String(resolved({ DOCKER_CONFIG: dir, DOCKER_TLS_VERIFY: "1" }).tls?.ca)).toBe(PEM["ca.pem"])
  })

  it("a missing ca.pem is a typed error naming the file", () => {
    const certs = tempDir("effect-docker-certs-")
    const error = failure({ DOCKER_CONFIG: configDir(), DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs })
    expect(error.message).toContain(join(certs, "ca.pem"))
    expect(error.message).toContain("ENOENT")
  })

  it("TLS variables do not apply to a named context; its own material does", () => {
    const dir = configDir({
      contexts: {
        plain: { host: "tcp://plain:2375" },
        secure: { host: "tcp://secure:2376", tls: PEM },
        insecure: { host: "tcp://insecure:2376", skipTLSVerify: true }
      }
    })
    const env = { DOCKER_CONFIG: dir, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nonexistent" }
    expect(resolved({ ...env, DOCKER_CONTEXT: "plain" }).tls).toBeUndefined()
    const secure = resolved({ ...env, DOCKER_CONTEXT: "secure" })
    expect(secure.tls?.verify).toBe(true)
    expect(String(secure.tls?.key)).toBe(PEM["key.pem"])
    expect(resolved({ ...env, DOCKER_CONTEXT: "insecure" }).tls).toEqual({ verify: false })
  })

  it("errors never carry key material", () => {
    const dir = configDir({ contexts: { broken: { host: "tcp://h:2376", tls: { "ca.pem": PEM["ca.pem"] } } } })
    const error = failure({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "missing" })
    expect(JSON.stringify(error)).not.toContain("BEGIN")
  })
})
