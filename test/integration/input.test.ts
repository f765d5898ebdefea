/**
 * Issue #11 (items 2, 6) on a real engine: bad input is refused before anything is sent (path
 * parameters, image references), and a body field a newer spec removed because the daemon now
 * always does what it asked (NetworkCreate.CheckDuplicate) is sent where the version has it and
 * dropped where it does not, so code written for older daemons keeps working.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, References } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { compareApiVersions } from "../../src/engine/api-version.js"
import { DockerEngine } from "../../src/engine/engine.js"
import { ContainerDelete } from "../../src/generated/operations/container/ContainerDelete.js"
import { ContainerInspect } from "../../src/generated/operations/container/ContainerInspect.js"
import { ImageDelete } from "../../src/generated/operations/image/ImageDelete.js"
import { ImageInspect } from "../../src/generated/operations/image/ImageInspect.js"
import { NetworkInspect } from "../../src/generated/operations/network/NetworkInspect.js"
import { familiarReference } from "../../src/index.js"
import { Images } from "../../src/services/images.js"
import { countingProxy } from "../support/counting-proxy.js"
import { currentEngine } from "../support/engines.js"
import { runId, TEST_LABEL } from "../support/labels.js"
import { scopedNetwork, TEST_IMAGE, uniqueName } from "../support/resources.js"

const target = currentEngine()
const emptyConfigDir = mkdtempSync(join(tmpdir(), "ed-noconfig-"))
afterAll(() => rmSync(emptyConfigDir, { recursive: true, force: true }))
const layerOver = (host: string) =>
  Layer.provideMerge(Images.layerWith({ credentials: { configDir: emptyConfigDir } }), DockerEngine.layer({ host }))

/** Requests the proxy saw besides the version negotiation. */
const sentBesidesPing = (requests: ReadonlyArray<string>) => requests.filter((r) => !r.endsWith("/_ping"))

