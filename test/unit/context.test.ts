import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import {
  contextDigest,
  type DockerEnv,
  engineOptionsFromEnv,
  resolveContextName,
  type ResolvedContext,
  resolveDockerContext
} from "../../src/engine/context.js"
import { EndpointError } from "../../src/engine/errors.js"

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

/** A throwaway DOCKER_CONFIG directory, laid out like the CLI's. */
const configDir = (
  setup: {
    readonly currentContext?: string
    readonly config?: string
    readonly contexts?: Record<string, { host?: string; skipTLSVerify?: boolean; tls?: Record<string, string> }>
  } = {}
): string => {
  const dir = mkdtempSync(join(tmpdir(), "effect-docker-ctx-"))
  roots.push(dir)
  if (setup.config !== undefined) writeFileSync(join(dir, "config.json"), setup.config)
  else if (setup.currentContext !== undefined) {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: {}, currentContext: setup.currentContext }))
  }
  for (const [name, context] of Object.entries(setup.contexts ?? {})) {
    const digest = createHash("sha256").update(name).digest("hex")
    const meta = join(dir, "contexts", "meta", digest)
    mkdirSync(meta, { recursive: true })
    writeFileSync(
      join(meta, "meta.json"),
      JSON.stringify({
        Name: name,
        Metadata: { Description: "test" },
        Endpoints: {
          docker: {
            ...(context.host !== undefined ? { Host: context.host } : {}),
            SkipTLSVerify: context.skipTLSVerify ?? false
          }
        }
      })
    )
    if (context.tls !== undefined) {
      const tls = join(dir, "contexts", "tls", digest, "docker")
      mkdirSync(tls, { recursive: true })
      for (const [file, text] of Object.entries(context.tls)) writeFileSync(join(tls, file), text)
    }
  }
  return dir
}

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

const PEM = {
  "ca.pem": "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
  "cert.pem": "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n",
  "key.pem": "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n"
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
    const home = mkdtempSync(join(tmpdir(), "effect-docker-home-"))
    roots.push(home)
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
    const certs = mkdtempSync(join(tmpdir(), "effect-docker-certs-"))
    roots.push(certs)
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
    const certs = mkdtempSync(join(tmpdir(), "effect-docker-certs-"))
    roots.push(certs)
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
    const certs = mkdtempSync(join(tmpdir(), "effect-docker-certs-"))
    roots.push(certs)
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
    const certs = mkdtempSync(join(tmpdir(), "effect-docker-certs-"))
    roots.push(certs)
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

describe("engineOptionsFromEnv reads the environment through the ConfigProvider", () => {
  it.effect("context host, TLS and DOCKER_API_VERSION", () =>
    Effect.gen(function*() {
      const dir = configDir({ currentContext: "remote", contexts: { remote: { host: "ssh://me@box", tls: PEM } } })
      const options = yield* engineOptionsFromEnv.pipe(
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnv({ env: { DOCKER_CONFIG: dir, DOCKER_API_VERSION: "1.41" } })
        )
      )
      expect(options.host).toBe("ssh://me@box")
      expect(options.apiVersion).toBe("1.41")
      expect(options.tls?.verify).toBe(true)
    }))

  it.effect("a missing context fails with EndpointError", () =>
    Effect.gen(function*() {
      const error = yield* engineOptionsFromEnv.pipe(
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnv({ env: { DOCKER_CONFIG: configDir(), DOCKER_CONTEXT: "absent" } })
        ),
        Effect.flip
      )
      expect(error._tag).toBe("EndpointError")
    }))
})
