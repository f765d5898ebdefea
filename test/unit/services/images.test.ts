/**
 * `Images`' own decisions, on a scripted daemon: references split into query values, which
 * credentials go into `X-Registry-Auth` / `X-Registry-Config` (and how they are encoded), how a
 * registry's refusal and in-stream errors surface, and what a progress stream run to completion
 * returns. Credentials come from a throwaway DOCKER_CONFIG directory, never the machine's.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Scope, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Images, type ImagesShape, registryCredentials } from "../../../src/index.js"
import { removeConfigDirs, tempDir } from "../../support/docker-config.js"
import {
  bytes,
  empty,
  type Handler,
  json,
  jsonLines,
  refuse,
  routes,
  runScripted,
  type ScriptedRequest
} from "../../support/scripted-daemon.js"

afterAll(removeConfigDirs)

/** A DOCKER_CONFIG directory with `config` as its config.json (none when omitted). */
const configDirWith = (config?: unknown): string => {
  const dir = tempDir("ed-images-")
  if (config !== undefined) writeFileSync(join(dir, "config.json"), JSON.stringify(config))
  return dir
}

/** Runs `f` on Images over a scripted daemon, credentials looked up in `configDir` only. */
const withImages = <A, E>(
  handler: Handler,
  f: (images: ImagesShape) => Effect.Effect<A, E, Scope.Scope>,
  configDir = configDirWith()
) => runScripted(handler, Images.layerWith({ credentials: { configDir, env: {} } }), Images.use(f))

/** Decodes a registry header, checking it is Go's `base64.URLEncoding`: URL-safe alphabet, `=` padded. */
const decodeRegistryHeader = (value: string | undefined): unknown => {
  expect(value).toMatch(/^[A-Za-z0-9_-]*={0,2}$/)
  expect((value ?? "").length % 4).toBe(0)
  return JSON.parse(Buffer.from(value ?? "", "base64url").toString("utf8"))
}
const registryAuthOf = (request: ScriptedRequest) => decodeRegistryHeader(request.headers["x-registry-auth"])

const pulled = jsonLines(
  { status: "Pulling from a/b", id: "1" },
  { status: "Digest: sha256:feed" },
  { status: "Status: Downloaded newer image for 127.0.0.1:5000/a/b:1" }
)
const pushed = jsonLines(
  { status: "The push refers to repository [127.0.0.1:5000/a/b]" },
  { status: "1: digest: sha256:beef size: 528" },
  { progressDetail: {}, aux: { Tag: "1", Digest: "sha256:beef", Size: 528 } }
)
// The password's base64 has `+` and `/` in the standard alphabet: the header must not.
const SECRET = "s3cr3t>>>???"

describe("Images: tag", () => {
  const tag = routes({ "POST /images/busybox/tag": empty(201) })

  it.live("tag(\"127.0.0.1:5000/a/b:1\") sends repo and tag; without a tag, \"latest\"", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withImages(
        tag,
        (images) =>
          Effect.andThen(images.tag("busybox", "127.0.0.1:5000/a/b:1"), images.tag("busybox", "127.0.0.1:5000/a/b"))
      )
      expect(daemon.requests().map((request) => Object.fromEntries(request.query))).toEqual([
        { repo: "127.0.0.1:5000/a/b", tag: "1" },
        { repo: "127.0.0.1:5000/a/b", tag: "latest" }
      ])
    }))
})

