// Copy files into a container and back out: pack an in-memory file into a tar stream, put it into
// the container, then get the directory back as a tar stream and unpack it into a local directory.
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, packTar, unpackTar } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const image = process.env.IMAGE ?? "busybox"

const program = Effect.scoped(Effect.gen(function*() {
  const containers = yield* Containers
  const box = yield* containers.runScoped({ Image: image, Cmd: ["sleep", "300"] })
  yield* containers.putArchive(box.id, "/tmp", packTar([{ name: "in/hello.txt", content: "hello from the host\n" }]))
  const stat = yield* containers.archiveInfo(box.id, "/tmp/in/hello.txt")
  yield* Console.log(`in the container: ${stat.name}, ${stat.size} bytes`)

  const local = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "copy-out-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const download = yield* containers.getArchive(box.id, "/tmp/in")
  yield* unpackTar(download.tar, local)
  yield* Console.log(`copied back: ${readFileSync(join(local, "in", "hello.txt"), "utf8").trim()}`)
})).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
