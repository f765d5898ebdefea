/**
 * Issue #16 on a real engine: BuildKit builds (`builder: "buildkit"`, `POST /build?version=2`)
 * with their session — a multi-stage build with target, build args and a cache mount; a secret
 * that reaches its RUN and no layer, history entry or progress message; registry credentials for
 * a private base image (config.json, a credential helper, none → Unauthorized); a forwarded
 * ssh-agent, and given keys served by the session as an agent (listed, signing a challenge the
 * host verifies); a failing RUN as `BuildFailedError`; an interrupted build stopped on the daemon with
 * its session closed. Images carry the test label or a unique tag removed in a finalizer.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger, Redacted, References, type Scope, Stream } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import * as tar from "tar-stream"
import { afterAll } from "vitest"
import type { BuildKitSession } from "../../src/buildkit/session.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { Containers } from "../../src/services/containers.js"
import { type BuildKitBuildOptions, Images, type ImagesShape } from "../../src/services/images.js"
import type { BuildKitEvent } from "../../src/wire/buildkit-status.js"
import { registryCredentials } from "../../src/wire/registry-auth.js"
import { writeCredentialHelper } from "../support/docker-config.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { testLabels } from "../support/labels.js"
import { podmanOr } from "../support/podman-limitations.js"
import { TEST_IMAGE, uniqueName } from "../support/resources.js"
import { recordingTracer } from "../support/tracing.js"

const target = currentEngine()
const env = engineEnv()
const REGISTRY = env.EFFECT_DOCKER_REGISTRY ?? "127.0.0.1:5000"
const USER = env.EFFECT_DOCKER_REGISTRY_USER ?? "testuser"
const PASSWORD = env.EFFECT_DOCKER_REGISTRY_PASSWORD ?? "testpass"

const dirs: Array<string> = []
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
const emptyConfigDir = tempDir("ed-noconfig-")
const engineLayer = DockerEngine.layer({ host: target.host })
const layerWith = (credentials: Parameters<typeof Images.layerWith>[0]["credentials"]) =>
  Layer.mergeAll(
    Layer.provideMerge(Images.layerWith({ credentials }), engineLayer),
    Layer.provide(Containers.layer, engineLayer)
  )

/** A BuildKit test: on Podman (no BuildKit) it asserts that limitation instead (podman-limitations.ts). */
const bkLive = (name: string, body: () => Effect.Effect<unknown, unknown>, timeout?: number) =>
  it.live(name, () => podmanOr("buildkit", body()), timeout)

const live = (
  name: string,
  body: (images: ImagesShape) => Effect.Effect<void, unknown, Scope.Scope | DockerEngine | Containers>,
  layer = layerWith({ configDir: emptyConfigDir }),
  timeout = 120_000
) => bkLive(name, () => Effect.flatMap(Images, body).pipe(Effect.scoped, Effect.provide(layer)), timeout)

const uniqueRepo = (what: string) => uniqueName(what).toLowerCase()

/** Removes `reference` when the scope closes; already gone is fine. */
const removeLater = (images: ImagesShape, reference: string) =>
  Effect.addFinalizer(() =>
    images.remove(reference, { force: true }).pipe(
      Effect.catch((error) =>
        error._tag === "NotFound" ? Effect.void : Effect.logWarning(`could not remove ${reference}: ${String(error)}`)
      ),
      Effect.asVoid
    )
  )

/** A tar context of `files`. */
const tarOf = (files: Record<string, string | Buffer>, modes: Record<string, number> = {}): Stream.Stream<Uint8Array> =>
  Stream.suspend(() => {
    const pack = tar.pack()
    for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: modes[name] ?? 0o644 }, content)
    pack.finalize()
    return Stream.orDie(Stream.fromAsyncIterable(pack as AsyncIterable<Uint8Array>, (e) => e as Error))
  })

/** Runs `image` with `cmd`; its stdout (the container is removed). */
const runOutput = (image: string, cmd: Array<string>) =>
  Effect.gen(function*() {
    const containers = yield* Containers
    const result = yield* containers.run({ Image: image, Cmd: cmd, Labels: testLabels() }, { remove: true })
    expect(result.exitCode).toBe(0)
    return result.stdout ?? ""
  })

