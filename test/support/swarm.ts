/**
 * A one-node swarm for a test file: each engine gets its own control-plane and VXLAN ports (both
 * engine projects run at once on the same host), a swarm a crashed run left behind is left first,
 * and the swarm is left (force) when the scope closes, whatever the tests did.
 */
import { Effect, type Scope } from "effect"
import type { DockerError } from "../../src/core/errors.js"
import type { DockerEngineShape } from "../../src/engine/engine.js"
import { NetworkDelete } from "../../src/generated/operations/network/NetworkDelete.js"
import { SwarmInit } from "../../src/generated/operations/swarm/SwarmInit.js"
import { SwarmInspect } from "../../src/generated/operations/swarm/SwarmInspect.js"
import { SwarmLeave } from "../../src/generated/operations/swarm/SwarmLeave.js"
import { testLabels } from "./labels.js"

export interface SwarmPorts {
  /** The control-plane port on 127.0.0.1. */
  readonly listen: number
  /** The VXLAN data-path port. */
  readonly dataPath: number
}

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

/** Initialises a labelled one-node swarm on `ports` (leaving a leftover first); its node ID. Left with the scope. */
export const oneNodeSwarm = (
  engine: DockerEngineShape,
  ports: SwarmPorts
): Effect.Effect<string, DockerError | Error, Scope.Scope> =>
  Effect.gen(function*() {
    // A crashed earlier run may have left this engine in a swarm: leave it first.
    const leftover = yield* engine.json(SwarmInspect).pipe(
      Effect.as(true),
      Effect.catchTag("ServiceUnavailable", () => Effect.succeed(false))
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
