/**
 * Plugins on real engines, with a managed plugin made here (test/support/plugin-fixture.ts: a
 * static C program answering the handshake, a dummy-kind config.json, a tar from `packTar` sent
 * as a Stream through the generated `PluginCreate` descriptor). Every read goes through the
 * lossless probe; every plugin is disabled and force-removed when its test's scope closes.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import type { OperationDescriptor } from "../../src/core/descriptor.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { PluginDelete } from "../../src/generated/operations/plugin/PluginDelete.js"
import { PluginDisable } from "../../src/generated/operations/plugin/PluginDisable.js"
import { PluginEnable } from "../../src/generated/operations/plugin/PluginEnable.js"
import { PluginInspect } from "../../src/generated/operations/plugin/PluginInspect.js"
import { PluginList } from "../../src/generated/operations/plugin/PluginList.js"
import { PluginSet } from "../../src/generated/operations/plugin/PluginSet.js"
import { currentEngine } from "../support/engines.js"
import { losslessProbe } from "../support/lossless.js"
import { dummyPluginConfig, pluginDirectory, scopedPlugin } from "../support/plugin-fixture.js"

const target = currentEngine()
const Engine = DockerEngine.layer({ host: target.host })
const compared = new Set<string>()

const live = (
  name: string,
  body: (engine: DockerEngineShape) => Effect.Effect<void, unknown, Scope.Scope>,
  timeout = 90_000
) =>
  it.live(
    name,
    () =>
      Effect.flatMap(DockerEngine, (engine) => {
        const probe = losslessProbe(engine)
        return Effect.andThen(
          body(probe.engine),
          Effect.sync(() => {
            for (const op of probe.compared()) compared.add(op)
            expect(probe.unexplained()).toEqual([])
          })
        )
      }).pipe(Effect.scoped, Effect.provide(Engine)),
    timeout
  )

/** An answer read the way its descriptor says (decoded JSON, or nothing): what a generic caller does. */
const asDescribed = (engine: DockerEngineShape, descriptor: OperationDescriptor, args: Record<string, unknown>) =>
  descriptor.response.kind === "json"
    ? Effect.asVoid(engine.json(descriptor, args as never))
    : engine.empty(descriptor, args as never)

describe(`plugins (${target.id})`, () => {
  afterAll(() => {
    expect([...compared].sort()).toEqual(expect.arrayContaining(["PluginInspect", "PluginList"]))
  })

  live(
    "a locally made plugin: created from a streamed tar, set, enabled without timeout, disabled, deleted",
    (engine) =>
      Effect.gen(function*() {
        const dir = yield* pluginDirectory
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
      const dir = yield* pluginDirectory
      const { name } = yield* scopedPlugin(engine, dir)
      const answer = yield* engine.raw(PluginDelete, { name })
      expect(answer.status).toBe(200)
      expect(answer.body).toBe("")
      expect((yield* engine.json(PluginList)).map((p) => p.Name)).not.toContain(name)
    }))
})
