/**
 * What Podman's Docker-compatible service answers differently, read from its real answers
 * (captured from podman 4.3.1 with curl; test/integration runs the same against the engine).
 */
import { describe, expect, it } from "vitest"
import { failureFromResponse } from "../../../src/engine/executor.js"
import { engineIdentity } from "../../../src/wire/engine-identity.js"

const podman = { "api-version": "1.41", "libpod-api-version": "4.3.1", server: "Libpod/4.3.1 (linux)" }
const docker = { "api-version": "1.51", server: "Docker/28.5.2+dfsg4 (linux)", ostype: "linux" }

describe("engineIdentity", () => {
  it("tells Podman from Docker by Libpod-Api-Version / Server", () => {
    expect(engineIdentity(podman)).toEqual({ kind: "podman", version: "4.3.1" })
    expect(engineIdentity({ server: "Libpod/5.8.6 (linux)" })).toEqual({ kind: "podman", version: "5.8.6" })
    expect(engineIdentity(docker)).toEqual({ kind: "docker", version: "28.5.2+dfsg4" })
    expect(engineIdentity({})).toEqual({ kind: "unknown", version: undefined })
  })
})

describe("Podman's errors", () => {
  it("a 500 whose cause is a state conflict is Conflict, with the daemon's message and cause", () => {
    const body = "{\"cause\":\"container state improper\",\"message\":\"can only kill running containers. " +
      "abc is in state exited: container state improper\",\"response\":500}"
    const error = failureFromResponse("ContainerKill", "1.41", 500, body, podman)
    expect(error._tag).toBe("Conflict")
    if (error._tag !== "Conflict") return
    expect(error.status).toBe(500)
    expect(error.daemonCause).toBe("container state improper")
    expect(error.daemonMessage).toBe(
      "can only kill running containers. abc is in state exited: container state improper"
    )
    const exists = failureFromResponse(
      "NetworkCreate",
      "1.41",
      500,
      "{\"cause\":\"network already exists\",\"message\":\"x: network already exists\",\"response\":500}",
      podman
    )
    expect(exists._tag).toBe("Conflict")
  })

  it("any other 500 stays ServerError, and Docker's bodies (no cause) are read as before", () => {
    const other = failureFromResponse(
      "ImageCommit",
      "1.41",
      500,
      "{\"cause\":\"EOF\",\"message\":\"Decode(): EOF\",\"response\":500}",
      podman
    )
    expect(other._tag).toBe("ServerError")
    expect(failureFromResponse("X", "1.41", 500, "{\"message\":\"network already exists\"}", docker)._tag)
      .toBe("ServerError")
  })

  it("an endpoint Podman lacks is UnsupportedByEngine, a missing object still NotFound", () => {
    for (
      const [status, body] of [
        [404, "Not Found\n"],
        [404, "{\"cause\":\"\",\"message\":\"Path /v1.41/plugins is not supported\",\"response\":0}"],
        [
          503,
          "{\"cause\":\"Podman does not support service: /v1.41/swarm/init\",\"message\":\"Podman does not support service: /v1.41/swarm/init\",\"response\":503}"
        ]
      ] as const
    ) {
      const error = failureFromResponse("Op", "1.41", status, body, podman)
      expect(error._tag).toBe("UnsupportedByEngine")
      if (error._tag === "UnsupportedByEngine") expect(error.engine).toBe("podman 4.3.1")
    }
    const missing = failureFromResponse(
      "ContainerInspect",
      "1.41",
      404,
      "{\"cause\":\"no such container\",\"message\":\"no container with name or ID \\\"x\\\" found: no such container\",\"response\":404}",
      podman
    )
    expect(missing._tag).toBe("NotFound")
    // Docker's own 404 for an unknown route stays NotFound.
    expect(failureFromResponse("Op", "1.41", 404, "Not Found\n", docker)._tag).toBe("NotFound")
  })

  it("a bare 404 without Libpod headers (Podman's router) is read with the identity the layer learnt", () => {
    // What 4.3.1 answers for POST /containers/x/update and /session: no Server, no Libpod-Api-Version.
    const bare = { "content-type": "text/plain; charset=utf-8" }
    const learnt = engineIdentity(podman)
    const error = failureFromResponse("ContainerUpdate", "1.41", 404, "Not Found\n", bare, learnt)
    expect(error._tag).toBe("UnsupportedByEngine")
    if (error._tag === "UnsupportedByEngine") expect(error.engine).toBe("podman 4.3.1")
    // Unknown or Docker: a missing route is NotFound.
    expect(failureFromResponse("Op", "1.41", 404, "Not Found\n", bare)._tag).toBe("NotFound")
    expect(failureFromResponse("Op", "1.41", 404, "Not Found\n", bare, engineIdentity(docker))._tag).toBe("NotFound")
  })
})
