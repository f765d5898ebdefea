// Two operations, ping and `containers.list`: the program whose esbuild bundle bench/startup.ts
// inspects (what of src/generated comes along). Also a child of bench/startup.ts.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, System } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  const ping = yield* (yield* System).ping()
  const list = yield* (yield* Containers).list({ all: true })
  yield* Console.log(`OK API ${ping.apiVersion}, ${list.length} containers`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