describe("Images: pull", () => {
  it.live("fromImage without the tag, tag apart, X-Registry-Auth e30= when there are no credentials; the result", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        routes({ "POST /images/create": pulled }),
        (images) => images.pull("127.0.0.1:5000/a/b:1")
      )
      expect(result).toEqual({ digest: "sha256:feed", status: "Downloaded newer image for 127.0.0.1:5000/a/b:1" })
      const request = daemon.only("POST /images/create")
      expect(Object.fromEntries(request.query)).toEqual({ fromImage: "127.0.0.1:5000/a/b", tag: "1" })
      expect(request.headers["x-registry-auth"]).toBe("e30=")
    }))

  it.live("no tag: \"latest\"; allTags: no tag; a digest goes in tag", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withImages(
        routes({ "POST /images/create": pulled }),
        (images) =>
          Effect.all([
            images.pull("busybox"),
            images.pull("busybox", { allTags: true, platform: "linux/arm64" }),
            images.pull("busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
          ])
      )
      expect(daemon.requests().map((request) => Object.fromEntries(request.query))).toEqual([
        { fromImage: "busybox", tag: "latest" },
        { fromImage: "busybox", platform: "linux/arm64" },
        { fromImage: "busybox", tag: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }
      ])
    }))

  it.live("a 500 \"unauthorized: authentication required\" is Unauthorized, with status 500", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        routes({
          "POST /images/create": refuse(
            500,
            "Head \"https://r/v2/a/b/manifests/1\": unauthorized: authentication required"
          )
        }),
        (images) => Effect.flip(images.pull("127.0.0.1:5000/a/b:1"))
      )
      expect(result._tag).toBe("Unauthorized")
      expect(result).toMatchObject({ operation: "ImageCreate", status: 500 })
    }))

  it.live("an in-stream {\"error\"} message is InStreamError", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        routes({
          "POST /images/create": jsonLines(
            { status: "Pulling from a/b", id: "1" },
            { errorDetail: { message: "manifest for a/b:1 not found" }, error: "manifest for a/b:1 not found" }
          )
        }),
        (images) => Effect.flip(images.pull("127.0.0.1:5000/a/b:1"))
      )
      expect(result._tag).toBe("InStreamError")
      expect(result).toMatchObject({ operation: "ImageCreate", daemonMessage: "manifest for a/b:1 not found" })
    }))

  it.live("a stream without a final status is IncompleteStreamError", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        routes({ "POST /images/create": jsonLines({ status: "Pulling from a/b", id: "1" }) }),
        (images) => Effect.flip(images.pull("a/b"))
      )
      expect(result._tag).toBe("IncompleteStreamError")
    }))
})

describe("Images: push and credentials", () => {
  const push = routes({ "POST /images/127.0.0.1:5000/a/b/push": pushed })

  it.live("anonymous push still sends X-Registry-Auth (e30=); name and tag split; the aux result", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        push,
        (images) => images.push("127.0.0.1:5000/a/b:1", { auth: "anonymous" })
      )
      expect(result).toEqual({ tag: "1", digest: "sha256:beef", size: 528 })
      const request = daemon.only("POST /images/127.0.0.1:5000/a/b/push")
      expect(Object.fromEntries(request.query)).toEqual({ tag: "1" })
      expect(request.headers["x-registry-auth"]).toBe("e30=")
      expect(registryAuthOf(request)).toEqual({})
    }))

  it.live("explicit credentials: the header decodes to their JSON (URL-safe base64, padded)", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withImages(
        push,
        (images) =>
          images.push("127.0.0.1:5000/a/b", {
            tag: "1",
            auth: registryCredentials({ username: "alice", password: SECRET, serverAddress: "127.0.0.1:5000" })
          })
      )
      const request = daemon.only("POST /images/127.0.0.1:5000/a/b/push")
      expect(Object.fromEntries(request.query)).toEqual({ tag: "1" })
      expect(registryAuthOf(request)).toEqual({ username: "alice", password: SECRET, serveraddress: "127.0.0.1:5000" })
    }))

  it.live("credentials from config.json for the reference's registry", () =>
    Effect.gen(function*() {
      const auth = Buffer.from(`bob:${SECRET}`).toString("base64")
      const configDir = configDirWith({ auths: { "127.0.0.1:5000": { auth }, "other.example": { auth: "eDp5" } } })
      const { daemon } = yield* withImages(push, (images) => images.push("127.0.0.1:5000/a/b:1"), configDir)
      expect(registryAuthOf(daemon.only("POST /images/127.0.0.1:5000/a/b/push"))).toMatchObject({
        username: "bob",
        password: SECRET
      })
    }))

  it.live("a refused push never carries the password in its error", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        routes({
          "POST /images/127.0.0.1:5000/a/b/push": jsonLines(
            { status: "The push refers to repository [127.0.0.1:5000/a/b]" },
            {
              errorDetail: { message: "unauthorized: authentication required" },
              error: "unauthorized: authentication required"
            }
          )
        }),
        (images) =>
          Effect.flip(
            images.push("127.0.0.1:5000/a/b:1", { auth: registryCredentials({ username: "alice", password: SECRET }) })
          )
      )
      expect(result._tag).toBe("Unauthorized")
      expect(result).toMatchObject({ status: 200 })
      for (const text of [String(result), result.message, JSON.stringify(result)]) expect(text).not.toContain(SECRET)
    }))
})

