/**
 * Every transport against the same real engine: the unix socket, TCP+TLS (the engine's
 * `--tlsverify` listener), ssh (a private sshd whose sessions reach this engine, through the
 * system `ssh` and `docker system dial-stdio`), and a CLI context pointing at the TLS listener.
 * All of them must give the same answer as the unix socket.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { contextDigest } from "../../src/docker-cli/context.js"
import { Docker, System } from "../../src/index.js"
import { currentEngine, engineEnv, engineKey, HOW_TO_START } from "../support/engines.js"
import { onPodman, podmanOr } from "../support/podman-limitations.js"

const target = currentEngine()
const env = engineEnv()
const key = engineKey(target.id)
const need = (key: string): string => {
  const value = env[key]
  if (value === undefined || value === "") {
    throw new Error(`${key} is not set: the test engines were started without TLS/ssh listeners. ${HOW_TO_START}`)
  }
  return value
}
// Podman's service has no TLS listener (test/support/podman-limitations.ts, "tls").
const tlsHost = onPodman ? "" : need(`${key}_TLS`)
const sshHost = need(`${key}_SSH`)
const certPath = onPodman ? "" : need("EFFECT_DOCKER_TLS_CERT_PATH")
const otherCa = onPodman ? "" : need("EFFECT_DOCKER_TLS_OTHER_CA")
const sshConfig = need("EFFECT_DOCKER_SSH_CONFIG")

/** `System.version()` through a layer built (and closed) here. */
const versionVia = <E>(layer: Layer.Layer<System, E>) =>
  Effect.scoped(Effect.flatMap(Layer.build(layer), (context) =>
    Effect.provide(
      Effect.flatMap(System, (system) => system.version()),
      context
    )))

const unixVersion = versionVia(Docker.layer({ host: target.host }))

/** Pids of `ssh` processes whose parent is this process. */
const sshChildren = (): Array<number> =>
  readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8")
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      return comm === "ssh" && ppid === process.pid ? [Number(p)] : []
    } catch {
      return []
    }
  })

