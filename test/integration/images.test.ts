/**
 * Issue #6 on a real engine: builds (directory with .dockerignore, tar stream, failing RUN), tag
 * and untag, history, save → load, import of a root filesystem, commit, list/prune, search against
 * a fake v1 endpoint. Every image carries the test label or a unique tag removed in a finalizer.
 */
import { NodeStream } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Scope, Stream } from "effect"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createReadStream } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import * as tar from "tar-stream"
import { afterAll } from "vitest"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { ContainerExport } from "../../src/generated/operations/container/ContainerExport.js"
import { ContainerStart } from "../../src/generated/operations/container/ContainerStart.js"
import { ContainerWait } from "../../src/generated/operations/container/ContainerWait.js"
import { familiarReference, fullImageId } from "../../src/index.js"
import { Images, type ImagesShape } from "../../src/services/images.js"
import { registryCredentials } from "../../src/wire/registry-auth.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../support/labels.js"
import { podmanOr } from "../support/podman-limitations.js"
import { scopedContainer, TEST_IMAGE, uniqueName } from "../support/resources.js"
import { fakeSearchServer } from "../support/search-server.js"

const target = currentEngine()
/** No config.json of this machine leaks into the tests: credentials come from an empty directory. */
const emptyConfigDir = mkdtempSync(join(tmpdir(), "ed-noconfig-"))
afterAll(() => rmSync(emptyConfigDir, { recursive: true, force: true }))
const TestLayer = Layer.provideMerge(
  Images.layerWith({ credentials: { configDir: emptyConfigDir } }),
  DockerEngine.layer({ host: target.host })
)

const live = (
  name: string,
  body: (images: ImagesShape, engine: DockerEngineShape) => Effect.Effect<void, unknown, Scope.Scope>,
  timeout = 120_000
) =>
  it.live(
    name,
    () =>
      Effect.gen(function*() {
        const images = yield* Images
        const engine = yield* DockerEngine
        yield* body(images, engine)
      }).pipe(Effect.scoped, Effect.provide(TestLayer)),
    timeout
  )

/** A lowercase repository name unique to this run (tags must be lowercase). */
const uniqueRepo = (what: string) => uniqueName(what).toLowerCase()

/** Removes `reference` (a tag or ID) when the scope closes; already gone is fine. */
const removeLater = (images: ImagesShape, reference: string) =>
  Effect.addFinalizer(() =>
    images.remove(reference, { force: true }).pipe(
      Effect.catchTag("NotFound", () => Effect.succeed([])),
      Effect.catch((error) => Effect.logWarning(`could not remove image ${reference}: ${String(error)}`)),
      Effect.asVoid
    )
  )

/** A temp directory with `files`, removed when the scope closes. */
const scopedTree = (files: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const root = mkdtempSync(join(tmpdir(), "ed-build-"))
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true })
        writeFileSync(join(root, path), content)
      }
      return root
    }),
    (root) => Effect.sync(() => rmSync(root, { recursive: true, force: true }))
  )

/** Creates a container from `image` running `cmd`, starts it, and returns its exit code. */
const runExitCode = (engine: DockerEngineShape, image: string, cmd: Array<string>) =>
  Effect.gen(function*() {
    const container = yield* scopedContainer(engine, { Image: image, Cmd: cmd })
    yield* engine.empty(ContainerStart, { id: container.id })
    const waited = yield* engine.json(ContainerWait, { id: container.id }).pipe(Effect.timeout("30 seconds"))
    return waited.StatusCode
  })

