// Create a network and a volume, run containers on and with them, show the result, and remove
// them: `Networks.scoped` / `Volumes.scoped` remove them when the scope closes, also on failure or
// interruption. IMAGE: a local image with a shell (default `busybox`); LABELS: `key=value,…` put
// on everything created (default `example=networks-volumes`).
import { runMain } from "@effect/platform-node/NodeRuntime"
import { Containers, Docker, Networks, Volumes } from "effect-docker"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const image = process.env.IMAGE ?? "busybox"
const labels: Record<string, string> = Object.fromEntries(
  (process.env.LABELS ?? "example=networks-volumes").split(",").map((label) => label.split("="))
)
const name = `effect-docker-example-${process.pid}`
const show = (labels: Record<string, string> | null | undefined) =>
  Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(",")

const program = Effect.gen(function*() {
  const networks = yield* Networks
  const volumes = yield* Volumes
  const containers = yield* Containers

  yield* Effect.scoped(Effect.gen(function*() {
    const network = yield* networks.scoped(name, { driver: "bridge", labels })
    const volume = yield* volumes.scoped(name, { labels })

    // A container on the network, with the volume mounted at /data: it writes a file there.
    const writer = yield* containers.runScoped({
      Image: image,
      Cmd: ["sh", "-c", "echo written by the first container > /data/greeting && sleep 300"],
      Labels: labels,
      HostConfig: { NetworkMode: name, Mounts: [{ Type: "volume", Source: volume.Name, Target: "/data" }] }
    })
    const inspected = yield* networks.inspect(network.Id)
    const attached = yield* networks.containers(network.Id)
    yield* Console.log(
      `network ${inspected.Name} (${inspected.Driver}, labels ${show(inspected.Labels)}): ` +
        `${attached.length} container attached, at ${attached[0]?.IPv4Address}`
    )

    // Another container reads the file back from the same volume (read-only this time).
    const reader = yield* containers.run({
      Image: image,
      Cmd: ["sh", "-c", "until [ -s /data/greeting ]; do sleep 0.1; done; cat /data/greeting"],
      Labels: labels,
      HostConfig: { Mounts: [{ Type: "volume", Source: volume.Name, Target: "/data", ReadOnly: true }] }
    }, { remove: true })
    if (reader.outputRead) {
      yield* Console.log(
        `volume ${volume.Name} (${volume.Driver}, labels ${show(volume.Labels)}): ${reader.stdout.trim()}`
      )
    }
    yield* containers.stop(writer.id, { t: 0 })
  }))

  // The scope has closed: the container, the network and the volume are gone.
  const left = yield* Effect.all([
    networks.list({ names: [name] }),
    volumes.list({ filters: { name: [name] } })
  ])
  yield* Console.log(`removed: ${left[0].length} networks and ${left[1].Volumes?.length ?? 0} volumes left`)
}).pipe(Effect.provide(Docker.layerFromEnv))

runMain(program)