describe("Images: distribution", () => {
  const DIGEST = `sha256:${"ab".repeat(32)}`
  const answer = json({
    Descriptor: { mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: DIGEST, size: 528 },
    Platforms: [{ architecture: "amd64", os: "linux" }]
  })

  it.live("credentials from config.json for the reference's registry; the reference in its familiar form", () =>
    Effect.gen(function*() {
      const auth = Buffer.from(`bob:${SECRET}`).toString("base64")
      const configDir = configDirWith({ auths: { "127.0.0.1:5000": { auth } } })
      const { daemon, result } = yield* withImages(
        routes({ "GET /distribution/127.0.0.1:5000/a/b:1/json": answer }),
        (images) => images.distribution("127.0.0.1:5000/a/b:1"),
        configDir
      )
      expect(result.Descriptor?.digest).toBe(DIGEST)
      expect(registryAuthOf(daemon.only("GET /distribution/127.0.0.1:5000/a/b:1/json"))).toMatchObject({
        username: "bob",
        password: SECRET
      })
    }))

  it.live("Docker Hub names normalised for the credentials, sent short; a digest kept", () =>
    Effect.gen(function*() {
      const auth = Buffer.from(`hub:${SECRET}`).toString("base64")
      const configDir = configDirWith({ auths: { "https://index.docker.io/v1/": { auth } } })
      const path = `GET /distribution/busybox@${DIGEST}/json`
      const { daemon } = yield* withImages(
        routes({ [path]: answer }),
        (images) => images.distribution(`docker.io/library/busybox@${DIGEST}`),
        configDir
      )
      expect(registryAuthOf(daemon.only(path))).toMatchObject({ username: "hub" })
    }))

  it.live("a malformed reference fails before anything is sent; a refusal is Unauthorized", () =>
    Effect.gen(function*() {
      const bad = yield* withImages(routes({}), (images) => Effect.flip(images.distribution("a:b:c")))
      expect(bad.result._tag).toBe("InvalidReferenceError")
      expect(bad.daemon.calls()).toEqual([])
      const refused = yield* withImages(
        routes({
          "GET /distribution/127.0.0.1:5000/a/b:1/json": refuse(
            500,
            "Get \"http://127.0.0.1:5000/v2/a/b/manifests/1\": no basic auth credentials"
          )
        }),
        (images) => Effect.flip(images.distribution("127.0.0.1:5000/a/b:1", { auth: "anonymous" }))
      )
      expect(refused.result._tag).toBe("Unauthorized")
      expect(registryAuthOf(refused.daemon.only("GET /distribution/127.0.0.1:5000/a/b:1/json"))).toEqual({})
    }))
})

describe("Images: build", () => {
  const tar = Stream.make(new Uint8Array([10, 20, 30]), new Uint8Array([40]))
  const built = (...lines: ReadonlyArray<unknown>) => routes({ "POST /build": jsonLines(...lines) })

  it.live("the tar is sent chunked as application/x-tar; the result from aux {ID}", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        built({ stream: "Step 1/1 : FROM scratch\n" }, { aux: { ID: "sha256:1234" } }, {
          stream: "Successfully tagged x:1\n"
        }),
        (images) =>
          images.build({ tar, dockerfile: "sub/Dockerfile" }, { t: ["x:1"], buildargs: { A: "b" }, nocache: true })
      )
      expect(result).toEqual({
        imageId: "sha256:1234",
        tags: ["x:1"],
        output: "Step 1/1 : FROM scratch\nSuccessfully tagged x:1\n"
      })
      const request = daemon.only("POST /build")
      expect(request.headers["transfer-encoding"]).toBe("chunked")
      expect(request.headers["content-type"]).toBe("application/x-tar")
      expect([...request.body]).toEqual([10, 20, 30, 40])
      expect(Object.fromEntries(request.query)).toEqual({
        version: "1",
        dockerfile: "sub/Dockerfile",
        t: "x:1",
        buildargs: JSON.stringify({ A: "b" }),
        nocache: "1"
      })
      // No credentials in the config directory: no X-Registry-Config.
      expect(request.headers["x-registry-config"]).toBeUndefined()
    }))

  it.live("the result from \"Successfully built\" without aux", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        built({ stream: "Successfully built 0123456789ab\n" }, { stream: "Successfully tagged a:b\n" }),
        (images) => images.build({ remote: "https://example.com/context.tar" })
      )
      expect(result.imageId).toBe("0123456789ab")
      expect(result.tags).toEqual(["a:b"])
    }))

  it.live("each tag once: Podman says \"Successfully tagged\" twice for one tag", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        built(
          { stream: "Successfully tagged localhost/a:b\n" },
          { stream: "Successfully built 0123456789ab\n" },
          { stream: "Successfully tagged localhost/a:b\nSuccessfully tagged c:d\n" }
        ),
        (images) => images.build({ remote: "https://example.com/context.tar" })
      )
      expect(result.tags).toEqual(["localhost/a:b", "c:d"])
    }))

  it.live("a remote context goes in ?remote=, without a body", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withImages(
        built({ aux: { ID: "sha256:1" } }),
        (images) => images.build({ remote: "https://example.com/repo.git" })
      )
      const request = daemon.only("POST /build")
      expect(Object.fromEntries(request.query)).toEqual({ version: "1", remote: "https://example.com/repo.git" })
      expect(request.body.length).toBe(0)
    }))

  it.live("registryConfig \"none\" sends no X-Registry-Config, even with credentials configured", () =>
    Effect.gen(function*() {
      const configDir = configDirWith({ auths: { "127.0.0.1:5000": { auth: Buffer.from("u:p").toString("base64") } } })
      const { daemon } = yield* withImages(
        built({ aux: { ID: "sha256:1" } }),
        (images) =>
          Effect.andThen(
            images.build({ tar }, { registryConfig: "none" }),
            images.build({ tar })
          ),
        configDir
      )
      const [none, fromConfig] = daemon.requests()
      expect(none?.headers["x-registry-config"]).toBeUndefined()
      expect(decodeRegistryHeader(fromConfig?.headers["x-registry-config"])).toEqual({
        "127.0.0.1:5000": { username: "u", password: "p", serveraddress: "127.0.0.1:5000" }
      })
    }))

  it.live("an explicit registryConfig map is encoded per registry", () =>
    Effect.gen(function*() {
      const { daemon } = yield* withImages(
        built({ aux: { ID: "sha256:1" } }),
        (images) =>
          images.build({ tar }, {
            registryConfig: { "registry.example": registryCredentials({ username: "carol", password: SECRET }) }
          })
      )
      expect(decodeRegistryHeader(daemon.only("POST /build").headers["x-registry-config"])).toEqual({
        "registry.example": { username: "carol", password: SECRET, serveraddress: "registry.example" }
      })
    }))

  it.live("a build stream that ends without an ID is IncompleteStreamError", () =>
    Effect.gen(function*() {
      const { result } = yield* withImages(
        built({ stream: "Step 1/2 : FROM scratch\n" }),
        (images) => Effect.flip(images.build({ tar }))
      )
      expect(result._tag).toBe("IncompleteStreamError")
      expect(result).toMatchObject({ operation: "ImageBuild" })
    }))
})

