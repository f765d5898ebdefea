// Run processes inside a running container: an argv (never split on spaces) with its exit code
// and output, and one that reads what we write to its stdin.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, Exec } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const image = process.env.IMAGE ?? "busybox"

const program = Effect.scoped(Effect.gen(function*() {
  const containers = yield* Containers
  const exec = yield* Exec
  const box = yield* containers.runScoped({ Image: image, Cmd: ["sleep", "300"] })
  const who = yield* exec.run(box.id, ["sh", "-c", "echo uid=$(id -u); exit 4"])
  yield* Console.log(`exit code ${who.exitCode}, ${who.stdout.trim()}`)
  const counted = yield* exec.run(box.id, ["wc", "-l"], { stdin: "one\ntwo\nthree\n" })
  yield* Console.log(`wc -l read ${counted.stdout.trim()} lines from stdin`)
})).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
