// Run a command in a new container and collect its exit code, stdout and stderr apart
// (docker-py's `containers.run` without `detach`). The container is removed afterwards, also on
// failure or interruption. IMAGE: a local image with a shell (default `busybox`).
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const image = process.env.IMAGE ?? "busybox"

const program = Effect.gen(function*() {
  const containers = yield* Containers
  const result = yield* containers.run(
    { Image: image, Cmd: ["sh", "-c", "echo to stdout; echo to stderr >&2; exit 3"] },
    { remove: true }
  )
  yield* Console.log(`exit code ${result.exitCode}`)
  if (result.outputRead) yield* Console.log(`stdout: ${result.stdout.trim()}\nstderr: ${result.stderr.trim()}`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
