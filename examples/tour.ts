/**
 * The tour: what effect-docker does, against the engine at $DOCKER_HOST (default
 * /var/run/docker.sock). Run it with `bash scripts/tour.sh`. It grows as the library does.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Docker, DockerEngine, System } from "effect-docker"

const row = (label: string, value: string) => Console.log(`  ${label.padEnd(12)} ${value}`)

const tour = Effect.gen(function*() {
  const engine = yield* DockerEngine
  const system = yield* System

  yield* Console.log("effect-docker tour")
  yield* row("daemon", engine.address)

  // The first call negotiates the API version once (HEAD /_ping), as the Docker CLI does.
  const version = yield* system.version()
  yield* row("engine", `Docker ${version.Version} (${version.Os}/${version.Arch}), API ${version.ApiVersion}`)
  yield* row("negotiated", `API ${yield* engine.apiVersion}`)

  const info = yield* system.info()
  yield* row(
    "containers",
    `${info.Containers} (${info.ContainersRunning} running, ${info.ContainersPaused} paused, ${info.ContainersStopped} stopped)`
  )
  yield* row("images", String(info.Images))
  yield* row("system", `${info.OperatingSystem ?? "?"}, ${info.NCPU ?? "?"} CPUs, storage driver ${info.Driver ?? "?"}`)
})

const main = tour.pipe(
  // Typed errors: each failure names the operation and what the daemon (or the socket) said.
  Effect.catchTags({
    ConnectionError: (e) => Console.error(`${e.message}`).pipe(Effect.andThen(Effect.fail(e))),
    ApiVersionError: (e) => Console.error(`${e.message}`).pipe(Effect.andThen(Effect.fail(e)))
  }),
  Effect.provide(Docker.layerFromEnv)
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
