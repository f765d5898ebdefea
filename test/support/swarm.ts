/**
 * A one-node swarm on a test engine, for the files under test/integration/swarm/ (a vitest project
 * of their own per engine that runs its files one after another: an engine is in one swarm at a
 * time, and one file's leave would end another's swarm). Each engine's swarm listens on ports of
 * its own (control plane and VXLAN) on 127.0.0.1, so the engines' swarms live side by side.
 */
import { Context, Effect, Layer } from "effect"
import type { DockerError } from "../../src/core/errors.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { NetworkDelete } from "../../src/generated/operations/network/NetworkDelete.js"
import { SwarmInit } from "../../src/generated/operations/swarm/SwarmInit.js"
import { SwarmInspect } from "../../src/generated/operations/swarm/SwarmInspect.js"
import { SwarmLeave } from "../../src/generated/operations/swarm/SwarmLeave.js"
import { currentEngine } from "./engines.js"
import { testLabels } from "./labels.js"

const target = currentEngine()

/** This engine's swarm ports: distinct control-plane and VXLAN ports per engine. */
export const swarmPorts = { listen: 2377 + target.index, dataPath: 4789 + target.index }
export const LISTEN_ADDR = `127.0.0.1:${swarmPorts.listen}`

export class SwarmNode extends Context.Service<SwarmNode, { readonly nodeId: string }>()("test/SwarmNode") {}

/** Leaves the swarm (force), and removes the `docker_gwbridge` network swarm mode made. */
export const leaveSwarm = (engine: DockerEngineShape): Effect.Effect<void> =>
  engine.empty(SwarmLeave, { force: true }).pipe(
    Effect.timeout("60 seconds"),
    // 503: this node is not part of a swarm (any more): nothing to leave.
    Effect.catchTag("ServiceUnavailable", () => Effect.void),
    // Swarm mode creates the `docker_gwbridge` network and leaving keeps it: remove it too, so the
    // engine is left as it was (a 403/409 means something else uses it: keep it then).
    Effect.andThen(
      engine.empty(NetworkDelete, { id: "docker_gwbridge" }).pipe(
        Effect.catchTags({ NotFound: () => Effect.void, Forbidden: () => Effect.void, Conflict: () => Effect.void })
      )
    ),
    Effect.catch((error) => Effect.logWarning(`could not leave the swarm: ${String(error)}`))
  )

/**
 * A one-node swarm for a whole file: init after leaving any leftover (a crashed run's), leave
 * (force) when the layer's scope closes. Needs a `DockerEngine`.
 */
export const oneNodeSwarm: Layer.Layer<SwarmNode, DockerError, DockerEngine> = Layer.effect(SwarmNode)(
  Effect.gen(function*() {
    const engine = yield* DockerEngine
    const leftover = yield* engine.json(SwarmInspect).pipe(
      Effect.as(true),
      Effect.catchTag("ServiceUnavailable", () => Effect.succeed(false))
    )
    if (leftover) yield* leaveSwarm(engine)
    const nodeId = yield* Effect.acquireRelease(
      engine.json(SwarmInit, {
        body: {
          ListenAddr: LISTEN_ADDR,
          AdvertiseAddr: "127.0.0.1",
          DataPathPort: swarmPorts.dataPath,
          Spec: { Labels: testLabels() }
        }
      }).pipe(Effect.timeout("60 seconds"), Effect.orDie),
      () => leaveSwarm(engine)
    )
    return { nodeId }
  })
)

/** A swarm object removed in a finalizer (before the swarm itself is left). */
export const scopedSwarmObject = <A>(
  create: Effect.Effect<A, DockerError>,
  remove: (a: A) => Effect.Effect<void, DockerError>
) =>
  Effect.acquireRelease(create, (a) =>
    remove(a).pipe(
      Effect.timeout("30 seconds"),
      Effect.catchTag("NotFound", () => Effect.void),
      Effect.catch((error) => Effect.logWarning(`could not remove a swarm object: ${String(error)}`))
    ))
