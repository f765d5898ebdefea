// `containers.list` the README's way (deep imports). A child of bench/startup.ts.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  const containers = yield* Containers
  const list = yield* containers.list({ all: true })
  yield* Console.log(`OK ${list.length} containers`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
