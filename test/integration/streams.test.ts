import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Stream } from "effect"
import { SystemEvents } from "../../src/generated/operations/system/SystemEvents.js"
import { DockerEngine } from "../../src/index.js"
import { countingProxy } from "../support/counting-proxy.js"
import { currentEngine } from "../support/engines.js"
import { pollUntil, scopedContainer, uniqueName } from "../support/resources.js"

const target = currentEngine()

describe(`streams on engine ${target.id}`, () => {
  it.live("a consumer that stops early closes its connection to the daemon", () =>
    Effect.gen(function*() {
      // The events stream goes through a proxy that counts its connections; the container that
      // makes the event is created directly, so the proxy sees only the stream. A container's
      // create, not a volume's: Podman's volume events carry no Actor.ID, so its `volume=<name>`
      // filter rarely matches (podman-limitations: events-past-until).
      const proxy = yield* countingProxy(target.host)
      const direct = yield* DockerEngine
      // This engine lives as long as the test's scope (its pool is the one under observation).
      const engine = Context.get(yield* Layer.build(DockerEngine.layer({ host: proxy.host })), DockerEngine)
      const since = String(Math.floor(Date.now() / 1000) - 1)
      const name = uniqueName("events")
      const first = yield* engine.messages(SystemEvents, {
        since,
        filters: { type: ["container"], container: [name], event: ["create"] }
      }).pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      // Wait until the stream is really open at the daemon, then make the event it waits for.
      yield* pollUntil(Effect.sync(() => proxy.openConnections()), (n) => n >= 1, { what: "events connection" })
      const container = yield* scopedContainer(direct, { HostConfig: { NetworkMode: "none" } }, name)
      const events = yield* Fiber.join(first).pipe(Effect.timeout("20 seconds"))
      expect(events.map((e) => [e.Type, e.Action, e.Actor?.ID])).toEqual([["container", "create", container.id]])
      // take(1) ended the stream: its connection is closed, not left to idle in the pool.
      yield* pollUntil(Effect.sync(() => proxy.openConnections()), (n) => n === 0, { what: "closed connections" })
    }).pipe(Effect.scoped, Effect.provide(DockerEngine.layer({ host: target.host }))))
})
