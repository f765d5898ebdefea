// Start a container and follow its logs until a line says it is ready, then stop reading (the
// log connection closes) and leave: the container is removed with the scope.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, stdoutLines } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const image = process.env.IMAGE ?? "busybox"

const program = Effect.scoped(Effect.gen(function*() {
  const containers = yield* Containers
  const server = yield* containers.runScoped({
    Image: image,
    Cmd: ["sh", "-c", "echo starting; sleep 0.2; echo ready on 8080; exec sleep 300"]
  })
  const seen = yield* server.output.pipe(
    stdoutLines,
    Stream.tap((line) => Console.log(`log: ${line}`)),
    Stream.takeUntil((line) => line.startsWith("ready")),
    Stream.runCollect
  )
  yield* Console.log(`ready after ${seen.length} lines`)
})).pipe(Effect.timeout("1 minute"), Effect.provide(Docker.layerFromEnv))

runMain(program)
