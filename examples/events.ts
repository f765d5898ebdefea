// Watch the daemon's events while a container is created, started and removed: the event stream
// is a Stream like any other; taking what we need closes its connection. Only the actions shown
// are kept (Podman also sends `init` and `cleanup`; its `event=die` filter does not match, since
// it calls that action `died` inside, so they are picked here rather than by the daemon).
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
  const watcher = yield* system.events({ filters: { type: ["container"], label: [label] } }).pipe(
    Stream.filter((event) => ["create", "start", "die"].includes(event.Action ?? "")),
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