/** The entries of `image`'s filesystem (a created container's export), by name, with their bytes. */
const imageFiles = (engine: DockerEngineShape, image: string) =>
  Effect.gen(function*() {
    const container = yield* scopedContainer(engine, { Image: image, Cmd: ["true"] })
    const chunks = yield* Stream.runCollect(engine.stream(ContainerExport, { id: container.id }))
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c)))
    const files = yield* Effect.promise(async () => {
      const out = new Map<string, { readonly type: string; readonly linkname: string; readonly data: Buffer }>()
      const extract = tar.extract()
      const done = (async () => {
        for await (const entry of extract) {
          const parts: Array<Buffer> = []
          for await (const part of entry) parts.push(part as Buffer)
          out.set(entry.header.name.replace(/\/$/, ""), {
            type: entry.header.type ?? "file",
            linkname: entry.header.linkname ?? "",
            data: Buffer.concat(parts)
          })
        }
      })()
      extract.end(bytes)
      await done
      return out
    })
    return { bytes, files }
  })

/** A tar archive of `files` as a Stream (built with tar-stream, as a user might). */
const tarOf = (files: Record<string, string>): Stream.Stream<Uint8Array, Error> =>
  Stream.suspend(() => {
    const pack = tar.pack()
    for (const [name, content] of Object.entries(files)) pack.entry({ name }, content)
    pack.finalize()
    return Stream.fromAsyncIterable(pack as AsyncIterable<Uint8Array>, (e) => e as Error)
  })

