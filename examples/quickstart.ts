import { runMain } from "@effect/platform-node/NodeRuntime"
import { Docker, System } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  const system = yield* System
  const version = yield* system.version()
  const info = yield* system.info()
  yield* Console.log(`Docker ${version.Version}, API ${version.ApiVersion}: ${info.Containers} containers`)
}).pipe(
  Effect.catchTag("ConnectionError", (e) => Console.error(e.message)),
  Effect.provide(Docker.layerFromEnv) // DOCKER_HOST and DOCKER_API_VERSION, as the docker CLI reads them
)

runMain(program)
