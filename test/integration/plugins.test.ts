/**
 * Plugins on real engines, with a managed plugin made here (test/support/plugin-fixture.ts: a
 * static C program answering the handshake, a dummy-kind config.json, a tar from `packTar` sent
 * as a Stream through the generated `PluginCreate` descriptor). Every read goes through the
 * lossless probe; every plugin is disabled and force-removed when its test's scope closes.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Scope, Stream } from "effect"
import type { OperationDescriptor } from "../../src/core/descriptor.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { GetPluginPrivileges } from "../../src/generated/operations/plugin/GetPluginPrivileges.js"
import { PluginDelete } from "../../src/generated/operations/plugin/PluginDelete.js"
import { PluginDisable } from "../../src/generated/operations/plugin/PluginDisable.js"
import { PluginEnable } from "../../src/generated/operations/plugin/PluginEnable.js"
import { PluginInspect } from "../../src/generated/operations/plugin/PluginInspect.js"
import { PluginList } from "../../src/generated/operations/plugin/PluginList.js"
import { PluginPull } from "../../src/generated/operations/plugin/PluginPull.js"
import { PluginPush } from "../../src/generated/operations/plugin/PluginPush.js"
import { PluginSet } from "../../src/generated/operations/plugin/PluginSet.js"
import { PluginUpgrade } from "../../src/generated/operations/plugin/PluginUpgrade.js"
import { encodeRegistryAuth, registryCredentials } from "../../src/wire/registry-auth.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { withLosslessProbe } from "../support/lossless.js"
import { dummyPluginConfig, pluginDirectory, removePlugin, scopedPlugin } from "../support/plugin-fixture.js"
import { onPodman, podmanOr } from "../support/podman-limitations.js"
import { uniqueName } from "../support/resources.js"

const target = currentEngine()
const Engine = DockerEngine.layer({ host: target.host })
const compared = new Set<string>()
const env = engineEnv()
const REGISTRY = env.EFFECT_DOCKER_REGISTRY ?? "127.0.0.1:5000"
const registryAuth = encodeRegistryAuth(registryCredentials({
  username: env.EFFECT_DOCKER_REGISTRY_USER ?? "testuser",
  password: env.EFFECT_DOCKER_REGISTRY_PASSWORD ?? "testpass",
  serverAddress: REGISTRY
}))

/** A test with the engine behind the lossless probe; the test's scope owns what it creates. */
const live = (
  name: string,
  body: (engine: DockerEngineShape) => Effect.Effect<void, unknown, Scope.Scope>,
  timeout = 90_000
) =>
  // Podman has no plugins API: each test asserts that instead (podman-limitations: plugins).
  onPodman ? it.live(name, () => podmanOr("plugins", Effect.void)) : it.live(name, () =>
    withLosslessProbe(body).pipe(
      Effect.map((probe) => {
        for (const op of probe.compared()) compared.add(op)
        expect(probe.unexplained()).toEqual([])
      }),
      Effect.scoped,
      Effect.provide(Engine)
    ), timeout)

/** An answer read the way its descriptor says (decoded JSON, or nothing): what a generic caller does. */
const asDescribed = (engine: DockerEngineShape, descriptor: OperationDescriptor, args: Record<string, unknown>) =>
  descriptor.response.kind === "json"
    ? Effect.asVoid(engine.json(descriptor, args as never))
    : engine.empty(descriptor, args as never)