describe(`images on engine ${target.id} (${target.host})`, () => {
  live(
    "build from a directory: RUN output, labels, target stage, .dockerignore, build args, history",
    (images) =>
      Effect.gen(function*() {
        const mark = uniqueName("mark")
        const tag = `${uniqueRepo("build")}:1`
        yield* removeLater(images, tag)
        const root = yield* scopedTree({
          "Dockerfile": [
            "FROM busybox:local AS base",
            "ARG GREETING=none",
            "LABEL stage=base",
            "COPY . /ctx",
            `RUN echo "built-${mark} greeting=\${GREETING}" && busybox find /ctx -type f | busybox sort`,
            "FROM base AS final",
            "LABEL stage=final",
            "RUN echo final-stage-ran",
            ""
          ].join("\n"),
          // Cases checked against `docker build` (CLI 28.2, classic builder): the same files reach /ctx.
          ".dockerignore":
            "*.log\n!keep.log\n**/*.tmp\n/secret\nvendor\n!vendor/keep\ndocs/**\n!docs/**/*.md\ncache\n!**/wanted\n",
          "a.log": "ignored",
          "keep.log": "re-included",
          "sub/a.log": "nested: *.log does not reach it",
          "sub/deep/x.tmp": "ignored by **",
          "secret": "ignored by /secret",
          "sub/secret": "kept: /secret is the root one",
          "vendor/lib.js": "ignored",
          "vendor/keep": "re-included from an ignored directory",
          "docs/z.md": "re-included by !docs/**/*.md",
          "docs/a/x.md": "not re-included: docs/a is skipped (no ! pattern starts with docs/a/)",
          "cache/wanted": "not re-included: !**/wanted does not start with cache/"
        })
        const messages: Array<unknown> = []
        const result = yield* images.build({ directory: root }, {
          // `t` repeats: the daemon tags the result with each.
          t: [tag, `${tag}-second`],
          target: "base",
          labels: { ...testLabels(), "ed.case": mark },
          buildargs: { GREETING: "hi there" },
          nocache: true,
          onProgress: (message) => Effect.sync(() => messages.push(message))
        })
        expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(result.output).toContain(`built-${mark} greeting=hi there`)
        expect(result.output).not.toContain("final-stage-ran")
        expect(result.tags).toContain(tag)
        expect(result.tags).toContain(`${tag}-second`)
        expect(messages.length).toBeGreaterThan(3)
        const listed = result.output.split("\n").filter((line) => line.startsWith("/ctx/")).sort()
        expect(listed).toEqual([
          "/ctx/.dockerignore",
          "/ctx/Dockerfile",
          "/ctx/docs/z.md",
          "/ctx/keep.log",
          "/ctx/sub/a.log",
          "/ctx/sub/secret",
          "/ctx/vendor/keep"
        ])

        const inspected = yield* images.inspect(tag)
        expect(inspected.Id).toBe(result.imageId)
        expect(inspected.Config?.Labels).toMatchObject({ stage: "base", [TEST_LABEL]: runId(), "ed.case": mark })

        const history = yield* images.history(tag)
        expect(fullImageId(history[0]!.Id)).toBe(result.imageId) // Podman: no sha256: prefix
        const createdBy = history.map((layer) => layer.CreatedBy)
        expect(createdBy.some((c) => c.includes(`built-${mark}`))).toBe(true)
        expect(createdBy.some((c) => c.includes("COPY"))).toBe(true)
        expect(createdBy.some((c) => c.includes("LABEL stage=base"))).toBe(true)
      })
  )

  live(
    "build from a tar stream with a custom Dockerfile name; the progress stream is typed messages",
    (images) =>
      Effect.gen(function*() {
        const mark = uniqueName("tar")
        const messages = yield* images.buildStream({
          tar: tarOf({ "build/Containerfile": `FROM busybox:local\nRUN echo from-tar-${mark}\n`, "x.txt": "x" }),
          dockerfile: "build/Containerfile"
        }, { labels: testLabels(), forcerm: true }).pipe(Stream.runCollect)
        const text = messages.map((m) => m.stream ?? "").join("")
        expect(text).toContain(`from-tar-${mark}`)
        const id = messages.map((m) => typeof m.aux === "object" ? m.aux.ID : undefined).find((x) => x !== undefined)
        expect(id).toMatch(/^sha256:/)
        yield* removeLater(images, id!)
      })
  )

  live(
    "build params the spec omits are read by the daemon (E02): ulimits, buildid",
    (images) =>
      podmanOr(
        "build-params",
        Effect.gen(function*() {
          const result = yield* images.build({
            tar: tarOf({ "Dockerfile": "FROM busybox:local\nRUN echo \"nofile=$(ulimit -n)\"\n" })
          }, {
            labels: testLabels(),
            nocache: true,
            buildid: uniqueName("buildid"),
            ulimits: [{ Name: "nofile", Soft: 777, Hard: 777 }]
          })
          yield* Effect.addFinalizer(() => Effect.ignore(images.remove(result.imageId, { force: true })))
          expect(result.output).toContain("nofile=777")
        })
      )
  )

  live(
    "a quiet build returns the image's ID; repeated extrahosts all reach /etc/hosts (E03)",
    (images) =>
      podmanOr(
        "extrahosts",
        Effect.gen(function*() {
          const hosts = yield* images.build({
            tar: tarOf({ "Dockerfile": "FROM busybox:local\nRUN cat /etc/hosts\n" })
          }, { labels: testLabels(), nocache: true, forcerm: true, extrahosts: ["ed-a:127.0.0.2", "ed-b:127.0.0.3"] })
          yield* Effect.addFinalizer(() => Effect.ignore(images.remove(hosts.imageId, { force: true })))
          expect(hosts.output).toMatch(/127\.0\.0\.2\s+ed-a/)
          expect(hosts.output).toMatch(/127\.0\.0\.3\s+ed-b/)

          const quiet = yield* images.build({
            tar: tarOf({ "Dockerfile": "FROM busybox:local\nRUN echo quiet > /q\n" })
          }, { labels: testLabels(), nocache: true, forcerm: true, q: true })
          yield* Effect.addFinalizer(() => Effect.ignore(images.remove(quiet.imageId, { force: true })))
          expect(quiet.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
          expect(quiet.output).toBe(`${quiet.imageId}\n`)
          expect((yield* images.inspect(quiet.imageId)).Id).toBe(quiet.imageId)
        })
      )
  )

  live("a failing RUN fails the build with the daemon's message (InStreamError)", (images) =>
    Effect.gen(function*() {
      const error = yield* images.build({
        tar: tarOf({ "Dockerfile": "FROM busybox:local\nRUN echo about-to-fail && exit 7\n" })
      }, { labels: testLabels(), forcerm: true }).pipe(Effect.flip)
      if (!("_tag" in error) || error._tag !== "InStreamError") return expect.fail(`expected InStreamError: ${error}`)
      expect(error.operation).toBe("ImageBuild")
      // Docker: "… returned a non-zero code: 7"; Podman: "building at STEP …: exit status 7".
      expect(error.daemonMessage).toMatch(target.kind === "podman" ? /exit status 7/ : /returned a non-zero code: 7/)
    }))

  live(
    "an unreadable context directory fails with BuildContextError, not a connection error",
    (images) =>
      Effect.gen(function*() {
        const error = yield* images.build({ directory: join(emptyConfigDir, "does-not-exist") }).pipe(Effect.flip)
        expect(error._tag).toBe("BuildContextError")
      })
  )

  live("tag and untag are visible in inspect", (images) =>
    Effect.gen(function*() {
      const repo = uniqueRepo("tag")
      yield* removeLater(images, `${repo}:one`)
      yield* removeLater(images, `${repo}:two`)
      yield* images.tag(TEST_IMAGE, `${repo}:one`)
      yield* images.tag(TEST_IMAGE, `${repo}:two`)
      // Podman returns fully qualified names: compared in their familiar form.
      const tagged = yield* images.inspect(TEST_IMAGE)
      expect(tagged.RepoTags?.map(familiarReference)).toEqual(
        expect.arrayContaining([TEST_IMAGE, `${repo}:one`, `${repo}:two`])
      )
      const removed = yield* images.remove(`${repo}:one`)
      expect(removed.map((r) => ({ ...r, Untagged: familiarReference(r.Untagged!) }))).toEqual([{
        Untagged: `${repo}:one`
      }])
      const after = (yield* images.inspect(TEST_IMAGE)).RepoTags?.map(familiarReference)
      expect(after).toContain(`${repo}:two`)
      expect(after).not.toContain(`${repo}:one`)
      const missing = yield* images.inspect(`${repo}:one`).pipe(Effect.flip)
      expect(missing._tag).toBe("NotFound")
    }))

  live(
    "save → remove → load round-trips an image (same ID), one and several at a time",
    (images) =>
      Effect.gen(function*() {
        const tag = `${uniqueRepo("save")}:1`
        const other = `${uniqueRepo("save2")}:1`
        yield* removeLater(images, tag)
        yield* removeLater(images, other)
        const built = yield* images.build({
          tar: tarOf({ "Dockerfile": `FROM busybox:local\nRUN echo ${tag} > /saved\n` })
        }, { t: [tag], labels: testLabels() })
        const saved = yield* images.save(tag).pipe(Stream.runCollect)
        const loadProgress: Array<{ readonly progressDetail?: unknown; readonly status?: unknown }> = []
        const size = saved.reduce((n, c) => n + c.length, 0)
        expect(size).toBeGreaterThan(100_000)
        const removed = yield* images.remove(tag)
        // Podman lists `Deleted` ids without sha256:.
        expect(removed.map((r) => r.Deleted === undefined ? r : { Deleted: fullImageId(r.Deleted) }))
          .toContainEqual({ Deleted: built.imageId })
        expect((yield* images.inspect(tag).pipe(Effect.flip))._tag).toBe("NotFound")

        const loaded = yield* images.load(Stream.fromIterable(saved), {
          onProgress: (m) => Effect.sync(() => loadProgress.push(m))
        })
        // Podman names what it loaded fully qualified (docker.io/library/…).
        expect(loaded.names.map(familiarReference)).toEqual([tag])
        // E7: the daemon's default is quiet; `load` sends quiet=0, so layer progress comes too
        // (Podman sends no progress, only its one `Loaded image:` line).
        expect(loadProgress.some((m) => m.progressDetail !== undefined || m.status !== undefined))
          .toBe(target.kind !== "podman")
        expect((yield* images.inspect(tag)).Id).toBe(built.imageId)

        // Several at once: the archive holds both tags.
        yield* images.tag(tag, other)
        const both = yield* images.save([tag, other]).pipe(Stream.runCollect)
        yield* images.remove(other)
        const again = yield* images.load(Stream.fromIterable(both))
        expect(again.names.map(familiarReference).sort()).toEqual([tag, other].sort())
        expect((yield* images.inspect(other)).Id).toBe(built.imageId)
      })
  )

  live(
    "import of the busybox rootfs tar gives a runnable image",
    (images, engine) =>
      podmanOr(
        "import-tag",
        Effect.gen(function*() {
          const rootfs = engineEnv().EFFECT_DOCKER_ROOTFS_TAR
          expect(rootfs, "EFFECT_DOCKER_ROOTFS_TAR (scripts/engines.sh writes it)").toBeDefined()
          const repo = uniqueRepo("import")
          yield* removeLater(images, `${repo}:1`)
          const progress: Array<string> = []
          const id = yield* images.importImage(
            NodeStream.fromReadable<Uint8Array, Error>({
              evaluate: () => createReadStream(rootfs!),
              onError: (e) => e as Error
            }),
            {
              repo,
              tag: "1",
              message: "imported by effect-docker tests",
              changes: ["CMD [\"/bin/sh\"]", `LABEL ${TEST_LABEL}=${runId()}`],
              onProgress: (m) => Effect.sync(() => progress.push(m.status ?? ""))
            }
          )
          expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)
          const inspected = yield* images.inspect(`${repo}:1`)
          expect(inspected.Id).toBe(id)
          expect(inspected.Comment).toBe("imported by effect-docker tests")
          expect(inspected.Config?.Cmd).toEqual(["/bin/sh"])
          expect(yield* runExitCode(engine, id, ["sh", "-c", "test -x /bin/busybox && exit 42"])).toBe(42)
        })
      )
  )

  live(
    "commit of a modified container gives an image containing the change",
    (images, engine) =>
      Effect.gen(function*() {
        const repo = uniqueRepo("commit")
        const container = yield* scopedContainer(engine, { Cmd: ["sh", "-c", "echo changed > /committed.txt"] })
        yield* engine.empty(ContainerStart, { id: container.id })
        yield* engine.json(ContainerWait, { id: container.id }).pipe(Effect.timeout("30 seconds"))
        yield* removeLater(images, `${repo}:1`)
        const id = yield* images.commit(container.id, {
          reference: `${repo}:1`,
          comment: "committed by effect-docker tests",
          author: "effect-docker",
          changes: [`LABEL ${TEST_LABEL}=${runId()}`, "ENV COMMITTED=yes"]
        })
        expect(id).toMatch(/^sha256:/)
        const inspected = yield* images.inspect(`${repo}:1`)
        expect(inspected.Author).toBe("effect-docker")
        expect(inspected.Config?.Env).toContain("COMMITTED=yes")
        const check = `test "$(cat /committed.txt)" = changed && test "$COMMITTED" = yes && exit 42`
        expect(yield* runExitCode(engine, id, ["sh", "-c", check])).toBe(42)
      })
  )

  live(
    "list and prune by label; build cache prune answers",
    (images) =>
      podmanOr(
        "image-label-filters",
        Effect.gen(function*() {
          const caseId = uniqueName("prune")
          const built = yield* images.build({
            tar: tarOf({ "Dockerfile": `FROM busybox:local\nRUN echo ${caseId}\n` })
          }, {
            labels: { ...testLabels(), "ed.case": caseId }
          })
          yield* removeLater(images, built.imageId)
          const filters = { label: [`${TEST_LABEL}=${runId()}`, `ed.case=${caseId}`] }
          const listed = yield* images.list({ filters })
          expect(listed.map((i) => i.Id)).toEqual([built.imageId])
          const pruned = yield* images.prune({ filters: { ...filters, dangling: ["true"] } })
          expect((pruned.ImagesDeleted ?? []).some((d) => d.Deleted === built.imageId)).toBe(true)
          expect(yield* images.list({ filters })).toEqual([])
          const cache = yield* images.pruneBuildCache({ filters: { until: ["87600h"] } })
          expect(typeof (cache.SpaceReclaimed ?? 0)).toBe("number")
        })
      )
  )

  live(
    "search asks the registry's v1 endpoint, with the credentials the daemon decoded",
    (images) =>
      podmanOr(
        "search-v1",
        Effect.gen(function*() {
          const server = yield* fakeSearchServer([
            { name: "busybox", description: "the test image", star_count: 7, is_official: false, is_automated: false },
            { name: "other", description: "", star_count: 0, is_official: false, is_automated: false }
          ])
          const found = yield* images.search(`${server.host}/busybox`, { limit: 5, auth: "anonymous" })
          expect(found).toEqual([
            { name: "busybox", description: "the test image", star_count: 7, is_official: false, is_automated: false }
          ])
          const anonymous = server.requests.find((r) => r.path === "/v1/search")!
          expect(anonymous.query.get("q")).toBe("busybox")
          expect(anonymous.query.get("n")).toBe("5")
          expect(anonymous.headers.authorization).toBeUndefined()

          // A password whose JSON's standard base64 has `+`, `/` and `=`: the daemon decodes our
          // header (URL-safe, padded) and forwards the credentials as Basic auth.
          const password = "s3cr3t?>~~"
          yield* images.search(`${server.host}/busybox`, {
            auth: registryCredentials({ username: "testuser", password })
          })
          const authorized = server.requests.filter((r) => r.path === "/v1/search").at(-1)!
          expect(authorized.headers.authorization).toBe(
            `Basic ${Buffer.from(`testuser:${password}`).toString("base64")}`
          )
        })
      )
  )
})