describe(`transports to engine ${target.id}`, () => {
  if (onPodman) {
    it.live("TLS: Podman has no TLS listener (podman-limitations: tls)", () => podmanOr("tls", Effect.void))
  } else {
    describe(`TLS (${tlsHost}, --tlsverify)`, () => {
      it.live("version over TLS with verification equals the unix socket's answer", () =>
        Effect.gen(function*() {
          const overTls = yield* versionVia(Docker.layer({ host: tlsHost, tls: { certPath } }))
          expect(overTls).toEqual(yield* unixVersion)
          if (target.version !== undefined) expect(overTls.Version).toBe(target.version)
        }))

      it.live("https:// with explicit PEM material works too", () =>
        Effect.gen(function*() {
          const read = (f: string) => readFileSync(join(certPath, f))
          const version = yield* versionVia(Docker.layer({
            host: tlsHost.replace(/^tcp:/, "https:"),
            tls: { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") }
          }))
          expect(version.ApiVersion).toBe((yield* unixVersion).ApiVersion)
        }))

      it.live("a client without a certificate is refused with a ConnectionError", () =>
        Effect.gen(function*() {
          const error = yield* versionVia(Docker.layer({
            host: tlsHost,
            tls: { ca: readFileSync(join(certPath, "ca.pem")) },
            retry: false
          })).pipe(Effect.flip)
          expect(error._tag).toBe("ConnectionError")
          expect(error.message).toContain(tlsHost.replace(/^tcp:/, "https:"))
          expect(error.message).toContain("requires a client certificate")
        }))

      it.live("a daemon certificate from another CA fails verification (ConnectionError)", () =>
        Effect.gen(function*() {
          const error = yield* versionVia(Docker.layer({
            host: tlsHost,
            tls: { certPath, ca: readFileSync(otherCa) },
            retry: false
          })).pipe(Effect.flip)
          expect(error._tag).toBe("ConnectionError")
          expect(error.message).toContain("verification")
          expect((error as { code?: string }).code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
        }))

      it.live("verify: false accepts the unknown CA (DOCKER_TLS without DOCKER_TLS_VERIFY)", () =>
        Effect.gen(function*() {
          const version = yield* versionVia(Docker.layer({
            host: tlsHost,
            tls: { certPath, ca: readFileSync(otherCa), verify: false }
          }))
          expect(version.Version).toBe((yield* unixVersion).Version)
        }))

      // Go's TLS listener answers plain HTTP with 400 "Client sent an HTTP request to an HTTPS server.".
      for (const apiVersion of [undefined, "1.41"]) {
        it.live(`plain HTTP to the TLS port (${apiVersion === undefined ? "negotiating" : "pinned"}) says TLS is needed`, () =>
          Effect.gen(function*() {
            const error = yield* versionVia(Docker.layer({ host: tlsHost, apiVersion, retry: false })).pipe(Effect.flip)
            expect(error._tag).toBe("ConnectionError")
            if (error._tag !== "ConnectionError") return
            expect(error.operation).toBe(apiVersion === undefined ? "SystemPing" : "SystemVersion")
            expect(error.endpoint).toBe(tlsHost)
            expect(error.message).toBe(
              `${error.operation}: the daemon at ${tlsHost} speaks TLS, but the request was plain HTTP (it answered ` +
                `"Client sent an HTTP request to an HTTPS server."). Use tcp:// with TLS (DOCKER_TLS_VERIFY=1 and ` +
                "DOCKER_CERT_PATH, or the layer's tls option) or https://."
            )
          }))
      }

      it.live("a missing certificate directory fails the layer with an EndpointError naming the file", () =>
        Effect.gen(function*() {
          const error = yield* versionVia(Docker.layer({ host: tlsHost, tls: { certPath: "/nonexistent/certs" } }))
            .pipe(
              Effect.flip
            )
          expect(error._tag).toBe("EndpointError")
          expect(error.message).toContain("/nonexistent/certs/ca.pem")
        }))
    })
  }

  describe(`ssh (${sshHost})`, () => {
    const ssh = { options: ["-F", sshConfig] }

    it.live("version over ssh equals the unix socket's answer, and no ssh process outlives the layer", () =>
      Effect.gen(function*() {
        const before = sshChildren()
        const during = yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(Docker.layer({ host: sshHost, ssh }))
          const version = yield* Effect.provide(Effect.flatMap(System, (s) => s.version()), context)
          return { version, children: sshChildren() }
        }))
        expect(during.version).toEqual(yield* unixVersion)
        // The check sees our children while the layer lives…
        expect(during.children.filter((pid) => !before.includes(pid)).length).toBeGreaterThan(0)
        // …and none once its scope closed (the finalizer waits for each to exit).
        expect(sshChildren().filter((pid) => !before.includes(pid))).toEqual([])
      }))

    it.live("an unreachable ssh host is a ConnectionError with ssh's own words, not a hang", () =>
      Effect.gen(function*() {
        // A port nothing listens on (the TLS port + 1000 is never used by the engines script).
        // (Podman has no TLS port: its ssh port + 1000, equally unused.)
        const port = Number(new URL(onPodman ? sshHost : tlsHost).port) + 1000
        const error = yield* versionVia(Docker.layer({ host: `ssh://root@127.0.0.1:${port}`, ssh, retry: false })).pipe(
          Effect.flip,
          Effect.timeout("20 seconds")
        )
        expect(error._tag).toBe("ConnectionError")
        expect((error as { code?: string }).code).toBe("SSH_FAILED")
        expect(error.message).toMatch(/Connection refused/)
        expect(sshChildren()).toEqual([])
      }))

    it.live("an ssh key the server does not accept is a ConnectionError carrying ssh's stderr", () =>
      Effect.gen(function*() {
        const error = yield* versionVia(Docker.layer({
          host: sshHost,
          retry: false,
          ssh: {
            options: [
              "-F",
              "/dev/null",
              "-o",
              "IdentitiesOnly=yes",
              "-i",
              "/nonexistent/key",
              "-o",
              "StrictHostKeyChecking=no",
              "-o",
              "UserKnownHostsFile=/dev/null"
            ]
          }
        })).pipe(Effect.flip, Effect.timeout("20 seconds"))
        expect(error._tag).toBe("ConnectionError")
        expect(error.message).toContain("Permission denied")
      }))
  })

  if (onPodman) {
    it.live("contexts pointing at the TLS listener: Podman has no TLS listener (podman-limitations: tls)", () =>
      podmanOr("tls", Effect.void))
  } else {
    describe("contexts", () => {
      /** A DOCKER_CONFIG with one context pointing at the TLS listener, as `docker context create` makes it. */
      const makeConfig = (name: string, current: boolean): string => {
        const dir = mkdtempSync(join(tmpdir(), "effect-docker-it-ctx-"))
        const digest = contextDigest(name)
        mkdirSync(join(dir, "contexts", "meta", digest), { recursive: true })
        writeFileSync(
          join(dir, "contexts", "meta", digest, "meta.json"),
          JSON.stringify({
            Name: name,
            Metadata: {},
            Endpoints: { docker: { Host: tlsHost, SkipTLSVerify: false } }
          })
        )
        const tlsDir = join(dir, "contexts", "tls", digest, "docker")
        mkdirSync(tlsDir, { recursive: true })
        for (const f of ["ca.pem", "cert.pem", "key.pem"]) copyFileSync(join(certPath, f), join(tlsDir, f))
        if (current) writeFileSync(join(dir, "config.json"), JSON.stringify({ currentContext: name }))
        return dir
      }
      const fromEnv = (vars: Record<string, string>) =>
        Docker.layerFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: vars }))))

      it.live("DOCKER_CONTEXT → a context with TLS material → the engine, end to end", () =>
        Effect.gen(function*() {
          const dir = makeConfig("tls-test", false)
          try {
            const version = yield* versionVia(fromEnv({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "tls-test" }))
            expect(version).toEqual(yield* unixVersion)
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        }))

      it.live("config.json's currentContext, and DOCKER_HOST overriding it", () =>
        Effect.gen(function*() {
          const dir = makeConfig("current", true)
          try {
            expect((yield* versionVia(fromEnv({ DOCKER_CONFIG: dir }))).Version).toBe((yield* unixVersion).Version)
            // DOCKER_HOST wins: the default context, here the unix socket.
            const viaHost = yield* versionVia(fromEnv({ DOCKER_CONFIG: dir, DOCKER_HOST: target.host }))
            expect(viaHost).toEqual(yield* unixVersion)
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        }))

      it.live("the default context with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH", () =>
        Effect.gen(function*() {
          const version = yield* versionVia(fromEnv({
            DOCKER_HOST: tlsHost,
            DOCKER_TLS_VERIFY: "1",
            DOCKER_CERT_PATH: certPath,
            DOCKER_CONFIG: "/nonexistent/docker-config"
          }))
          expect(version).toEqual(yield* unixVersion)
        }))
    })
  }
})
