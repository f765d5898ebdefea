/**
 * The examples users copy from run against this engine and print what they promise. Each example
 * removes what it creates (`remove: true`, `runScoped`, `Networks.scoped`, `Volumes.scoped`, a
 * release that removes the built image); the test gives them the local test image, the registry
 * without auth, and labels (the run's, for the global teardown, and one of the test's own, by
 * which it checks afterwards that nothing is left).
 */
import { Effect, Stream } from "effect"
import { execFile } from "node:child_process"
import { randomUUID } from "node:crypto"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { DockerEngine } from "../../src/engine/engine.js"
import { Containers, fullImageId, Images, Networks, System, Volumes } from "../../src/index.js"
import { currentEngine, engineEnv } from "../support/engines.js"
import { runId, TEST_LABEL } from "../support/labels.js"
import { TEST_IMAGE } from "../support/resources.js"

const target = currentEngine()
const REGISTRY_NOAUTH = engineEnv().EFFECT_DOCKER_REGISTRY_NOAUTH ?? "127.0.0.1:5001"
const EXAMPLE_LABEL = "effect-docker.example-test"

const runExample = async (file: string, env: Record<string, string> = {}): Promise<string> => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", `examples/${file}`], {
    env: { ...process.env, DOCKER_HOST: target.host, DOCKER_API_VERSION: "", IMAGE: TEST_IMAGE, ...env },
    timeout: 60_000
  })
  return stdout
}

/**
 * Runs an example with a label of its own (`mine`). Returns what carries that label on the engine
 * afterwards, and the daemon's events during the run (`container create`, `volume destroy`…, with
 * their actors): proof that what it made was removed.
 */
const runLabelled = async (file: string, env: Record<string, string> = {}) => {
  const mine = randomUUID()
  const since = new Date(Date.now() - 1_000)
  const stdout = await runExample(file, { LABELS: `${TEST_LABEL}=${runId()},${EXAMPLE_LABEL}=${mine}`, ...env })
  const label = { label: [`${EXAMPLE_LABEL}=${mine}`] }
  const { events, left } = await Effect.runPromise(
    Effect.gen(function*() {
      const containers = yield* (yield* Containers).list({ all: true, filters: label })
      const images = yield* (yield* Images).list({ filters: label })
      const networks = yield* (yield* Networks).list({ filters: label })
      const volumes = yield* (yield* Volumes).list({ filters: label })
      const until = new Date(Date.now() + 1_000)
      const events = yield* (yield* System).events({ since, until }).pipe(
        Stream.map((e) => ({
          what: `${e.Type} ${e.Action}`,
          id: e.Actor?.ID ?? "",
          attributes: e.Actor?.Attributes ?? {}
        })),
        Stream.runCollect
      )
      const left = {
        containers: containers.length,
        images: images.length,
        networks: networks.length,
        volumes: volumes.Volumes?.length ?? 0
      }
      return { events, left }
    }).pipe(
      Effect.provide([Containers.layer, Images.layer, Networks.layer, Volumes.layer, System.layer]),
      Effect.provide(DockerEngine.layer({ host: target.host }))
    )
  )
  return { stdout, left, events, mine }
}

const nothingLeft = { containers: 0, images: 0, networks: 0, volumes: 0 }

