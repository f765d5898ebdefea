// The README's first example as it was written (package-root imports of `effect` and
// `@effect/platform-node`), asking for a ping. A child of bench/startup.ts.
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Docker, System } from "effect-docker"

const program = Effect.gen(function*() {
  const system = yield* System
  const ping = yield* system.ping()
  yield* Console.log(`OK API ${ping.apiVersion}`)
}).pipe(Effect.provide(Docker.layerFromEnv))

NodeRuntime.runMain(program)
