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
})
