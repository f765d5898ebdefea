/** Image references as the Docker CLI reads them (distribution/reference's grammar). */
import { describe, expect, it } from "vitest"
import {
  convertToHostname,
  DOCKER_HUB_AUTH_KEY,
  type ImageReference,
  InvalidReferenceError,
  parseReference,
  parseTaggableReference,
  registryOfReference,
  sameImageReference,
  tagProblem
} from "../../../src/docker-cli/reference.js"

const SHA = "sha256:" + "a".repeat(64)

const parsed = (reference: string): ImageReference => {
  const result = parseReference(reference, "ImageCreate")
  if (result instanceof InvalidReferenceError) throw new Error(result.message)
  return result
}
const rule = (reference: string, parse = parseReference) => {
  const result = parse(reference, "ImageTag")
  return result instanceof InvalidReferenceError ? result.rule : "valid"
}

describe("references", () => {
  it("names the registry as the CLI keys credentials", () => {
    expect(registryOfReference("busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("library/busybox:1")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("docker.io/library/busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("index.docker.io/x/y")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("127.0.0.1:5000/a/b:1")).toBe("127.0.0.1:5000")
    expect(registryOfReference("localhost/x")).toBe("localhost")
    expect(registryOfReference("ghcr.io/o/r@sha256:abc")).toBe("ghcr.io")
    // An uppercase first component cannot be a repository path, so it is a registry (as in the CLI).
    expect(registryOfReference("Registry/x")).toBe("Registry")
    expect(convertToHostname("https://127.0.0.1:5000/v1/")).toBe("127.0.0.1:5000")
  })

  it("normalises Docker Hub names and keeps the familiar form the CLI sends", () => {
    expect(parsed("busybox")).toEqual({
      domain: "docker.io",
      path: "library/busybox",
      familiarName: "busybox",
      tag: undefined,
      digest: undefined
    })
    expect(parsed("docker.io/library/busybox:local")).toMatchObject({ familiarName: "busybox", tag: "local" })
    expect(parsed("index.docker.io/me/app")).toMatchObject({
      domain: "docker.io",
      path: "me/app",
      familiarName: "me/app"
    })
    expect(parsed("127.0.0.1:5000/a/b:1")).toMatchObject({
      domain: "127.0.0.1:5000",
      path: "a/b",
      familiarName: "127.0.0.1:5000/a/b",
      tag: "1"
    })
    expect(parsed("[::1]:5000/a")).toMatchObject({ domain: "[::1]:5000", path: "a" })
    expect(parsed(`localhost/x:v1.0_rc-2@${SHA}`)).toMatchObject({ domain: "localhost", tag: "v1.0_rc-2", digest: SHA })
    expect(parsed("a__b/c-----d/e.f_g")).toMatchObject({ path: "a__b/c-----d/e.f_g" })
  })

  it("refuses what the daemon would refuse or misread, naming the rule", () => {
    expect(rule("")).toBe("empty")
    expect(rule(":tag")).toBe("empty")
    expect(rule("a:b:c")).toBe("name-format") // today's splitReference made this repository "a:b", tag "c"
    expect(rule("Busybox")).toBe("lowercase")
    expect(rule("127.0.0.1:5000/Team/app")).toBe("lowercase")
    expect(rule("a/B")).toBe("lowercase")
    expect(rule("a:-x")).toBe("tag-format")
    expect(rule(`a:${"t".repeat(129)}`)).toBe("tag-format")
    expect(rule("a@sha256:abc")).toBe("digest-format")
    expect(rule(`a@md5:${"a".repeat(32)}`)).toBe("digest-format")
    expect(rule(`a@sha256:${"A".repeat(64)}`)).toBe("digest-format")
    expect(rule(`a@sha256:${"a".repeat(63)}`)).toBe("digest-format")
    expect(rule("a".repeat(64).replace(/a/g, "f"))).toBe("image-id")
    expect(rule("-bad.host:5000/a")).toBe("domain-format")
    expect(rule("host:port/a")).toBe("domain-format")
    expect(rule("a//b")).toBe("name-format")
    expect(rule("a/")).toBe("name-format")
    expect(rule("a_-b")).toBe("name-format")
    expect(rule(`x.io/${"a".repeat(250)}`)).toBe("valid") // 255 characters: the limit
    expect(rule(`x.io/${"a".repeat(251)}`)).toBe("name-too-long")
  })

  it("says which operation, which reference and what the rule is", () => {
    const error = parseReference("a:b:c", "ImageTag") as InvalidReferenceError
    expect(error).toBeInstanceOf(InvalidReferenceError)
    expect({ tag: error._tag, operation: error.operation, reference: error.reference, rule: error.rule }).toEqual({
      tag: "InvalidReferenceError",
      operation: "ImageTag",
      reference: "a:b:c",
      rule: "name-format"
    })
    expect(error.message).toBe(
      "ImageTag: invalid image reference \"a:b:c\": the repository name \"library/a:b\" must be \"/\"-separated " +
        "components of lowercase letters and digits, joined by \".\", \"_\", \"__\" or dashes (more than one \":\" tag separator?)"
    )
    expect((parseReference("Busybox", "ImageCreate") as InvalidReferenceError).message).toBe(
      "ImageCreate: invalid image reference \"Busybox\": the repository name \"library/Busybox\" must be lowercase"
    )
  })

  it("a tag target cannot carry a digest; a separate tag is checked alone", () => {
    expect(rule(`a@${SHA}`, parseTaggableReference)).toBe("digest-not-allowed")
    expect(rule("a:1", parseTaggableReference)).toBe("valid")
    expect(tagProblem("ok.1", "ImagePush")).toBeUndefined()
    expect(tagProblem("no/slash", "ImagePush")?.rule).toBe("tag-format")
  })
})

describe("sameImageReference", () => {
  it("compares as the daemon resolves: Hub normalisation, latest by default", () => {
    expect(sameImageReference("busybox:local", "docker.io/library/busybox:local")).toBe(true)
    expect(sameImageReference("library/busybox", "busybox:latest")).toBe(true)
    expect(sameImageReference("127.0.0.1:5000/a/b:1", "127.0.0.1:5000/a/b:1")).toBe(true)
    expect(sameImageReference("busybox:local", "busybox:other")).toBe(false)
    // Podman's localhost/ prefix is a registry, as the CLI reads it.
    expect(sameImageReference("localhost/busybox:local", "busybox:local")).toBe(false)
    expect(sameImageReference(`busybox@${SHA}`, `docker.io/library/busybox@${SHA}`)).toBe(true)
    expect(sameImageReference("Not A Ref", "Not A Ref")).toBe(false)
  })
})