/** Builds with BuildKit, collecting every event; the image is removed when the scope closes. */
const buildCollecting = (
  images: ImagesShape,
  files: Record<string, string>,
  options: Omit<BuildKitBuildOptions, "builder" | "onProgress"> = {}
) =>
  Effect.gen(function*() {
    const tag = `${uniqueRepo("bk")}:1`
    yield* removeLater(images, tag)
    const events: Array<BuildKitEvent> = []
    const result = yield* images.build({ tar: tarOf(files) }, {
      builder: "buildkit",
      networkmode: "none",
      labels: testLabels(),
      t: [tag],
      ...options,
      onProgress: (event) => Effect.sync(() => void events.push(event))
    })
    return { tag, result, events }
  })

/** Every event as text (log bytes decoded), to search for what must not be there. */
const eventsText = (events: ReadonlyArray<BuildKitEvent>) =>
  events.map((e) =>
    e._tag === "VertexLog" ? `${JSON.stringify(e)} ${Buffer.from(e.data).toString("utf8")}` : JSON.stringify(e)
  )
    .join("\n")

/** Every file of every layer of a saved image (layers are tars inside the save tar; gzip or not). */
const savedBytes = (images: ImagesShape, reference: string) =>
  Effect.gen(function*() {
    const chunks = yield* Stream.runCollect(images.save(reference))
    const outer = Buffer.concat(chunks.map((c) => Buffer.from(c)))
    const contents: Array<Buffer> = []
    const walk = async (archive: Buffer, depth: number): Promise<void> => {
      const extract = tar.extract()
      const done = (async () => {
        for await (const entry of extract) {
          const parts: Array<Buffer> = []
          for await (const part of entry) parts.push(part as Buffer)
          let data = Buffer.concat(parts)
          if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data)
          contents.push(data)
          if (depth < 2 && data.length >= 512 && data.subarray(257, 262).toString() === "ustar") {
            await walk(data, depth + 1)
          }
        }
      })()
      extract.end(archive)
      await done
    }
    yield* Effect.promise(() => walk(outer, 0))
    return { outer, contents }
  })

