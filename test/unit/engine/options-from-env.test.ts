import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { afterAll } from "vitest"
import { engineOptionsFromEnv } from "../../../src/engine/options-from-env.js"
import { configDir, PEM, removeConfigDirs } from "../../support/docker-config.js"

afterAll(removeConfigDirs)

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

  it.effect("without a provided ConfigProvider: the environment, as ConfigProvider.fromEnv reads it", () =>
    Effect.gen(function*() {
      const saved = { ...process.env }
      process.env["DOCKER_CONFIG"] = configDir()
      process.env["DOCKER_HOST"] = "tcp://127.0.0.1:2375"
      process.env["DOCKER_API_VERSION"] = "1.43"
      process.env["DOCKER_CONTEXT"] = ""
      delete process.env["DOCKER_TLS_VERIFY"]
      delete process.env["DOCKER_CERT_PATH"]
      delete process.env["DOCKER_TLS"]
      const options = yield* Effect.ensuring(
        engineOptionsFromEnv,
        Effect.sync(() => {
          for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
          Object.assign(process.env, saved)
        })
      )
      // an empty variable is unset (DOCKER_CONTEXT=""), as the default provider reads it
      expect(options).toEqual({ host: "tcp://127.0.0.1:2375", apiVersion: "1.43", tls: undefined })
    }))

  it.effect("a provider's failure is a Config.ConfigError", () =>
    Effect.gen(function*() {
      const failing = ConfigProvider.make(() => Effect.fail(new ConfigProvider.SourceError({ message: "vault down" })))
      const error = yield* engineOptionsFromEnv.pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, failing),
        Effect.flip
      )
      expect(error._tag).toBe("ConfigError")
      expect(error.message).toContain("vault down")
    }))
})
