/**
 * Byte bodies at the descriptor level (`engine.empty(PluginCreate, { name, body })`): a `Uint8Array`,
 * an `AsyncIterable` or an Effect `Stream` is sent as it is, and a `Stream` that fails fails the
 * call with its own error (typed: the call's error type includes it), not a connection error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Data, Effect, Layer, Stream } from "effect"
import type { DockerError } from "../../../src/core/errors.js"
import { DockerEngine } from "../../../src/engine/engine.js"
import { ImageLoad } from "../../../src/generated/operations/image/ImageLoad.js"
import { PluginCreate } from "../../../src/generated/operations/plugin/PluginCreate.js"
import { empty, jsonLines, routes, runScripted } from "../../support/scripted-daemon.js"

class TarBroke extends Data.TaggedError("TarBroke")<{ readonly at: number }> {}

const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]
const daemonRoutes = routes({
  "POST /plugins/create": empty(204),
  "POST /images/load": jsonLines({ stream: "Loaded image: x:1\n" })
})
const onEngine = <A, E>(program: (engine: DockerEngine["Service"]) => Effect.Effect<A, E>) =>
  runScripted(daemonRoutes, Layer.effect(DockerEngine)(DockerEngine), Effect.flatMap(DockerEngine, program))

describe("byte bodies given to the engine", () => {
  it.live("a byte Stream is sent as the body, as it flows", () =>
    Effect.gen(function*() {
      const { daemon } = yield* onEngine((engine) =>
        engine.empty(PluginCreate, { name: "p:1", body: Stream.fromIterable(chunks) })
      )
      const request = daemon.only("POST /plugins/create")
      expect(Object.fromEntries(request.query)).toEqual({ name: "p:1" })
      expect(request.headers["content-type"]).toBe("application/x-tar")
      expect([...request.body]).toEqual([1, 2, 3, 4, 5])
    }))

  it.live("a Uint8Array and an AsyncIterable too", () =>
    Effect.gen(function*() {
      async function* iterable() {
        yield* chunks
      }
      const { daemon } = yield* onEngine((engine) =>
        Effect.andThen(
          engine.empty(PluginCreate, { name: "a", body: new Uint8Array([9, 8]) }),
          engine.empty(PluginCreate, { name: "b", body: iterable() })
        )
      )
      expect(daemon.requests().map((r) => [r.query.get("name"), [...r.body]])).toEqual([
        ["a", [9, 8]],
        ["b", [1, 2, 3, 4, 5]]
      ])
    }))

  it.live("a Stream that fails fails the call with its own error, not a connection error", () =>
    Effect.gen(function*() {
      const broken = Stream.concat(Stream.fromIterable(chunks), Stream.fail(new TarBroke({ at: 5 })))
      const { result } = yield* onEngine((engine) => {
        const call: Effect.Effect<void, DockerError | TarBroke> = engine.empty(PluginCreate, {
          name: "p",
          body: broken
        })
        return Effect.flip(call)
      })
      expect(result).toEqual(new TarBroke({ at: 5 }))
    }))

  it.live("so does a message stream's (ImageLoad), and a good one reads the daemon's messages", () =>
    Effect.gen(function*() {
      const broken = Stream.concat(Stream.fromIterable(chunks), Stream.fail(new TarBroke({ at: 5 })))
      const { result } = yield* onEngine((engine) =>
        Effect.all([
          Stream.runCollect(engine.messages(ImageLoad, { quiet: false, body: Stream.fromIterable(chunks) })),
          Effect.flip(Stream.runCollect(engine.messages(ImageLoad, { body: broken })))
        ])
      )
      expect(result).toEqual([[{ stream: "Loaded image: x:1\n" }], new TarBroke({ at: 5 })])
    }))
})