describe(`BuildKit builds on engine ${target.id} (${target.host})`, () => {
  live(
    "multi-stage with target, build args and a cache mount: the image prints what the Dockerfile wrote",
    (images) =>
      Effect.gen(function*() {
        const mark = uniqueName("mark")
        const { events, result, tag } = yield* buildCollecting(images, {
          Dockerfile: [
            "FROM busybox:local AS base",
            "ARG GREETING",
            "RUN --mount=type=cache,target=/cache echo \"$GREETING\" > /cache/hello && cp /cache/hello /hello",
            "FROM base AS runtime",
            "ARG MARK",
            "RUN echo \"$MARK\" > /mark && echo built-$MARK",
            "CMD [\"cat\", \"/hello\", \"/mark\"]",
            "FROM runtime AS never",
            "RUN exit 1",
            ""
          ].join("\n")
        }, { target: "runtime", buildargs: { GREETING: "hello from buildkit", MARK: mark } })
        expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(result.tags).toEqual([tag])
        const inspected = yield* images.inspect(tag)
        expect(inspected.Id).toBe(result.imageId)
        expect(yield* runOutput(tag, [])).toBe(`hello from buildkit\n${mark}\n`)
        // Typed progress: named steps with start and completion, the RUN's output as a log line.
        const vertices = events.filter((e) => e._tag === "Vertex")
        const run = vertices.filter((v) => v.name.includes("> /mark && echo built-"))
        expect(run.length, vertices.map((v) => v.name).join("\n")).toBeGreaterThan(0)
        expect(run.at(-1)!.completed?.seconds).toBeGreaterThan(1_600_000_000)
        expect(run.at(-1)!.error).toBeUndefined()
        expect(vertices.some((v) => v.name.includes("RUN exit 1"))).toBe(false) // the target stopped before it
        const logs = events.filter((e) => e._tag === "VertexLog" && e.vertex === run[0]!.digest)
        expect(logs.map((l) => Buffer.from((l as { data: Uint8Array }).data).toString()).join("")).toContain(
          `built-${mark}`
        )
        expect(events.at(-1)?._tag === "ImageId" || events.some((e) => e._tag === "ImageId")).toBe(true)
        const step = result.steps.find((s) => s.vertex.digest === run[0]!.digest)
        expect(step?.lines).toContain(`built-${mark}`)
      })
  )

  live(
    "a secret reaches its RUN and is in no layer, history entry or progress message",
    (images) =>
      Effect.gen(function*() {
        const secret = `s3cret-${uniqueName("token")}`
        const fileSecret = `file-${uniqueName("secret")}`
        const envSecret = `env-${uniqueName("secret")}`
        const envName = `ED_BK_SECRET_${process.pid}`
        process.env[envName] = envSecret
        yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env[envName]))
        const secretFile = join(tempDir("ed-secret-"), "value")
        writeFileSync(secretFile, fileSecret)
        const { events, tag } = yield* buildCollecting(images, {
          Dockerfile: [
            "FROM busybox:local",
            "RUN --mount=type=secret,id=token --mount=type=secret,id=fromfile " +
            "--mount=type=secret,id=fromenv " +
            "busybox sha256sum /run/secrets/token > /sum && busybox sha256sum /run/secrets/fromfile >> /sum && " +
            "busybox sha256sum /run/secrets/fromenv >> /sum && " +
            "echo mounted",
            "CMD [\"cat\", \"/sum\"]",
            ""
          ].join("\n")
        }, {
          // A secret's value is not part of BuildKit's cache key: without nocache an earlier run's step is reused.
          nocache: true,
          secrets: { token: Redacted.make(secret), fromfile: { file: secretFile }, fromenv: { env: envName } }
        })
        const sha = (text: string) => createHash("sha256").update(text).digest("hex")
        const printed = yield* runOutput(tag, [])
        expect(printed).toBe(
          `${sha(secret)}  /run/secrets/token\n${sha(fileSecret)}  /run/secrets/fromfile\n` +
            `${sha(envSecret)}  /run/secrets/fromenv\n`
        )
        const saved = yield* savedBytes(images, tag)
        expect(saved.contents.length).toBeGreaterThan(2)
        for (const value of [secret, fileSecret, envSecret]) {
          expect(saved.outer.includes(value)).toBe(false)
          expect(saved.contents.some((c) => c.includes(value))).toBe(false)
          expect(eventsText(events)).not.toContain(value)
          expect(JSON.stringify(yield* images.history(tag))).not.toContain(value)
        }
      })
  )

  live(
    "a secret the build asks for but was not given fails the build with the step",
    (images) =>
      Effect.gen(function*() {
        const error = yield* buildCollecting(images, {
          Dockerfile: "FROM busybox:local\nRUN --mount=type=secret,id=missing,required=true cat /run/secrets/missing\n"
        }, { secrets: {} }).pipe(Effect.flip)
        expect(error._tag).toBe("BuildFailedError")
        if (error._tag !== "BuildFailedError") return
        expect(error.daemonMessage).toMatch(/missing/)
      })
  )

  live("a failing RUN is BuildFailedError with the step and its last output lines", (images) =>
    Effect.gen(function*() {
      const mark = uniqueName("fail")
      const error = yield* buildCollecting(images, {
        Dockerfile: `FROM busybox:local\nRUN echo first-${mark} && echo second-${mark} >&2 && exit 3\n`
      }).pipe(Effect.flip)
      expect(error._tag).toBe("BuildFailedError")
      if (error._tag !== "BuildFailedError") return
      expect(error.step?.name).toContain(`RUN echo first-${mark}`)
      expect(error.step?.error).toMatch(/exit code: 3/)
      expect(error.logs).toEqual(expect.arrayContaining([`first-${mark}`, `second-${mark}`]))
      expect(error.message).toContain(`first-${mark}`)
      expect(error.daemonMessage).toMatch(/exit code: 3/)
    }))

  live(
    "without a session (session: false), a plain build still works and a secret mount is refused",
    (images) =>
      Effect.gen(function*() {
        const { result } = yield* buildCollecting(images, { Dockerfile: "FROM busybox:local\nRUN echo ok > /ok\n" }, {
          session: false
        })
        expect(result.imageId).toMatch(/^sha256:/)
        const error = yield* buildCollecting(images, {
          Dockerfile: "FROM busybox:local\nRUN --mount=type=secret,id=s cat /run/secrets/s\n"
        }, { session: false }).pipe(Effect.flip)
        expect(error._tag).toBe("BuildFailedError")
        expect((error as { daemonMessage: string }).daemonMessage).toMatch(/no active session/)
      })
  )
})

