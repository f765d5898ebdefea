/**
 * THE list of what Podman (4.3.1, Debian 12's) lacks or gets wrong in its Docker-compatible API,
 * where the client cannot make the outcome Docker's. On a Podman engine, each integration test
 * whose Docker behaviour Podman cannot give runs `podmanOr(key, dockerBody)`: it asserts, against
 * the real Podman engine, the limitation below (the typed error, or the documented behaviour),
 * never skips. On Docker engines the test's own body runs. The README's Podman section says the
 * same, for users.
 */
import { Effect, Exit, Fiber, Redacted, type Scope, Stream } from "effect"
import { DockerEngine } from "../../src/engine/engine.js"
import { NetworkInspect } from "../../src/generated/operations/network/NetworkInspect.js"
import { Containers, Docker, Exec, fullImageId, Images, packTar, Plugins, System, Volumes } from "../../src/index.js"
import { currentEngine, engineEnv, engineKey } from "./engines.js"
import { testLabels } from "./labels.js"
import { scopedNetwork, scopedVolume, TEST_IMAGE, uniqueName } from "./resources.js"
import { fakeSearchServer } from "./search-server.js"

const target = currentEngine()

/** A build context holding only a Dockerfile. */
const dockerfileTar = (text: string) => packTar([{ name: "Dockerfile", content: text }])

/** The engine this test file runs on is a Podman one (engines.list kind `podman`). */
export const onPodman: boolean = target.kind === "podman"

const expectThat = (ok: boolean, what: string) =>
  ok ? Effect.void : Effect.die(new Error(`Podman limitation no longer as documented: ${what}`))

const tagOf = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
  Exit.isFailure(exit) ? Exit.findErrorOption(exit).pipe((o) => o._tag === "Some" ? o.value._tag : "die") : "success"

/** A running busybox container for the check, removed with its scope. */
const running = Effect.gen(function*() {
  const containers = yield* Containers
  const created = yield* containers.create({
    Image: TEST_IMAGE,
    Cmd: ["sleep", "600"],
    Labels: testLabels(),
    HostConfig: { NetworkMode: "none" }
  }, { name: uniqueName("pm") })
  yield* Effect.addFinalizer(() => Effect.ignore(containers.remove(created.Id, { force: true })))
  yield* containers.start(created.Id)
  return created.Id
})

interface Limitation {
  readonly reason: string
  readonly check: Effect.Effect<
    void,
    unknown,
    Containers | Images | Exec | System | Plugins | Volumes | DockerEngine | Scope.Scope
  >
}

const unsupported = (effect: Effect.Effect<unknown, { readonly _tag: string }, never>) =>
  Effect.flatMap(Effect.exit(effect), (exit) => expectThat(tagOf(exit) === "UnsupportedByEngine", `got ${tagOf(exit)}`))

