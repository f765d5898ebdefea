/**
 * `Volumes`: every volume operation of the Engine API — create, inspect, list, remove, prune and
 * update (cluster volumes, API 1.42+) — plus a volume that lives as long as a scope.
 *
 * Decisions that show in the API:
 * - **Prune and named volumes.** From API 1.42 the daemon prunes only anonymous volumes unless the
 *   `all` filter says otherwise; before, it prunes every unused volume, named ones included, and
 *   refuses an `all` filter ("Invalid filter 'all'"). So `prune({ all: true })` sends `all=true`
 *   from 1.42 and nothing before (it is what that version does anyway), and `prune({ all: false })`
 *   before 1.42 fails with `ApiVersionError`: such a daemon cannot spare named volumes.
 * - **In use.** Removing a volume a container uses is `Conflict` (the daemon names the containers);
 *   `force` does not override that, it only ignores a volume that does not exist.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { definedOnly } from "../core/defined.js"
import { ApiVersionError, type DockerError, InvalidArgumentError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { compareApiVersions } from "../engine/api-version.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { operationRefusal } from "../engine/executor.js"
import { operationAvailability } from "../generated/availability.js"
import { makeVolumeClient, type VolumeClient } from "../generated/clients/volume.js"
import type { VolumeCreate } from "../generated/operations/volume/VolumeCreate.js"
import type { VolumePrune } from "../generated/operations/volume/VolumePrune.js"
import type { ClusterVolumeSpec } from "../generated/schemas/ClusterVolumeSpec.js"
import type { Filters } from "../generated/schemas/Filters.js"
import { withFilterValues } from "../wire/filters.js"
import { updateAtCurrentVersion } from "./versioned-update.js"

const VolumeCreate$ = lazyDescriptor(() =>
  import("../generated/operations/volume/VolumeCreate.js").then((m) => m.VolumeCreate)
)
const VolumePrune$ = lazyDescriptor(() =>
  import("../generated/operations/volume/VolumePrune.js").then((m) => m.VolumePrune)
)
const VolumeUpdate$ = lazyDescriptor(() =>
  import("../generated/operations/volume/VolumeUpdate.js").then((m) => m.VolumeUpdate)
)

/** Options of `Volumes.create` and `scoped`. */
export interface VolumeCreateOptions {
  /** The volume driver (default `local`). */
  readonly driver?: string | undefined
  /** Driver options (for `local`: `type`, `device`, `o`, as `mount` takes them). */
  readonly driverOpts?: Readonly<Record<string, string>> | undefined
  /** Labels to put on the volume. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** A cluster volume (API 1.42+, a swarm manager and a CSI plugin). */
  readonly clusterVolumeSpec?: ClusterVolumeSpec | undefined
}

/** Options of `Volumes.prune`. */
export interface VolumePruneOptions {
  /** The daemon's filters (`label`, `label!`…). */
  readonly filters?: Filters | undefined
  /** Named volumes too, not only anonymous ones (see the module's note on versions). */
  readonly all?: boolean | undefined
}

/**
 * Every volume operation: the generated pass-throughs (`VolumeClient`: inspect, list, remove) and
 * the methods below, which decide something.
 */
export interface VolumesShape extends VolumeClient {
  /**
   * `PUT /volumes/{id}` (API 1.42+, a cluster volume on a swarm manager): `patch` applied onto the
   * volume's current cluster spec (in practice the daemon changes `Availability`). The volume is
   * named as everywhere else (its name): the method reads it, and sends what the daemon wants — the
   * cluster volume's ID (a name answers 404) and its current version — reading once more if another
   * update slipped in between. A local volume is refused with `InvalidArgumentError`.
   */
  readonly update: (name: string, patch: Partial<ClusterVolumeSpec>) => Effect.Effect<void, DockerError>
  /** `POST /volumes/create`; without a name the daemon makes one up (an anonymous volume). */
  readonly create: (name?: string, options?: VolumeCreateOptions) => Effect.Effect<VolumeCreate.Response, DockerError>
  /** `POST /volumes/prune`: removes unused volumes (`all` as the version allows it). */
  readonly prune: (options?: VolumePruneOptions) => Effect.Effect<VolumePrune.Response, DockerError>
  /** A volume removed (force) when `scope` closes; a failure to remove it is logged. */
  readonly scoped: (
    name?: string,
    options?: VolumeCreateOptions
  ) => Effect.Effect<VolumeCreate.Response, DockerError, Scope.Scope>
}