/** The processes of this machine whose command line holds `mark` (the daemon's build steps). */
const processesWith = (mark: string): Array<string> =>
  readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(mark)
    } catch {
      return false
    }
  })

describe(`BuildKit interruption on engine ${target.id}`, () => {
  bkLive("interrupting a build stops its RUN on the daemon and closes the session", () =>
    Effect.gen(function*() {
      const images = yield* Images
      const mark = `ed-sleep-${uniqueName("int")}`
      let session: BuildKitSession | undefined
      const { buildKitStream } = yield* Effect.promise(() => import("../../src/buildkit/build.js"))
      const engine: DockerEngineShape = yield* DockerEngine
      void images
      const fiber = yield* buildKitStream(
        engine,
        { networkmode: "none", nocache: true, contentType: "application/x-tar" },
        tarOf({ Dockerfile: `FROM busybox:local\nRUN sleep 300 && echo ${mark}\n` }),
        {},
        (e) => e,
        (s) => (session = s)
      ).pipe(Stream.runDrain, Effect.forkChild)
      // Wait (bounded) until the RUN's process exists on this machine.
      yield* Effect.gen(function*() {
        for (let i = 0; i < 300; i++) {
          if (processesWith(mark).length > 0) return
          yield* Effect.sleep("100 millis")
        }
        throw new Error("the RUN never started")
      })
      expect(session?.closed()).toBe(false)
      yield* Fiber.interrupt(fiber)
      expect(session?.closed()).toBe(true)
      yield* Effect.gen(function*() {
        for (let i = 0; i < 300; i++) {
          if (processesWith(mark).length === 0) return
          yield* Effect.sleep("100 millis")
        }
      })
      expect(processesWith(mark)).toEqual([])
    }).pipe(Effect.provide(layerWith({ configDir: emptyConfigDir }))), 90_000)
})

describe(`BuildKit session on engine ${target.id}`, () => {
  bkLive(
    "the daemon checks the session's health service, and the session closes with its scope",
    () =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const { openSession } = yield* Effect.promise(() => import("../../src/buildkit/session.js"))
        const session = yield* Effect.scoped(Effect.gen(function*() {
          const session = yield* openSession(engine, {})
          expect(session.methods).toEqual(["/grpc.health.v1.Health/Check"])
          for (let i = 0; i < 200 && !session.calls.includes("/grpc.health.v1.Health/Check"); i++) {
            yield* Effect.sleep("100 millis")
          }
          expect(session.calls).toContain("/grpc.health.v1.Health/Check")
          expect(session.closed()).toBe(false)
          return session
        }))
        expect(session.closed()).toBe(true)
      }).pipe(Effect.provide(layerWith({ configDir: emptyConfigDir }))),
    60_000
  )
})

