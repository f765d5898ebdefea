/**
 * A one-node swarm on a test engine, for the files under test/integration/swarm/ (a vitest project
 * of their own per engine that runs its files one after another: an engine is in one swarm at a
 * time, and one file's leave would end another's swarm). Each engine's swarm listens on ports of
 * its own (control plane and VXLAN) on 127.0.0.1, so the engines' swarms live side by side; a
 * swarm a crashed run left behind is left first, and the swarm is left (force) when the scope
 * closes, whatever the tests did.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { DockerError } from "../../src/core/errors.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { NetworkDelete } from "../../src/generated/operations/network/NetworkDelete.js"
import { SwarmInit } from "../../src/generated/operations/swarm/SwarmInit.js"
import { SwarmInspect } from "../../src/generated/operations/swarm/SwarmInspect.js"
import { SwarmLeave } from "../../src/generated/operations/swarm/SwarmLeave.js"
import { currentEngine } from "./engines.js"
import { testLabels } from "./labels.js"

export interface SwarmPorts {
  /** The control-plane port on 127.0.0.1. */
  readonly listen: number
  /** The VXLAN data-path port. */
  readonly dataPath: number
}

const target = currentEngine()

/** This engine's swarm ports: distinct control-plane and VXLAN ports per engine. */
export const swarmPorts: SwarmPorts = { listen: 2377 + target.index, dataPath: 4789 + target.index }
export const LISTEN_ADDR = `127.0.0.1:${swarmPorts.listen}`

export class SwarmNode extends Context.Service<SwarmNode, { readonly nodeId: string }>()("test/SwarmNode") {}

/** Leaves the swarm (force), and removes the `docker_gwbridge` network swarm mode made. */
export const leaveSwarm = (engine: DockerEngineShape): Effect.Effect<void> =>
  engine.empty(SwarmLeave, { force: true }).pipe(
    Effect.timeout("60 seconds"),
    // This node is not part of a swarm (any more): nothing to leave.
    Effect.catchTag("NotInSwarm", () => Effect.void),
    // Swarm mode creates the `docker_gwbridge` network and leaving keeps it: remove it too, so the
    // engine is left as it was (a 403/409 means something else uses it: keep it then).
    Effect.andThen(
      engine.empty(NetworkDelete, { id: "docker_gwbridge" }).pipe(
        Effect.catchTags({ NotFound: () => Effect.void, Forbidden: () => Effect.void, Conflict: () => Effect.void })
      )
    ),
    Effect.catch((error) => Effect.logWarning(`could not leave the swarm: ${String(error)}`))
  )

/** Initialises a labelled one-node swarm on `ports` (leaving a leftover first); its node ID. Left with the scope. */
export const oneNodeSwarm = (
  engine: DockerEngineShape,
  ports: SwarmPorts = swarmPorts
): Effect.Effect<string, DockerError | Error, Scope.Scope> =>
  Effect.gen(function*() {
    const leftover = yield* engine.json(SwarmInspect).pipe(
      Effect.as(true),
      Effect.catchTag("NotInSwarm", () => Effect.succeed(false))
    )
    if (leftover) yield* leaveSwarm(engine)
    return yield* Effect.acquireRelease(
      engine.json(SwarmInit, {
        body: {
          ListenAddr: `127.0.0.1:${ports.listen}`,
          AdvertiseAddr: "127.0.0.1",
          DataPathPort: ports.dataPath,
          Spec: { Labels: testLabels() }
        }
      }).pipe(Effect.timeout("60 seconds")),
      () => leaveSwarm(engine)
    )
  })

/** The same for a whole file, as a layer (needs a `DockerEngine`). */
export const oneNodeSwarmLayer: Layer.Layer<SwarmNode, DockerError | Error, DockerEngine> = Layer.effect(SwarmNode)(
  Effect.map(Effect.flatMap(DockerEngine, (engine) => oneNodeSwarm(engine)), (nodeId) => ({ nodeId }))
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