export const PODMAN_LIMITATIONS = {
  "container-update": {
    reason: "POST /containers/{id}/update does not exist in 4.3.1 (404 Not Found): UnsupportedByEngine",
    check: Effect.gen(function*() {
      const id = yield* running
      const exit = yield* Effect.exit((yield* Containers).update(id, { Memory: 96 * 1024 * 1024 }))
      yield* expectThat(tagOf(exit) === "UnsupportedByEngine", `update gave ${tagOf(exit)}`)
    })
  },
  plugins: {
    reason: "Podman has no plugins API: the list is `Path /v1.41/plugins is not supported` (UnsupportedByEngine); " +
      "other plugin routes answer a 404 the client cannot tell from a missing plugin (NotFound)",
    check: Effect.gen(function*() {
      yield* unsupported((yield* Plugins).list())
    })
  },
  distribution: {
    reason: "GET /distribution/{name}/json is not supported by 4.3.1: UnsupportedByEngine",
    check: Effect.gen(function*() {
      yield* unsupported((yield* Images).distribution(TEST_IMAGE))
    })
  },
  "archive-missing-path": {
    reason: "PUT /containers/{id}/archive to a missing directory answers 200 (Docker: 404); nothing is extracted",
    check: Effect.gen(function*() {
      const id = yield* running
      const exit = yield* Effect.exit(
        (yield* Containers).putArchive(id, "/no/such/dir", packTar([{ name: "x", content: "x" }]))
      )
      yield* expectThat(Exit.isSuccess(exit), `put to a missing path gave ${tagOf(exit)}`)
    })
  },
  "attach-replay": {
    reason: "attach with logs=1 replays each log line in a frame whose length leaves out its newline, so the " +
      "next header starts one byte early: StdioStreamError BadHeader (live attach output is framed right)",
    check: Effect.gen(function*() {
      const containers = yield* Containers
      const created = yield* containers.create({
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", "echo one; echo two >&2"],
        Labels: testLabels(),
        HostConfig: { NetworkMode: "none" }
      }, { name: uniqueName("pm") })
      yield* Effect.addFinalizer(() => Effect.ignore(containers.remove(created.Id, { force: true })))
      yield* containers.start(created.Id)
      yield* containers.wait(created.Id)
      const session = yield* containers.attach(created.Id, { logs: true, stream: false })
      const error = yield* Effect.flip(Stream.runDrain(session.output).pipe(Effect.timeout("20 seconds")))
      yield* expectThat(error._tag === "StdioStreamError" && error.reason === "BadHeader", String(error))
    })
  },
  "top-titles": {
    reason: "top runs `ps` inside the container and answers its header as ONE unsplit title (`PID   USER     COMMAND`)",
    check: Effect.gen(function*() {
      const id = yield* running
      const top = yield* (yield* Containers).top(id)
      yield* expectThat(top.Titles?.length === 1 && /PID\s+USER\s+COMMAND/.test(top.Titles[0]!), String(top.Titles))
    })
  },
  "wait-removed": {
    reason: "wait condition=removed resolves with StatusCode 0, not the exit code",
    check: Effect.gen(function*() {
      const containers = yield* Containers
      const id = yield* running
      const waited = yield* Effect.forkChild(containers.wait(id, { condition: "removed" }))
      yield* containers.remove(id, { force: true })
      const result = yield* Fiber.join(waited).pipe(Effect.timeout("20 seconds"))
      yield* expectThat(result.StatusCode === 0, `removed gave ${result.StatusCode}`)
    })
  },
  "exec-detached-status": {
    reason: "a detached exec stays Running (ExitCode 0) ~5 minutes after its process ended (conmon --exit-delay 300)",
    check: Effect.gen(function*() {
      const exec = yield* Exec
      const id = yield* running
      const created = yield* exec.create(id, { Cmd: ["true"] })
      yield* exec.startDetached(created.Id)
      yield* Effect.sleep("2 seconds")
      const info = yield* exec.inspect(created.Id)
      yield* expectThat(info.Running === true, `exec inspect Running=${info.Running}`)
    })
  },
  "login-tls": {
    reason:
      "POST /auth speaks HTTPS to 127.0.0.1:<port> whatever registries.conf says (it skips TLS only for localhost:)",
    check: Effect.gen(function*() {
      const env = engineEnv()
      const error = yield* Effect.flip((yield* Images).login({
        username: env.EFFECT_DOCKER_REGISTRY_USER!,
        password: Redacted.make(env.EFFECT_DOCKER_REGISTRY_PASSWORD!),
        serverAddress: env.EFFECT_DOCKER_REGISTRY!
      }))
      yield* expectThat(
        error._tag === "ServerError" && error.daemonMessage.includes(`https://${env.EFFECT_DOCKER_REGISTRY}`),
        error.message
      )
    })
  },
  "import-tag": {
    reason: "the compat import ignores `tag`: repo=x&tag=y makes docker.io/library/x:latest",
    check: Effect.gen(function*() {
      const images = yield* Images
      const repo = uniqueName("pmimport")
      const tar = Stream.fromIterable([
        new Uint8Array(
          yield* Effect.promise(() =>
            import("node:fs/promises").then((fs) => fs.readFile(engineEnv().EFFECT_DOCKER_ROOTFS_TAR!))
          )
        )
      ])
      const id = yield* images.importImage(tar, { repo, tag: "1" })
      yield* Effect.addFinalizer(() => Effect.ignore(images.remove(id, { force: true })))
      const tagged = yield* Effect.exit(images.inspect(`${repo}:1`))
      const latest = yield* images.inspect(`${repo}:latest`)
      yield* expectThat(
        tagOf(tagged) === "NotFound" && latest.RepoTags?.includes(`docker.io/library/${repo}:latest`) === true,
        `x:1 ${tagOf(tagged)}, x:latest ${String(latest.RepoTags)}`
      )
    })
  },
  buildkit: {
    reason: "no BuildKit: POST /session is a bare 404 and /build ignores version=2 (a classic build); a " +
      "`builder: \"buildkit\"` build is UnsupportedByEngine, refused before sending",
    check: Effect.gen(function*() {
      yield* unsupported((yield* Images).build({ tar: dockerfileTar("FROM busybox:local\n") }, {
        builder: "buildkit",
        labels: testLabels()
      }))
    })
  },
  "df-image-tags": {
    reason: "system df lists each image's RepoTags as the bare tag (`local` for busybox:local) and its Id " +
      "without sha256:; /images/json and inspect name them right",
    check: Effect.gen(function*() {
      const id = (yield* (yield* Images).inspect(TEST_IMAGE)).Id
      const df = yield* (yield* System).dataUsage()
      const entry = df.Images?.find((image) => fullImageId(image.Id) === id)
      yield* expectThat(
        typeof df.LayersSize === "number" && entry?.RepoTags?.length === 1 && entry.RepoTags[0] === "local",
        `df entry of ${TEST_IMAGE}: ${String(entry?.RepoTags)}`
      )
    })
  },
  "build-params": {
    reason: "the build params Docker reads but its spec omits (E02: `buildid`, `ulimits`) are refused with an " +
      "empty 400",
    check: Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Images).build({ tar: dockerfileTar("FROM busybox:local\n") }, {
        labels: testLabels(),
        buildid: uniqueName("buildid"),
        ulimits: [{ Name: "nofile", Soft: 777, Hard: 777 }]
      }))
      yield* expectThat(error._tag === "BadRequest", String(error))
    })
  },
  extrahosts: {
    reason: "`extrahosts` is read as ONE JSON array, not Docker's repeated parameter (E03): repeated, it is " +
      "refused with an empty 400",
    check: Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Images).build({ tar: dockerfileTar("FROM busybox:local\n") }, {
        labels: testLabels(),
        extrahosts: ["ed-a:127.0.0.2", "ed-b:127.0.0.3"]
      }))
      yield* expectThat(error._tag === "BadRequest", String(error))
    })
  },
  "bridge-options": {
    reason: "a bridge network's `com.docker.network.bridge.*` options (name, enable_icc…) are not kept: " +
      "inspect's Options lack them",
    check: Effect.gen(function*() {
      const engine = yield* DockerEngine
      const name = uniqueName("pm-net")
      const created = yield* scopedNetwork(engine, {
        Name: name,
        Driver: "bridge",
        Options: { "com.docker.network.bridge.name": `edpm${process.pid % 100000}` }
      })
      const inspected = yield* engine.json(NetworkInspect, { id: created.id })
      yield* expectThat(inspected.Options?.["com.docker.network.bridge.name"] === undefined, String(inspected.Options))
    })
  },
  "config-only-networks": {
    reason: "`ConfigOnly` and `ConfigFrom` are ignored: the network is an ordinary bridge with its own " +
      "subnet (inspect: ConfigOnly false, ConfigFrom.Network \"\")",
    check: Effect.gen(function*() {
      const engine = yield* DockerEngine
      const created = yield* scopedNetwork(engine, { Name: uniqueName("pm-co"), ConfigOnly: true })
      const inspected = yield* engine.json(NetworkInspect, { id: created.id })
      yield* expectThat(
        inspected.ConfigOnly === false && inspected.Driver === "bridge" && (inspected.ConfigFrom?.Network ?? "") === "",
        `ConfigOnly ${inspected.ConfigOnly}, Driver ${inspected.Driver}`
      )
    })
  },
  links: {
    reason: "legacy container links are refused: 400 `link is not supported`",
    check: Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Containers).create({
        Image: TEST_IMAGE,
        Labels: testLabels(),
        HostConfig: { Links: ["ed-peer:ed-peer"] }
      }, { name: uniqueName("pm") }))
      yield* expectThat(error._tag === "BadRequest" && error.message.includes("link is not supported"), String(error))
    })
  },
  "image-label-filters": {
    reason: "an image list with two `label` filters returns nothing (one works)",
    check: Effect.gen(function*() {
      const images = yield* Images
      const all = yield* images.list({ filters: { reference: [TEST_IMAGE] } })
      const two = yield* images.list({ filters: { label: ["a=b", "c=d"] } })
      yield* expectThat(all.length >= 1 && two.length === 0, `${all.length} / ${two.length}`)
    })
  },
  "label-filters-any": {
    reason: "volume lists and prunes match several `label` filters as ANY of them, not all (Docker: all): " +
      "a prune filtered by two labels also removes volumes carrying only one",
    check: Effect.gen(function*() {
      const engine = yield* DockerEngine
      const mark = uniqueName("pm-labels")
      const both = yield* scopedVolume(engine, { Labels: { "ed.a": mark, "ed.b": mark } })
      const one = yield* scopedVolume(engine, { Labels: { "ed.a": mark } })
      const listed = yield* (yield* Volumes).list({ filters: { label: [`ed.a=${mark}`, `ed.b=${mark}`] } })
      const names = (listed.Volumes ?? []).map((v) => v.Name).sort()
      yield* expectThat(
        JSON.stringify(names) === JSON.stringify([both.name, one.name].sort()),
        `two label filters listed ${names.join(", ")}`
      )
    })
  },
  "search-v1": {
    reason: "search speaks registry v2 only (`can't talk to a V1 container registry`): ServerError",
    check: Effect.gen(function*() {
      const server = yield* fakeSearchServer([])
      const error = yield* Effect.flip(
        (yield* Images).search(`${server.host}/busybox`, { limit: 5, auth: "anonymous" })
      )
      yield* expectThat(error._tag === "ServerError", error.message)
    })
  },
  "events-past-until": {
    reason: "an events window whose `until` is in the past returns nothing at all (live and `since` work), and " +
      "volume events carry an empty Actor.ID (the name only in Attributes.name), so `volume=<name>` rarely matches",
    check: Effect.gen(function*() {
      const engine = yield* DockerEngine
      const since = new Date(Date.now() - 1000)
      yield* scopedVolume(engine, {}, uniqueName("pm-events"))
      yield* Effect.sleep("1 second")
      const events = yield* (yield* System).events({ since, until: new Date(), filters: { type: ["volume"] } }).pipe(
        Stream.runCollect,
        Effect.timeout("20 seconds")
      )
      yield* expectThat(events.length === 0, `${events.length} events`)
    })
  },
  tls: {
    reason: "`podman system service` has no TLS listener: the TLS transport and TLS contexts are tested on Docker",
    check: expectThat(engineEnv()[`${engineKey(target.id)}_TLS`] === undefined, "a _TLS endpoint for podman")
  }
} satisfies Record<string, Limitation>

export type PodmanLimitation = keyof typeof PODMAN_LIMITATIONS

/** On Podman, the check of limitation `key` (its own layer, scoped); elsewhere `docker`. */
export const podmanOr = <A, E, R>(
  key: PodmanLimitation,
  docker: Effect.Effect<A, E, R>
): Effect.Effect<A | void, E, R> =>
  onPodman
    ? (PODMAN_LIMITATIONS[key] as Limitation).check.pipe(
      Effect.scoped,
      Effect.provide(Docker.layer({ host: target.host })),
      Effect.orDie
    ) as Effect.Effect<void, never, never>
    : docker