describe(`BuildKit registry credentials on engine ${target.id}`, () => {
  /** Pushes busybox:local as a private image in the authenticated registry; no local copy is kept. */
  const privateBase = (images: ImagesShape) =>
    Effect.gen(function*() {
      const base = `${REGISTRY}/${uniqueRepo("bkbase")}:1`
      yield* images.tag(TEST_IMAGE, base)
      yield* images.push(base, { auth: registryCredentials({ username: USER, password: PASSWORD }) })
      yield* images.remove(base)
      return base
    })

  const fromPrivate = (images: ImagesShape, base: string) =>
    buildCollecting(images, { Dockerfile: `FROM ${base}\nRUN echo from-private > /p\nCMD ["cat", "/p"]\n` })

  bkLive("FROM a private image: config.json, a credential helper, and Unauthorized without", () => {
    const configWithAuths = tempDir("ed-bkauth-")
    writeFileSync(
      join(configWithAuths, "config.json"),
      JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } } })
    )
    const helperDir = tempDir("ed-bkhelper-")
    writeCredentialHelper(helperDir, { name: "edbk", registry: REGISTRY, username: USER, secret: PASSWORD })
    return Effect.gen(function*() {
      const images = yield* Images
      // A failure says which step it was (a flake seen once did not).
      const named = (what: string) =>
        Effect.mapError((e: { readonly _tag: string; readonly message: string }) =>
          new Error(`${what}: ${e._tag}: ${e.message}`)
        )
      const base = yield* privateBase(images).pipe(named("push of the private base"))
      const anonymous = yield* fromPrivate(images, base).pipe(Effect.flip)
      expect(anonymous._tag, anonymous.message).toBe("Unauthorized")
      expect(anonymous.message).not.toContain(PASSWORD)

      // Every span and log line of the builds, to search for the password.
      const { spans, tracer } = recordingTracer()
      const logged: Array<string> = []
      const collector = Logger.make((options) => void logged.push(JSON.stringify(options.message)))
      const observed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(
          Effect.withTracer(tracer),
          Effect.provide(Logger.layer([collector])),
          Effect.provideService(References.MinimumLogLevel, "All")
        )
      const layers = [
        ["config.json", layerWith({ configDir: configWithAuths })],
        [
          "credential helper",
          layerWith({ configDir: helperDir, env: { PATH: `${helperDir}:${process.env.PATH ?? ""}` } })
        ]
      ] as const
      for (const [what, layer] of layers) {
        const { events, tag } = yield* observed(Effect.flatMap(Images, (i) => fromPrivate(i, base))).pipe(
          Effect.provide(layer),
          named(what)
        )
        expect(yield* runOutput(tag, []).pipe(Effect.provide(layer))).toBe("from-private\n")
        expect(eventsText(events)).not.toContain(PASSWORD)
        expect(eventsText(events)).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"))
      }
      // Explicit credentials per registry host (no config at all).
      const explicit = yield* observed(
        buildCollecting(images, { Dockerfile: `FROM ${base}\nRUN echo explicit > /p\n` }, {
          auth: { [REGISTRY]: registryCredentials({ username: USER, password: PASSWORD }) }
        })
      ).pipe(named("explicit credentials"))
      expect(explicit.result.imageId).toMatch(/^sha256:/)
      expect(eventsText(explicit.events)).not.toContain(PASSWORD)
      const refusedAgain = yield* observed(fromPrivate(images, base)).pipe(Effect.flip)
      expect(refusedAgain._tag, refusedAgain.message).toBe("Unauthorized")
      expect(JSON.stringify(refusedAgain)).not.toContain(PASSWORD)
      expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(["Session", "ImageBuild"]))
      const spanText = JSON.stringify(
        spans.map((s) => [s.name, [...s.attributes], s.status._tag === "Ended" ? String(s.status.exit) : ""]),
        (_k, v) => typeof v === "bigint" ? String(v) : v
      )
      expect(spanText).not.toContain(PASSWORD)
      expect(logged.join("\n")).not.toContain(PASSWORD)
    }).pipe(Effect.scoped, Effect.provide(layerWith({ configDir: emptyConfigDir })))
  }, 180_000)
})

