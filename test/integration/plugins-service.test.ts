/**
 * The `Plugins` service on a real engine, with the locally built dummy plugin
 * (test/support/plugin-fixture.ts): every method, asserting what the daemon holds afterwards.
 * Plugins cannot carry labels: their names start with this run's prefix, and each is disabled
 * and force-removed in a finalizer.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DockerEngine } from "../../src/engine/engine.js"
import { Plugins, type PluginsShape, registryCredentials } from "../../src/index.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { losslessEngineLayer } from "../support/lossless.js"
import { dummyPluginConfig, pluginDirectory, removePlugin } from "../support/plugin-fixture.js"
import { onPodman, podmanOr } from "../support/podman-limitations.js"
import { uniqueName } from "../support/resources.js"

const target = currentEngine()
const env = engineEnv()
const REGISTRY = env.EFFECT_DOCKER_REGISTRY ?? "127.0.0.1:5000"
const auth = registryCredentials({
  username: env.EFFECT_DOCKER_REGISTRY_USER ?? "testuser",
  password: env.EFFECT_DOCKER_REGISTRY_PASSWORD ?? "testpass",
  serverAddress: REGISTRY
})
// No config.json of the machine's is ever read: an empty Docker config directory.
const emptyConfig = mkdtempSync(join(tmpdir(), "ed-plugins-cfg-"))
process.on("exit", () => rmSync(emptyConfig, { recursive: true, force: true }))
// Every read (list, inspect, privileges) through the lossless probe: what the daemon sent, decoded.
const lossless = losslessEngineLayer(target.host)
const Live = Layer.provideMerge(
  Plugins.layerWith({ credentials: { configDir: emptyConfig, env: {} } }),
  lossless.layer
)

const live = (
  name: string,
  body: (plugins: PluginsShape) => Effect.Effect<void, unknown, Scope.Scope | DockerEngine>
) =>
  // Podman has no plugins API: each test asserts that instead (podman-limitations: plugins).
  onPodman && name !== "a directory without config.json is refused before anything is sent"
    ? it.live(name, () => podmanOr("plugins", Effect.void))
    : it.live(name, () => Effect.flatMap(Plugins, body).pipe(Effect.scoped, Effect.provide(Live)), 120_000)

/** A plugin name removed (disabled, force-removed) when the test's scope closes. */
const owned = (name: string) =>
  Effect.andThen(
    Effect.flatMap(DockerEngine, (engine) => Effect.addFinalizer(() => removePlugin(engine, name))),
    Effect.succeed(name)
  )

describe(`Plugins service on engine ${target.id}`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  live("create from a directory, configure, enable, disable, remove", (plugins) =>
    Effect.gen(function*() {
      const name = yield* owned(`${uniqueName("psvc")}:1`)
      yield* plugins.create(name, { directory: yield* pluginDirectory() })
      const created = yield* plugins.inspect(name)
      expect(created.Name).toBe(name)
      expect(created.Enabled).toBe(false)

      yield* plugins.configure(name, { DUMMY_MODE: "loud" })
      expect((yield* plugins.inspect(name)).Settings?.Env).toContain("DUMMY_MODE=loud")

      yield* plugins.enable(name) // the timeout is sent for us (E28)
      expect((yield* plugins.inspect(name)).Enabled).toBe(true)
      expect((yield* plugins.list({ filters: { enabled: ["true"] } })).map((p) => p.Name)).toContain(name)
      yield* plugins.disable(name, { force: true })
      expect((yield* plugins.inspect(name)).Enabled).toBe(false)

      yield* plugins.remove(name)
      expect((yield* plugins.list()).map((p) => p.Name)).not.toContain(name)
      expect((yield* Effect.flip(plugins.inspect(name)))._tag).toBe("NotFound")
    }))

  live("a directory without config.json is refused before anything is sent", (plugins) =>
    Effect.gen(function*() {
      const empty = mkdtempSync(join(tmpdir(), "ed-plugin-empty-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(empty, { recursive: true, force: true })))
      const error = yield* Effect.flip(plugins.create(`${uniqueName("psvc")}:1`, { directory: empty }))
      expect(error).toMatchObject({ _tag: "InvalidArgumentError", operation: "PluginCreate", argument: "directory" })
    }))

  live(
    "push, privileges, pull (privileges fetched), upgrade, through the registry with credentials",
    (plugins) =>
      Effect.gen(function*() {
        const repository = `${REGISTRY}/${uniqueName("psvc")}`
        const v1 = yield* owned(`${repository}:1`)
        const v2 = yield* owned(`${repository}:2`)
        const v2Config = {
          ...dummyPluginConfig,
          Description: "effect-docker test plugin, v2",
          Linux: { ...dummyPluginConfig.Linux, Capabilities: ["CAP_NET_BIND_SERVICE"] }
        }
        yield* plugins.create(v1, { directory: yield* pluginDirectory() })
        yield* plugins.create(v2, { directory: yield* pluginDirectory(v2Config) })
        const pushed = yield* plugins.push(v1, { auth })
        expect(pushed?.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
        yield* plugins.push(v2, { auth })
        yield* plugins.remove(v1, { force: true })
        yield* plugins.remove(v2, { force: true })

        expect(yield* plugins.privileges(v1, { auth })).toEqual([]) // the daemon's null (E30)
        expect(yield* plugins.privileges(v2, { auth })).toEqual([
          { Name: "capabilities", Description: expect.any(String), Value: ["CAP_NET_BIND_SERVICE"] }
        ])

        const pulled = yield* plugins.pull(v1, { auth })
        expect(pulled.PluginReference).toBe(v1)
        expect(pulled.Enabled).toBe(false)
        // The upgrade needs v2's capability: fetched from the registry, not given.
        const upgraded = yield* plugins.upgrade(v1, v2, { auth })
        expect(upgraded.Id).toBe(pulled.Id)
        expect(upgraded.PluginReference).toBe(v2)
        expect(upgraded.Config?.Linux?.Capabilities).toEqual(["CAP_NET_BIND_SERVICE"])
      })
  )
})