describe(`plugins (${target.id})`, () => {
  afterAll(() => {
    if (onPodman) return
    expect([...compared].sort()).toEqual(
      expect.arrayContaining(["GetPluginPrivileges", "PluginInspect", "PluginList", "PluginPull", "PluginPush"])
    )
  })

  live(
    "a locally made plugin: created from a streamed tar, set, enabled without timeout, disabled, deleted",
    (engine) =>
      Effect.gen(function*() {
        const dir = yield* pluginDirectory()
        const { name } = yield* scopedPlugin(engine, dir)

        const created = yield* engine.json(PluginInspect, { name })
        expect(created.Name).toBe(name)
        expect(created.Enabled).toBe(false)
        expect(created.Config?.Description).toBe(dummyPluginConfig.Description)
        expect(created.Config?.Entrypoint).toEqual(["/dummy"])
        expect(created.Config?.Interface?.Socket).toBe("dummy.sock")
        expect(created.Config?.Interface?.Types).toEqual(["docker.dummy/1.0"])
        expect(created.Settings?.Env).toEqual(["DUMMY_MODE=quiet"])

        // PluginSet (only while disabled: the daemon refuses to set an active plugin)
        yield* engine.empty(PluginSet, { name, body: ["DUMMY_MODE=loud"] })
        expect((yield* engine.json(PluginInspect, { name })).Settings?.Env).toEqual(["DUMMY_MODE=loud"])

        // E28: without timeout the daemon answers 500; the descriptor sends timeout=0 itself.
        const withoutTimeout = { ...PluginEnable, params: PluginEnable.params.filter((p) => p.name !== "timeout") }
        const refused = yield* Effect.flip(engine.empty(withoutTimeout, { name }))
        expect(refused).toMatchObject({ _tag: "ServerError", status: 500 })
        expect(refused.message).toContain("strconv.Atoi")
        yield* engine.empty(PluginEnable, { name })
        const enabled = yield* engine.json(PluginInspect, { name })
        expect(enabled.Enabled).toBe(true)
        expect(enabled.Settings?.Env).toEqual(["DUMMY_MODE=loud"])

        const listed = yield* engine.json(PluginList)
        const ours = listed.find((p) => p.Name === name)
        expect(ours?.Id).toBe(created.Id)
        expect(ours?.Enabled).toBe(true)
        // The daemon's filter is `enabled` (the spec's description says `enable`, which is refused).
        const byCapability = yield* engine.json(PluginList, { filters: { capability: ["dummy"], enabled: ["true"] } })
        expect(byCapability.map((p) => p.Name)).toContain(name)
        const refusedFilter = yield* Effect.flip(engine.json(PluginList, { filters: { enable: ["true"] } }))
        expect(refusedFilter).toMatchObject({ _tag: "BadRequest", status: 400 })
        expect((yield* engine.json(PluginList, { filters: { enabled: ["false"] } })).map((p) => p.Name)).not.toContain(
          name
        )

        yield* engine.empty(PluginDisable, { name })
        expect((yield* engine.json(PluginInspect, { name })).Enabled).toBe(false)

        // E29: the answer is an empty 200, read as the descriptor says without a DecodeError.
        yield* asDescribed(engine, PluginDelete, { name })
        expect((yield* engine.json(PluginList)).map((p) => p.Name)).not.toContain(name)
        const gone = yield* Effect.flip(engine.json(PluginInspect, { name }))
        expect(gone._tag).toBe("NotFound")
      })
  )

  live("PluginDelete's raw answer is 200 with an empty body (E29)", (engine) =>
    Effect.gen(function*() {
      const dir = yield* pluginDirectory()
      const { name } = yield* scopedPlugin(engine, dir)
      const answer = yield* engine.raw(PluginDelete, { name })
      expect(answer.status).toBe(200)
      expect(answer.body).toBe("")
      expect((yield* engine.json(PluginList)).map((p) => p.Name)).not.toContain(name)
    }))

  live(
    "through the registry (X-Registry-Auth): push, privileges, pull back, upgrade to a second version",
    (engine) =>
      Effect.gen(function*() {
        const repository = `${REGISTRY}/${uniqueName("plugin")}`
        const v1 = `${repository}:1`
        const v2 = `${repository}:2`
        // The second version needs a capability: GetPluginPrivileges and the pull must name it.
        const v2Config = {
          ...dummyPluginConfig,
          Description: "effect-docker test plugin, v2",
          Linux: { ...dummyPluginConfig.Linux, Capabilities: ["CAP_NET_BIND_SERVICE"] }
        }
        yield* scopedPlugin(engine, yield* pluginDirectory(), v1)
        yield* scopedPlugin(engine, yield* pluginDirectory(v2Config), v2)

        const pushed = yield* Stream.runCollect(engine.messages(PluginPush, { name: v1, registryAuth }))
        // The last message carries what the registry now holds (an in-stream error would fail the stream).
        expect(pushed.at(-1)?.aux).toMatchObject({ Tag: "1", Digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) })
        yield* Stream.runDrain(engine.messages(PluginPush, { name: v2, registryAuth }))
        // Only the registry holds them now.
        yield* removePlugin(engine, v1)
        yield* removePlugin(engine, v2)
        const left = (yield* engine.json(PluginList)).map((p) => p.Name)
        expect(left).not.toContain(v1)
        expect(left).not.toContain(v2)

        // v1 needs no privileges: both daemons answer `null` for it (E30); v2 needs its capability,
        // which the upgrade must accept.
        expect(yield* engine.json(GetPluginPrivileges, { remote: v1, registryAuth })).toBeNull()
        const privilegesV2 = (yield* engine.json(GetPluginPrivileges, { remote: v2, registryAuth })) ?? []
        expect(privilegesV2).toEqual([
          { Name: "capabilities", Description: expect.any(String), Value: ["CAP_NET_BIND_SERVICE"] }
        ])

        yield* Effect.acquireRelease(
          Stream.runDrain(engine.messages(PluginPull, { remote: v1, name: v1, registryAuth, body: [] })),
          () => removePlugin(engine, v1)
        )
        const pulled = yield* engine.json(PluginInspect, { name: v1 })
        expect(pulled.Name).toBe(v1)
        expect(pulled.PluginReference).toBe(v1)
        expect(pulled.Config?.Description).toBe(dummyPluginConfig.Description)
        expect(pulled.Enabled).toBe(false)

        yield* Stream.runDrain(
          engine.messages(PluginUpgrade, { name: v1, remote: v2, registryAuth, body: privilegesV2 })
        )
        const upgraded = yield* engine.json(PluginInspect, { name: v1 })
        expect(upgraded.Id).toBe(pulled.Id)
        expect(upgraded.PluginReference).toBe(v2)
        expect(upgraded.Config?.Description).toBe(v2Config.Description)
        expect(upgraded.Config?.Linux?.Capabilities).toEqual(["CAP_NET_BIND_SERVICE"])
        yield* engine.empty(PluginEnable, { name: v1 })
        expect((yield* engine.json(PluginInspect, { name: v1 })).Enabled).toBe(true)
      }),
    120_000
  )
})