describe(`BuildKit SSH forwarding on engine ${target.id}`, () => {
  /** Builds the helper into an image running it (`args`) under `RUN --mount=type=ssh`; its output. */
  const probe = (
    images: ImagesShape,
    ssh: NonNullable<BuildKitBuildOptions["ssh"]>,
    args: ReadonlyArray<string> = []
  ) =>
    Effect.gen(function*() {
      const tag = `${uniqueRepo("bkssh")}:1`
      yield* removeLater(images, tag)
      const context = tarOf({
        Dockerfile: "FROM busybox:local\nCOPY ssh-list /ssh-list\n" +
          `RUN --mount=type=ssh /ssh-list ${args.join(" ")} > /keys\nCMD ["cat", "/keys"]\n`,
        "ssh-list": readFileSync(sshHelperBinary())
      }, { "ssh-list": 0o755 })
      yield* images.build({ tar: context }, {
        builder: "buildkit",
        networkmode: "none",
        labels: testLabels(),
        t: [tag],
        nocache: true, // the agent's keys are not part of the cache key either
        ssh
      })
      return yield* runOutput(tag, [])
    })

  bkLive("RUN --mount=type=ssh sees the forwarded agent: the helper lists the test key", () =>
    Effect.gen(function*() {
      const dir = tempDir("ed-ssh-")
      const key = join(dir, "id_ed25519")
      const comment = uniqueName("sshkey")
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key])
      const socket = join(dir, "agent.sock")
      const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" })
      yield* Effect.addFinalizer(() => Effect.sync(() => agent.kill()))
      yield* Effect.gen(function*() {
        for (let i = 0; i < 100; i++) {
          try {
            execFileSync("ssh-add", [key], { env: { SSH_AUTH_SOCK: socket }, stdio: "ignore" })
            return
          } catch {
            yield* Effect.sleep("50 millis")
          }
        }
      })
      const images = yield* Images
      const output = yield* probe(images, { default: { socket } })
      expect(output).toContain("1 keys\n")
      expect(listed(output)).toEqual([{ fingerprint: fingerprintOf(`${key}.pub`), comment }])
    }).pipe(Effect.scoped, Effect.provide(layerWith({ configDir: emptyConfigDir }))), 120_000)

  bkLive(
    "given keys, no agent: the session is the agent — lists them as ssh-keygen -lf does, signs a challenge the host verifies, refuses anything else",
    () =>
      Effect.gen(function*() {
        const dir = tempDir("ed-sshkeys-")
        const passphrase = `pass-${uniqueName("ssh")}`
        const keygen = (name: string, args: Array<string>, pass = "") => {
          const path = join(dir, name)
          const comment = uniqueName(name)
          execFileSync("ssh-keygen", ["-q", "-N", pass, "-C", comment, "-f", path, ...args])
          return { path, comment, text: readFileSync(path, "utf8"), fingerprint: fingerprintOf(`${path}.pub`) }
        }
        const ed25519 = keygen("id_ed25519", ["-t", "ed25519"])
        const rsa = keygen("id_rsa", ["-t", "rsa", "-b", "2048", "-a", "4"], passphrase) // encrypted OpenSSH format
        const ecdsa = keygen("id_ecdsa", ["-t", "ecdsa", "-m", "PEM"]) // PEM: no comment inside
        const challenge = `challenge-${uniqueName("sign")}`
        const images = yield* Images
        const output = yield* probe(images, {
          default: {
            keys: [
              { file: ed25519.path },
              { key: Redacted.make(rsa.text), passphrase: Redacted.make(passphrase) },
              { file: ecdsa.path }
            ]
          }
        }, [challenge])
        expect(output).toContain("3 keys\n")
        expect(listed(output)).toEqual([
          { fingerprint: ed25519.fingerprint, comment: ed25519.comment },
          { fingerprint: rsa.fingerprint, comment: rsa.comment },
          { fingerprint: ecdsa.fingerprint, comment: ecdsa.path } // listed by its file, as ssh-add does
        ])
        // Each signature verifies on the host with the public key ssh-keygen wrote.
        const signatures = output.split("\n").filter((l) => l.startsWith("sig ")).map((l) => signatureOf(l.slice(4)))
        expect(signatures.map((s) => s.algorithm)).toEqual(["ssh-ed25519", "rsa-sha2-512", "ecdsa-sha2-nistp256"])
        const data = Buffer.from(challenge)
        expect(verify(`${ed25519.path}.pub`, null, data, signatures[0]!.bytes)).toBe(true)
        expect(verify(`${rsa.path}.pub`, "sha512", data, signatures[1]!.bytes)).toBe(true)
        expect(verify(`${ecdsa.path}.pub`, "sha256", data, ecdsaDer(signatures[2]!.bytes))).toBe(true)
        expect(verify(`${rsa.path}.pub`, "sha512", Buffer.from("other data"), signatures[1]!.bytes)).toBe(false)
        expect(output).toContain("other 5\n") // ADD_IDENTITY: SSH_AGENT_FAILURE
        expect(output).not.toContain(passphrase)
      }).pipe(Effect.scoped, Effect.provide(layerWith({ configDir: emptyConfigDir }))),
    120_000
  )

  bkLive(
    "an encrypted key without its passphrase, or a wrong one, is SshKeyError naming neither",
    () =>
      Effect.gen(function*() {
        const dir = tempDir("ed-sshbad-")
        const passphrase = `pass-${uniqueName("ssh")}`
        const path = join(dir, "id_ed25519")
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-a", "4", "-N", passphrase, "-f", path])
        const text = readFileSync(path, "utf8")
        const images = yield* Images
        const missing = yield* probe(images, { default: { keys: [{ file: path }] } }).pipe(Effect.flip)
        expect(missing._tag).toBe("SshKeyError")
        if (missing._tag !== "SshKeyError") return
        expect(missing.problem).toBe("Encrypted")
        expect(missing.key).toBe(path)
        const wrong = yield* probe(images, {
          deploy: { keys: [{ key: Redacted.make(text), passphrase: Redacted.make("wrong passphrase") }] }
        }).pipe(Effect.flip)
        expect(wrong).toMatchObject({ _tag: "SshKeyError", problem: "WrongPassphrase", id: "deploy", key: "key 1" })
        for (const error of [missing, wrong]) {
          expect(JSON.stringify(error)).not.toContain(passphrase)
          expect(JSON.stringify(error)).not.toContain(text.split("\n")[1]!)
          expect(String(error)).not.toContain(passphrase)
        }
      }).pipe(Effect.scoped, Effect.provide(layerWith({ configDir: emptyConfigDir }))),
    60_000
  )
})

