/** Image references as the Docker CLI reads them. */
import { describe, expect, it } from "vitest"
import {
  convertToHostname,
  DOCKER_HUB_AUTH_KEY,
  registryOfReference,
  splitReference
} from "../../../src/docker-cli/reference.js"

describe("references", () => {
  it("names the registry as the CLI keys credentials", () => {
    expect(registryOfReference("busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("library/busybox:1")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("docker.io/library/busybox")).toBe(DOCKER_HUB_AUTH_KEY)
    expect(registryOfReference("127.0.0.1:5000/a/b:1")).toBe("127.0.0.1:5000")
    expect(registryOfReference("localhost/x")).toBe("localhost")
    expect(registryOfReference("ghcr.io/o/r@sha256:abc")).toBe("ghcr.io")
  })
  it("splits repository and tag or digest (a port is not a tag)", () => {
    expect(splitReference("127.0.0.1:5000/a/b:1")).toEqual({ repository: "127.0.0.1:5000/a/b", tag: "1" })
    expect(splitReference("127.0.0.1:5000/a/b")).toEqual({ repository: "127.0.0.1:5000/a/b", tag: undefined })
    expect(splitReference("a@sha256:00")).toEqual({ repository: "a", tag: "sha256:00" })
    expect(convertToHostname("https://127.0.0.1:5000/v1/")).toBe("127.0.0.1:5000")
  })
})
