// Watch the daemon's events while a container is created, started and removed: the event stream
// is a Stream like any other; taking what we need closes its connection. The `event` filter picks
// the actions to show (Podman also sends `init` and `cleanup`, Docker `attach`, `destroy`...).
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, System } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"

const image = process.env.IMAGE ?? "busybox"
const label = `example.events=${process.pid}`

const program = Effect.gen(function*() {
  const system = yield* System
  const containers = yield* Containers
  const watcher = yield* system.events({
    filters: { type: ["container"], label: [label], event: ["create", "start", "die"] }
  }).pipe(
    Stream.take(3),
    Stream.runForEach((event) => Console.log(`event: ${event.Action}`)),
    Effect.forkChild
  )
  yield* Effect.sleep("200 millis") // the subscription is in place before anything happens
  yield* containers.run({ Image: image, Cmd: ["true"], Labels: { "example.events": String(process.pid) } }, {
    remove: true
  })
  yield* Fiber.join(watcher)
}).pipe(Effect.timeout("1 minute"), Effect.provide(Docker.layerFromEnv))

runMain(program)