describe(`build contexts on engine ${target.id}: nothing from outside the context reaches the image`, () => {
  const SECRET = `SECRET-${runId()}-outside`

  live(
    "a .dockerignore linked to an outside file, with the Dockerfile outside: the image holds none of its text",
    (images, engine) =>
      Effect.gen(function*() {
        const outside = yield* scopedTree({
          "ignore": `*.log\n# ${SECRET}\n`,
          "secret.txt": SECRET,
          "Dockerfile": "FROM busybox:local\nCOPY . /ctx/\n"
        })
        const root = yield* scopedTree({ "app": "a", "debug.log": "left out by the outside patterns" })
        symlinkSync(join(outside, "ignore"), join(root, ".dockerignore"))
        symlinkSync(join(outside, "secret.txt"), join(root, "file-link")) // sent as a link, never followed
        const tag = `${uniqueRepo("ctx-link")}:1`
        yield* removeLater(images, tag)
        const built = yield* images.build({ directory: root, dockerfile: join(outside, "Dockerfile") }, {
          t: [tag],
          labels: testLabels(),
          nocache: true
        })
        const { bytes, files } = yield* imageFiles(engine, built.imageId)
        expect(bytes.includes(SECRET)).toBe(false)
        const ctx = [...files.keys()].filter((name) => name.startsWith("ctx/")).sort()
        expect(ctx).toEqual(["ctx/.dockerignore", "ctx/app", "ctx/file-link"])
        expect(files.get("ctx/file-link")).toMatchObject({ type: "symlink", linkname: join(outside, "secret.txt") })
        // The sent .dockerignore lists only the added Dockerfile (the daemon removed that one).
        expect(files.get("ctx/.dockerignore")!.data.toString().trim()).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/)
      })
  )

  live(
    "a Dockerfile in the context linked to an outside file fails before anything is sent",
    (images) =>
      Effect.gen(function*() {
        const outside = yield* scopedTree({ "Dockerfile": `FROM busybox:local\nRUN echo ${SECRET}\n` })
        const root = yield* scopedTree({ "app": "a" })
        symlinkSync(join(outside, "Dockerfile"), join(root, "Dockerfile"))
        const error = yield* images.build({ directory: root }, { labels: testLabels() }).pipe(Effect.flip)
        expect(error).toMatchObject({
          _tag: "BuildContextError",
          code: "OutsideContext",
          path: join(root, "Dockerfile")
        })
      })
  )
})