/** The Volumes service over `engine`: the generated pass-throughs, and the decisions. */
export const makeVolumes = (engine: DockerEngineShape): VolumesShape => {
  const client = makeVolumeClient(engine)

  const create: VolumesShape["create"] = (name, options = {}) =>
    withDescriptor(VolumeCreate$, (d) =>
      engine.json(d, {
        body: definedOnly({
          Name: name,
          Driver: options.driver,
          DriverOpts: options.driverOpts,
          Labels: options.labels,
          ClusterVolumeSpec: options.clusterVolumeSpec
        })
      }))

  const prune: VolumesShape["prune"] = (options = {}) =>
    Effect.flatMap(engine.apiVersion, (version) => {
      const hasAll = compareApiVersions(version, "1.42") >= 0
      if (!hasAll && options.all === false) {
        return Effect.fail(
          new ApiVersionError({
            operation: "VolumePrune",
            apiVersion: version,
            required: "1.42",
            message: `VolumePrune: all: false needs API 1.42; API ${version} prunes named volumes too`
          })
        )
      }
      const filters = hasAll && options.all !== undefined
        ? withFilterValues(options.filters, "all", [String(options.all)])
        : options.filters
      return withDescriptor(VolumePrune$, (d) => engine.json(d, filters === undefined ? {} : { filters }))
    })

  const update: VolumesShape["update"] = (name, patch) =>
    Effect.flatMap(engine.apiVersion, (version) => {
      const refusal = operationRefusal({ operationId: "VolumeUpdate", ...operationAvailability.VolumeUpdate }, version)
      if (refusal !== undefined) return Effect.fail(refusal)
      const cluster = Effect.flatMap(client.inspect(name), (volume) => {
        const found = volume.ClusterVolume
        return found?.ID === undefined || found.Version?.Index === undefined
          ? Effect.fail(
            new InvalidArgumentError({
              operation: "VolumeUpdate",
              argument: "name",
              message: `VolumeUpdate: name ${name} is a local volume; only cluster volumes can be updated`
            })
          )
          : Effect.succeed({ ...found, ID: found.ID })
      })
      return updateAtCurrentVersion(cluster, (current, index) =>
        withDescriptor(VolumeUpdate$, (d) =>
          engine.empty(d, { name: current.ID, version: index, body: { Spec: { ...current.Spec, ...patch } } })))
    })

  return {
    ...client,
    create,
    prune,
    update,
    scoped: (name, options) =>
      Effect.acquireRelease(create(name, options), (created) =>
        client.remove(created.Name, { force: true }).pipe(
          Effect.catch((error) =>
            Effect.logWarning(`Volumes.scoped: could not remove volume ${created.Name}: ${error.message}`)
          )
        ))
  }
}

/**
 * The Volumes service: every volume operation (see `VolumesShape`).
 *
 * @example
 * ```ts
 * import { Containers, Volumes } from "effect-docker"
 *
 * const volume = yield* (yield* Volumes).scoped("data", { labels: { app: "demo" } }) // removed with the scope
 * yield* (yield* Containers).run({
 *   Image: "busybox",
 *   Cmd: ["sh", "-c", "date > /data/stamp"],
 *   HostConfig: { Mounts: [{ Type: "volume", Source: volume.Name, Target: "/data" }] }
 * }, { remove: true })
 * ```
 */
export class Volumes extends Context.Service<Volumes, VolumesShape>()("effect-docker/Volumes") {
  /** Volumes over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Volumes, never, DockerEngine> = Layer.effect(Volumes)(
    Effect.map(DockerEngine, makeVolumes)
  )
}