describe("Images: load, commit, save", () => {
  it.live("load sends quiet=0 by default (the daemon's default is quiet), the tar as body; the names", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        routes({
          "POST /images/load": jsonLines({ stream: "Loaded image: busybox:latest\n" }, {
            stream: "Loaded image ID: sha256:77\n"
          })
        }),
        (images) =>
          Effect.all([
            images.load(Stream.make(new Uint8Array([1]))),
            images.load(Stream.make(new Uint8Array([2])), { quiet: true })
          ])
      )
      expect(result[0]).toEqual({ names: ["busybox:latest"], ids: ["sha256:77"] })
      expect(daemon.requests().map((request) => [request.query.get("quiet"), [...request.body]])).toEqual([["0", [1]], [
        "1",
        [2]
      ]])
    }))

  it.live("commit with a reference splits it into repo and tag; the new image's ID", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        routes({ "POST /commit": json({ Id: "sha256:c0ffee" }, 201) }),
        (images) =>
          images.commit("c1", {
            reference: "127.0.0.1:5000/team/app:v2",
            comment: "snap",
            pause: false,
            changes: ["CMD [\"sh\"]", "ENV A=b"]
          })
      )
      expect(result).toBe("sha256:c0ffee")
      const request = daemon.only("POST /commit")
      expect(Object.fromEntries(request.query)).toMatchObject({
        container: "c1",
        repo: "127.0.0.1:5000/team/app",
        tag: "v2",
        comment: "snap",
        pause: "0"
      })
      expect(request.query.getAll("changes")).toEqual(["CMD [\"sh\"]", "ENV A=b"])
    }))

  it.live("save of one name: /images/{name}/get; of several: repeated names=", () =>
    Effect.gen(function*() {
      const { daemon, result } = yield* withImages(
        routes({
          "GET /images/busybox:1/get": bytes("one tar", { "Content-Type": "application/x-tar" }),
          "GET /images/get": bytes("two tars", { "Content-Type": "application/x-tar" })
        }),
        (images) =>
          Effect.all([images.save("busybox:1"), images.save(["busybox:1", "alpine"])].map((tar) =>
            Effect.map(Stream.runCollect(tar), (chunks) => Buffer.concat(chunks).toString("utf8"))
          ))
      )
      expect(result).toEqual(["one tar", "two tars"])
      expect(daemon.only("GET /images/get").query.getAll("names")).toEqual(["busybox:1", "alpine"])
    }))
})