/** The helper's `key <hex blob> <comment>` lines as `ssh-keygen -lf` prints them: SHA256 fingerprint, comment. */
const listed = (output: string) =>
  output.split("\n").filter((l) => l.startsWith("key ")).map((line) => {
    const [, blob, ...comment] = line.split(" ")
    const digest = createHash("sha256").update(Buffer.from(blob!, "hex")).digest("base64").replace(/=+$/, "")
    return { fingerprint: `SHA256:${digest}`, comment: comment.join(" ") }
  })

/** `ssh-keygen -lf`'s fingerprint of a public key file. */
const fingerprintOf = (pub: string) => execFileSync("ssh-keygen", ["-lf", pub], { encoding: "utf8" }).split(" ")[1]!

/** A signature blob (hex): its algorithm and signature bytes. */
const signatureOf = (hexBlob: string) => {
  const blob = Buffer.from(hexBlob, "hex")
  const algorithmLength = blob.readUInt32BE(0)
  const algorithm = blob.subarray(4, 4 + algorithmLength).toString()
  const bytesLength = blob.readUInt32BE(4 + algorithmLength)
  return { algorithm, bytes: blob.subarray(8 + algorithmLength, 8 + algorithmLength + bytesLength) }
}

/** An ECDSA signature's (mpint r, mpint s) as DER for `crypto.verify`. */
const ecdsaDer = (inner: Buffer) => {
  const r = inner.subarray(4, 4 + inner.readUInt32BE(0))
  const rest = inner.subarray(4 + r.length)
  const s = rest.subarray(4, 4 + rest.readUInt32BE(0))
  const int = (b: Buffer) => Buffer.concat([Buffer.of(0x02, b.length), b])
  const body = Buffer.concat([int(r), int(s)])
  return Buffer.concat([Buffer.of(0x30, body.length), body])
}

/**
 * Verifies with the public key of a `.pub` file, read independently of the client: RSA and ECDSA
 * as `ssh-keygen -e -m PKCS8` exports them, Ed25519 (which it does not export) from the file's blob.
 */
const verify = (pub: string, hash: string | null, data: Buffer, signature: Buffer) => {
  const [type, base64] = readFileSync(pub, "utf8").split(" ")
  const key = type === "ssh-ed25519"
    ? createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(base64!, "base64").subarray(-32).toString("base64url") },
      format: "jwk"
    })
    : createPublicKey(execFileSync("ssh-keygen", ["-e", "-m", "PKCS8", "-f", pub]))
  return cryptoVerify(hash, data, key, signature)
}

/** The static ssh-agent client (test/support/ssh-list.c), compiled once per machine and version of its source. */
const sshHelperBinary = (): string => {
  const source = join(import.meta.dirname, "../support/ssh-list.c")
  const version = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12)
  const out = join(tmpdir(), `effect-docker-ssh-list-${version}`)
  try {
    readFileSync(out)
  } catch {
    // Compiled beside and renamed, so a concurrent run never executes a half-written binary.
    const partial = `${out}.${process.pid}`
    execFileSync("gcc", ["-static", "-O2", "-o", partial, source])
    renameSync(partial, out)
  }
  return out
}
