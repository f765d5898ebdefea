/**
 * Issue #6's registry proof on a real engine, against the project's registries on 127.0.0.1:
 * login, push → remove → pull (same digest) with basic auth, wrong credentials as `Unauthorized`
 * (never a silent anonymous pull), credentials from a credential helper named in config.json, and
 * an anonymous push to the registry without auth. Repositories are unique per run; every tag the
 * tests create is removed in a finalizer.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { DockerEngine } from "../../src/engine/engine.js"
import { DistributionInspect } from "../../src/generated/operations/distribution/DistributionInspect.js"
import { packTar } from "../../src/index.js"
import { Images, type ImagesShape, makeImages } from "../../src/services/images.js"
import { encodeRegistryAuth, registryCredentials } from "../../src/wire/registry-auth.js"
import { writeCredentialHelper } from "../support/docker-config.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { losslessProbe } from "../support/lossless.js"
import { onPodman, podmanOr } from "../support/podman-limitations.js"
import { TEST_IMAGE, uniqueName } from "../support/resources.js"

const target = currentEngine()
const env = engineEnv()
const REGISTRY = env.EFFECT_DOCKER_REGISTRY ?? "127.0.0.1:5000"
const REGISTRY_NOAUTH = env.EFFECT_DOCKER_REGISTRY_NOAUTH ?? "127.0.0.1:5001"
const USER = env.EFFECT_DOCKER_REGISTRY_USER ?? "testuser"
const PASSWORD = env.EFFECT_DOCKER_REGISTRY_PASSWORD ?? "testpass"
const good = registryCredentials({ username: USER, password: PASSWORD })
const wrong = registryCredentials({ username: USER, password: `${PASSWORD}-wrong` })

const emptyConfigDir = mkdtempSync(join(tmpdir(), "ed-noconfig-"))
afterAll(() => rmSync(emptyConfigDir, { recursive: true, force: true }))
const engineLayer = DockerEngine.layer({ host: target.host })
const layerWith = (credentials: Parameters<typeof Images.layerWith>[0]["credentials"]) =>
  Layer.provideMerge(Images.layerWith({ credentials }), engineLayer)

const live = (
  name: string,
  body: (images: ImagesShape) => Effect.Effect<void, unknown, Scope.Scope | DockerEngine>,
  layer = layerWith({ configDir: emptyConfigDir }),
  timeout = 120_000
) => it.live(name, () => Effect.flatMap(Images, body).pipe(Effect.scoped, Effect.provide(layer)), timeout)

/** A repository in `registry` unique to this run and test. */
const repository = (registry: string, what: string) => `${registry}/${uniqueName(what).toLowerCase()}`

/** Tags `busybox:local` as `reference` and removes the tag when the scope closes. */
const scopedTag = (images: ImagesShape, reference: string) =>
  Effect.acquireRelease(
    images.tag(TEST_IMAGE, reference),
    () =>
      images.remove(reference).pipe(
        Effect.catchTag("NotFound", () => Effect.succeed([])),
        Effect.catch((error) => Effect.logWarning(`could not untag ${reference}: ${String(error)}`)),
        Effect.asVoid
      )
  )