describe(`input checks on engine ${target.id}`, () => {
  it.live(
    "NetworkCreate with CheckDuplicate at the engine's own version: created, a duplicate refused",
    () =>
      Effect.gen(function*() {
        const logs: Array<string> = []
        const collector = Logger.make((options) => {
          logs.push([options.message].flat().map(String).join(" "))
        })
        yield* Effect.gen(function*() {
          const engine = yield* DockerEngine
          const name = uniqueName("dup")
          const network = yield* scopedNetwork(engine, { CheckDuplicate: true }, name)
          const inspected = yield* engine.json(NetworkInspect, { id: network.id })
          expect(inspected.Name).toBe(name)
          expect(inspected.Labels?.[TEST_LABEL]).toBe(runId())
          // The daemon checked for a duplicate, as asked (20.10 because it was sent, newer ones always).
          const duplicate = yield* Effect.flip(scopedNetwork(engine, { CheckDuplicate: true }, name))
          expect(duplicate._tag).toBe("Conflict")
          const version = yield* engine.apiVersion
          const removedAtThisVersion = compareApiVersions(version, "1.45") > 0
          if (target.id === "docker-latest") expect(removedAtThisVersion).toBe(true)
          const dropped = logs.filter((line) => line.includes("NetworkCreate: left out field \"CheckDuplicate\""))
          expect(dropped).toHaveLength(removedAtThisVersion ? 2 : 0)
        }).pipe(
          Effect.provide(Layer.mergeAll(layerOver(target.host), Logger.layer([collector]))),
          Effect.provideService(References.MinimumLogLevel, "Debug")
        )
      }),
    60_000
  )

  it.live("path parameters that are missing or hold '..' are refused; nothing is sent", () =>
    Effect.gen(function*() {
      const proxy = yield* countingProxy(target.host)
      yield* Effect.gen(function*() {
        const engine = yield* DockerEngine
        const traversal = yield* Effect.flip(
          engine.empty(ContainerDelete, { id: `../../images/${uniqueName("never")}` })
        )
        expect(traversal._tag).toBe("InvalidArgumentError")
        expect(traversal.message).toMatch(/^ContainerDelete: "id" \(".*"\) has a "\." or "\.\." path segment$/)
        // Through a cast, as JavaScript callers can: refused rather than sent as `/containers/{id}/json`.
        const missing = yield* Effect.flip(engine.json(ContainerInspect, {} as never))
        expect(missing).toMatchObject({ _tag: "InvalidArgumentError", argument: "id" })
        const empty = yield* Effect.flip(engine.json(ContainerInspect, { id: "" }))
        expect(empty.message).toBe("ContainerInspect: \"id\" is empty")
      }).pipe(Effect.provide(layerOver(proxy.host)))
      expect(sentBesidesPing(proxy.requests())).toEqual([])
    }), 60_000)

  it.live(
    "Images refuse bad references before sending; a normalised one tags as the CLI does",
    () =>
      Effect.gen(function*() {
        const repo = uniqueName("ref")
        const proxy = yield* countingProxy(target.host)
        // Should `a:b:c` ever be sent again, the daemon would make `a:c`: removed here either way.
        yield* Effect.addFinalizer(() =>
          Effect.provide(
            Effect.flatMap(DockerEngine, (engine) =>
              Effect.forEach(
                [`${repo}:c`, `${repo}:ok`],
                (name) => Effect.ignore(engine.empty(ImageDelete, { name })),
                { discard: true }
              )),
            DockerEngine.layer({ host: target.host })
          ).pipe(Effect.ignore)
        )
        yield* Effect.gen(function*() {
          const images = yield* Images
          const engine = yield* DockerEngine
          const refusals = [
            yield* Effect.flip(images.tag(TEST_IMAGE, `${repo}:b:c`)),
            yield* Effect.flip(images.pull("Busybox:local")),
            yield* Effect.flip(images.push(`127.0.0.1:5001/${repo}@sha256:${"a".repeat(64)}`)),
            yield* Effect.flip(images.push(`127.0.0.1:5001/${repo}`, { tag: "-bad" })),
            yield* Effect.flip(images.commit("no-such-container", { reference: `${repo}:b:c` })),
            yield* Effect.flip(images.pull(`${repo}@sha256:abc`)),
            yield* Effect.flip(images.search(""))
          ]
          expect(refusals.map((e) => [e._tag, "rule" in e ? e.rule : undefined, "operation" in e ? e.operation : ""]))
            .toEqual([
              ["InvalidReferenceError", "name-format", "ImageTag"],
              ["InvalidReferenceError", "lowercase", "ImageCreate"],
              ["InvalidReferenceError", "digest-not-allowed", "ImagePush"],
              ["InvalidReferenceError", "tag-format", "ImagePush"],
              ["InvalidReferenceError", "name-format", "ImageCommit"],
              ["InvalidReferenceError", "digest-format", "ImageCreate"],
              ["InvalidReferenceError", "empty", "ImageSearch"]
            ])
          expect(refusals[0]!.message).toContain(`invalid image reference "${repo}:b:c"`)
          expect(sentBesidesPing(proxy.requests())).toEqual([])
          expect((yield* Effect.flip(engine.json(ImageInspect, { name: `${repo}:c` })))._tag).toBe("NotFound")

          // Docker Hub normalisation: the CLI sends the familiar name, and so do we.
          yield* images.tag(TEST_IMAGE, `docker.io/library/${repo}:ok`)
          expect(proxy.requests().filter((r) => r.includes("/tag?"))).toEqual([
            `POST /v${yield* engine.apiVersion}/images/${TEST_IMAGE}/tag?repo=${repo}&tag=ok`
          ])
          // Podman's RepoTags are fully qualified (docker.io/library/…).
          expect((yield* engine.json(ImageInspect, { name: `${repo}:ok` })).RepoTags?.map(familiarReference))
            .toContain(`${repo}:ok`)
        }).pipe(Effect.provide(layerOver(proxy.host)))
      }),
    60_000
  )
})
