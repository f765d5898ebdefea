// Build an image from a Dockerfile in memory, tag it for a registry, push it, and check what the
// registry stored; the local image is removed afterwards, also on failure or interruption (the
// pushed repository stays in the registry). IMAGE: a local base image (default `busybox`);
// REGISTRY: a registry without auth (default `127.0.0.1:5000`, e.g. `docker run -p 5000:5000
// registry:2`); LABELS: `key=value,…` put on the image (default `example=build-and-push`).
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Docker, Images, packTar } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const image = process.env.IMAGE ?? "busybox"
const registry = process.env.REGISTRY ?? "127.0.0.1:5000"
const labels: Record<string, string> = Object.fromEntries(
  (process.env.LABELS ?? "example=build-and-push").split(",").map((label) => label.split("="))
)
// One repository for the example, a tag per run: a registry keeps what was pushed to it.
const reference = `${registry}/effect-docker-examples/hello:run-${Date.now().toString(36)}`

const program = Effect.scoped(Effect.gen(function*() {
  const images = yield* Images
  const dockerfile = `FROM ${image}\nRUN echo "built by effect-docker" > /hello.txt\nCMD ["cat", "/hello.txt"]\n`
  const built = yield* Effect.acquireRelease(
    images.build({ tar: packTar([{ name: "Dockerfile", content: dockerfile }]) }, {
      t: [reference],
      labels
    }),
    (result) => Effect.ignore(images.remove(result.imageId, { force: true })) // every tag of it, too
  )
  const inspected = yield* images.inspect(built.imageId)
  const shown = Object.entries(inspected.Config?.Labels ?? {}).map(([key, value]) => `${key}=${value}`).join(",")
  yield* Console.log(`built ${built.imageId.slice(0, 19)} (labels ${shown}), tagged ${built.tags.join(", ")}`)

  // A registry without auth: send no credentials (the default looks them up as the CLI does).
  const pushed = yield* images.push(reference, { auth: "anonymous" })
  yield* Console.log(`pushed ${reference}: ${pushed.digest}`)
  // Asking the registry through the daemon: Podman has no such endpoint (UnsupportedByEngine).
  yield* images.distribution(reference, { auth: "anonymous" }).pipe(
    Effect.flatMap((stored) => Console.log(`the registry serves ${stored.Descriptor?.digest}`)),
    Effect.catchTag("UnsupportedByEngine", (error) => Console.log(`the registry is not asked: ${error.engine} cannot`))
  )
})).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