describe(`registries on engine ${target.id} (${target.host})`, () => {
  live(
    "login: accepted credentials, and a wrong password as Unauthorized",
    (images) =>
      podmanOr(
        "login-tls",
        Effect.gen(function*() {
          const ok = yield* images.login({ username: USER, password: Redacted.make(PASSWORD), serverAddress: REGISTRY })
          expect(ok.Status).toBe("Login Succeeded")
          const refused = yield* images.login({
            username: USER,
            password: Redacted.make("definitely-wrong"),
            serverAddress: REGISTRY
          }).pipe(Effect.flip)
          expect(refused._tag).toBe("Unauthorized")
          expect(refused.message).not.toContain("definitely-wrong")
        })
      )
  )

  live("push → remove → pull with basic auth gives the same digest", (images) =>
    Effect.gen(function*() {
      const reference = `${repository(REGISTRY, "push")}:1`
      yield* scopedTag(images, reference)
      const statuses: Array<string> = []
      const pushed = yield* images.push(reference, {
        auth: good,
        onProgress: (m) => Effect.sync(() => statuses.push(m.status ?? ""))
      })
      expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(pushed.tag).toBe("1")
      // The layer's fate: uploaded, already there, or mounted from another repository of the registry.
      // Podman reports no layer's fate, only the manifest's `…digest: sha256:… size: N` in a status.
      expect(statuses.some((s) =>
        onPodman
          ? s.includes(pushed.digest)
          : s === "Pushed" || s === "Layer already exists" || s.startsWith("Mounted from")
      )).toBe(true)

      // DistributionInspect (the daemon asks the registry, with the undocumented X-Registry-Auth):
      // decodes and names the digest just pushed.
      // Through the lossless probe: the raw answer and the decoded one must agree.
      const engine = yield* DockerEngine
      yield* podmanOr(
        "distribution",
        Effect.gen(function*() {
          const probe = losslessProbe(engine)
          const distribution = yield* probe.engine.json(DistributionInspect, {
            name: reference,
            registryAuth: encodeRegistryAuth(good)
          })
          expect(probe.unexplained()).toEqual([])
          expect(distribution.Descriptor?.digest).toBe(pushed.digest)
          expect(distribution.Descriptor?.mediaType).toMatch(/manifest/)
          expect(distribution.Descriptor?.size).toBeGreaterThan(0)
        })
      )

      yield* images.remove(reference)
      expect((yield* images.inspect(reference).pipe(Effect.flip))._tag).toBe("NotFound")

      const pulled = yield* images.pull(reference, { auth: good })
      // Podman's pull stream names no digest (nor a final status): the RepoDigests below do.
      expect(pulled.digest).toBe(onPodman ? undefined : pushed.digest)
      if (!onPodman) expect(pulled.status).toMatch(/Downloaded newer image|Image is up to date/)
      const inspected = yield* images.inspect(reference)
      expect(inspected.RepoDigests).toContain(`${reference.slice(0, -2)}@${pushed.digest}`)
      expect(inspected.Id).toBe((yield* images.inspect(TEST_IMAGE)).Id)
    }))

  it.live("Images.distribution: the registry's descriptor of a pushed image; anonymous is Unauthorized", () => {
    // Podman 4.3.1 has no /distribution (podman-limitations: distribution).
    if (onPodman) return podmanOr("distribution", Effect.void)
    // Images over a probed engine: the read is checked for lost keys like every other.
    return Effect.gen(function*() {
      const probe = losslessProbe(yield* DockerEngine)
      const images = makeImages(probe.engine, { credentials: { configDir: emptyConfigDir, env: {} } })
      const reference = `${repository(REGISTRY, "dist")}:1`
      yield* scopedTag(images, reference)
      const pushed = yield* images.push(reference, { auth: good })
      const inspected = yield* images.distribution(reference, { auth: good })
      expect(inspected.Descriptor?.digest).toBe(pushed.digest)
      expect(inspected.Descriptor?.size).toBe(pushed.size)
      expect(inspected.Platforms).toEqual(expect.arrayContaining([expect.objectContaining({ os: "linux" })]))
      // By digest, too: the same descriptor.
      const byDigest = yield* images.distribution(`${reference.slice(0, -2)}@${pushed.digest}`, { auth: good })
      expect(byDigest.Descriptor?.digest).toBe(pushed.digest)
      const anonymous = yield* images.distribution(reference, { auth: "anonymous" }).pipe(Effect.flip)
      expect(anonymous._tag).toBe("Unauthorized")
      const wrongly = yield* images.distribution(reference, { auth: wrong }).pipe(Effect.flip)
      expect(wrongly._tag).toBe("Unauthorized")
      expect(probe.unexplained()).toEqual([])
      expect(probe.compared()).toContain("DistributionInspect")
    }).pipe(Effect.scoped, Effect.provide(engineLayer))
  }, 120_000)

  live(
    "wrong credentials are Unauthorized on pull and push, never an anonymous success",
    (images) =>
      Effect.gen(function*() {
        const reference = `${repository(REGISTRY, "wrong")}:1`
        yield* scopedTag(images, reference)
        const push = yield* images.push(reference, { auth: wrong }).pipe(Effect.flip)
        expect(push._tag).toBe("Unauthorized")
        yield* images.push(reference, { auth: good })
        yield* images.remove(reference)
        const pull = yield* images.pull(reference, { auth: wrong }).pipe(Effect.flip)
        expect(pull._tag).toBe("Unauthorized")
        const anonymous = yield* images.pull(reference, { auth: "anonymous" }).pipe(Effect.flip)
        expect(anonymous._tag).toBe("Unauthorized")
        expect((yield* images.inspect(reference).pipe(Effect.flip))._tag).toBe("NotFound")
      })
  )

  it.live("credentials from a credential helper named in config.json reach the daemon", () => {
    // A docker-credential-<name> script on a private PATH; config.json names it for the registry.
    const dir = mkdtempSync(join(tmpdir(), "ed-helper-"))
    writeCredentialHelper(dir, { name: "edtest", registry: REGISTRY, username: USER, secret: PASSWORD })
    const layer = layerWith({ configDir: dir, env: { PATH: `${dir}:${process.env.PATH ?? ""}` } })
    return Effect.gen(function*() {
      const images = yield* Images
      const reference = `${repository(REGISTRY, "helper")}:1`
      yield* scopedTag(images, reference)
      const pushed = yield* images.push(reference) // default: credentials as the CLI finds them
      expect(pushed.digest).toMatch(/^sha256:/)
      yield* images.remove(reference)
      const pulled = yield* images.pull(reference)
      // Podman's pull stream names no digest: its RepoDigests do.
      if (onPodman) {
        expect((yield* images.inspect(reference)).RepoDigests).toContain(`${reference.slice(0, -2)}@${pushed.digest}`)
      } else expect(pulled.digest).toBe(pushed.digest)
    }).pipe(
      Effect.scoped,
      Effect.provide(layer),
      Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    )
  }, 120_000)

  live(
    "anonymous push to a registry without auth (X-Registry-Auth `{}` is always sent)",
    (images) =>
      Effect.gen(function*() {
        const reference = `${repository(REGISTRY_NOAUTH, "anon")}:1`
        yield* scopedTag(images, reference)
        // Docker names the digest in an `aux` message, Podman in a status: `push` reads either.
        const pushed = yield* images.push(reference, { auth: "anonymous" })
        expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      })
  )

  live(
    "a build pulls its base image from the authenticated registry with X-Registry-Config",
    (images) =>
      Effect.gen(function*() {
        const base = `${repository(REGISTRY, "base")}:1`
        yield* scopedTag(images, base)
        yield* images.push(base, { auth: good })
        yield* images.remove(base)
        const tarOf = (dockerfile: string) => packTar([{ name: "Dockerfile", content: dockerfile }])
        const refused = yield* images.build({ tar: tarOf(`FROM ${base}\nRUN true\n`) }, { registryConfig: "none" })
          .pipe(Effect.flip)
        expect(refused._tag).toBe("Unauthorized") // "no basic auth credentials", in the stream or as a status
        const built = yield* images.build({ tar: tarOf(`FROM ${base}\nRUN echo pulled-with-config\n`) }, {
          registryConfig: { [REGISTRY]: good },
          labels: { "effect-docker.test": process.env.EFFECT_DOCKER_TEST_RUN ?? "dev" }
        })
        yield* Effect.addFinalizer(() => Effect.ignore(images.remove(built.imageId, { force: true })))
        expect(built.output).toContain("pulled-with-config")
      })
  )
})
