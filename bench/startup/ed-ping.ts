// The README's first example with deep imports of the Effect modules it uses, asking for a ping.
// A child of bench/startup.ts.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Docker, System } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  const system = yield* System
  const ping = yield* system.ping()
  yield* Console.log(`OK API ${ping.apiVersion}`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