describe(`examples on engine ${target.id}`, () => {
  it("run-and-collect: exit code, stdout and stderr apart", async () => {
    expect(await runExample("run-and-collect.ts")).toBe("exit code 3\nstdout: to stdout\nstderr: to stderr\n")
  })

  it("follow-logs: follows until the ready line, then stops", async () => {
    expect(await runExample("follow-logs.ts")).toBe("log: starting\nlog: ready on 8080\nready after 2 lines\n")
  })

  it("exec: an argv's exit code and output; stdin reaches the process", async () => {
    expect(await runExample("exec.ts")).toBe("exit code 4, uid=0\nwc -l read 3 lines from stdin\n")
  })

  it("copy-in-out: a file put into the container comes back out", async () => {
    expect(await runExample("copy-in-out.ts")).toBe(
      "in the container: hello.txt, 20 bytes\ncopied back: hello from the host\n"
    )
  })

  it("events: the container's lifecycle as it happens", async () => {
    expect(await runExample("events.ts")).toBe("event: create\nevent: start\nevent: die\n")
  })

  it("build-and-push: built (labelled), tagged, pushed, served back by the registry; the image removed", async () => {
    const { events, left, mine, stdout } = await runLabelled("build-and-push.ts", { REGISTRY: REGISTRY_NOAUTH })
    const lines = stdout.trimEnd().split("\n")
    const reference = `${REGISTRY_NOAUTH}/effect-docker-examples/hello:run-[0-9a-z]+`
    const built = new RegExp(`^built (sha256:[0-9a-f]{12}) \\(labels (.*)\\), tagged (${reference})$`).exec(lines[0]!)
    expect(built).not.toBeNull()
    expect(built![2]!.split(",")).toContain(`${EXAMPLE_LABEL}=${mine}`)
    expect(lines[1]).toMatch(new RegExp(`^pushed ${built![3]!.replace(/\./g, "\\.")}: sha256:[0-9a-f]{64}$`))
    // Podman has no distribution endpoint (podman-limitations: distribution): the example says so.
    expect(lines[2]).toBe(
      target.kind === "podman"
        ? `the registry is not asked: podman ${target.version} cannot`
        : `the registry serves ${lines[1]!.split(": ")[1]}`
    )
    expect(lines).toHaveLength(3)
    expect(left).toEqual(nothingLeft)
    // the daemon deleted the image it built (with its tag: nothing answers to the reference)
    // (Podman's event names the image by its bare hex ID)
    const deleted = events.filter((e) => e.what === "image delete" && fullImageId(e.id).startsWith(built![1]!))
    expect(deleted).toHaveLength(1)
    const tagged = await Effect.runPromise(
      Effect.flatMap(Images, (images) => images.list({ filters: { reference: [built![3]!] } })).pipe(
        Effect.provide(Images.layer),
        Effect.provide(DockerEngine.layer({ host: target.host }))
      )
    )
    expect(tagged).toEqual([])
  })

  it("networks-volumes: a container on the network writes to the volume, another reads it; all removed", async () => {
    const { events, left, mine, stdout } = await runLabelled("networks-volumes.ts")
    const lines = stdout.trimEnd().split("\n")
    const network =
      /^network (effect-docker-example-\d+) \(bridge, labels (.*)\): 1 container attached, at \d+\.\d+\.\d+\.\d+\/\d+$/
        .exec(lines[0]!)
    expect(network).not.toBeNull()
    const name = network![1]!
    expect(network![2]!.split(",")).toContain(`${EXAMPLE_LABEL}=${mine}`)
    const volume = /^volume (\S+) \(local, labels (.*)\): written by the first container$/.exec(lines[1]!)
    expect(volume?.[1]).toBe(name)
    expect(volume![2]!.split(",")).toContain(`${EXAMPLE_LABEL}=${mine}`)
    expect(lines[2]).toBe("removed: 0 networks and 0 volumes left")
    expect(lines).toHaveLength(3)
    expect(left).toEqual(nothingLeft)
    // created and removed, as the daemon reports it: two containers, the network, the volume
    const ofMine = (what: string) =>
      events.filter((e) =>
        e.what === what &&
        (e.attributes[EXAMPLE_LABEL] === mine || e.attributes.name === name || e.id === name)
      ).length
    // Podman 4.3.1 reports a removal as `remove` (Docker: `destroy`), and has no network events.
    const podman = target.kind === "podman"
    const removed = podman ? "remove" : "destroy"
    expect([`container create`, `container ${removed}`, `volume ${removed}`].map(ofMine)).toEqual([2, 2, 1])
    expect(["network create", "network destroy"].map(ofMine)).toEqual(podman ? [0, 0] : [1, 1])
    // Docker 20.10 also reports `volume create` when a container's mount finds the volume there
    expect(ofMine("volume create")).toBeGreaterThanOrEqual(1)
  })
})
