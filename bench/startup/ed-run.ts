// `Containers.run` of busybox `echo hi`, removed afterwards. A child of bench/startup.ts.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const image = process.env.BENCH_IMAGE ?? "busybox:local"
const program = Effect.gen(function*() {
  const containers = yield* Containers
  const r = yield* containers.run({ Image: image, Cmd: ["echo", "hi"], HostConfig: { NetworkMode: "none" } }, {
    remove: true
  })
  yield* Console.log(`OK ${r.exitCode} ${(r.stdout ?? "").trim()}`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
