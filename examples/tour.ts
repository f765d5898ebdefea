/**
 * The tour: what effect-docker does, against the engine at $DOCKER_HOST (default
 * /var/run/docker.sock). Run it with `bash scripts/tour.sh`. It grows as the library does.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { Containers, Docker, DockerEngine, Images, stdioLines, System, terminalProgress } from "effect-docker"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

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

  // Build an image from a directory (a streamed tar honouring .dockerignore), drawing progress as
  // the CLI does when stderr is a terminal; FROM scratch needs no registry. Removed afterwards.
  const images = yield* Images
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "effect-docker-tour-"))
      writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\nLABEL org.example.tour=1\n")
      writeFileSync(join(dir, "hello.txt"), "hello from effect-docker\n")
      writeFileSync(join(dir, "secret.env"), "never sent\n")
      writeFileSync(join(dir, ".dockerignore"), "*.env\n")
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const built = yield* images.build({ directory: dir }, {
    labels: { "effect-docker.tour": "1" },
    onProgress: terminalProgress()
  })
  yield* Effect.addFinalizer(() => Effect.ignore(images.remove(built.imageId, { force: true })))
  const history = yield* images.history(built.imageId)
  yield* row("built", `${built.imageId.slice(0, 19)}… (${history.length} layers in its history)`)

  // Run a container and stream its output as it comes, stdout and stderr apart. It needs an image
  // with a shell that is already local (the tour never pulls): the test engines have busybox:local.
  const shell = "busybox:local"
  const present = yield* images.inspect(shell).pipe(
    Effect.as(true),
    Effect.catchTag("NotFound", () => Effect.succeed(false))
  )
  if (!present) {
    yield* row("run", `skipped: no local ${shell} (\`bash scripts/engines.sh start\` makes one)`)
    return
  }
  const containers = yield* Containers
  const running = yield* containers.runScoped({
    Image: shell,
    Cmd: ["sh", "-c", "for i in 1 2 3; do echo \"line $i\"; sleep 0.2; done; echo done >&2; exit 3"],
    Labels: { "effect-docker.tour": "1" },
    HostConfig: { NetworkMode: "none" }
  })
  yield* running.output.pipe(
    stdioLines,
    Stream.runForEach((line) => row(`run ${line.stream}`, line.line))
  )
  yield* row("exit code", String(yield* running.exitCode))
}).pipe(Effect.scoped)

const main = tour.pipe(
  // Typed errors: each failure names the operation and what the daemon (or the socket) said.
  Effect.catchTags({
    ConnectionError: (e) => Console.error(`${e.message}`).pipe(Effect.andThen(Effect.fail(e))),
    ApiVersionError: (e) => Console.error(`${e.message}`).pipe(Effect.andThen(Effect.fail(e)))
  }),
  Effect.provide(Docker.layerFromEnv)
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
