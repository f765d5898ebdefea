/**
 * `Configs`: swarm configs — the generated pass-throughs (`ConfigClient`: list, inspect, remove)
 * and `create` (data base64-encoded here) / `update` (labels only, at the current version). Unlike
 * a secret's, a config's data comes back in `inspect` and `list` (`Spec.Data`, base64).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { definedOnly } from "../core/defined.js"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { type ConfigClient, makeConfigClient } from "../generated/clients/config.js"
import type { Driver } from "../generated/schemas/Driver.js"
import type { IDResponse } from "../generated/schemas/IDResponse.js"
import { encodeData, type SwarmData, type SwarmDataUpdate, updateLabels } from "./swarm-data.js"

const ConfigCreate$ = lazyDescriptor(() =>
  import("../generated/operations/config/ConfigCreate.js").then((m) => m.ConfigCreate)
)
const ConfigUpdate$ = lazyDescriptor(() =>
  import("../generated/operations/config/ConfigUpdate.js").then((m) => m.ConfigUpdate)
)

/** Options of `Configs.create`. */
export interface ConfigCreateOptions {
  /** Labels to put on it. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** A templating driver (`{ Name: "golang" }`): the data is a template rendered per task. */
  readonly templating?: Driver | undefined
}

export interface ConfigsShape extends ConfigClient {
  /** `POST /configs/create`: a config holding `data` (text as UTF-8, or bytes); its ID. */
  readonly create: (
    name: string,
    data: SwarmData,
    options?: ConfigCreateOptions
  ) => Effect.Effect<IDResponse, DockerError>
  /** `POST /configs/{id}/update`: replaces its labels (the only thing a config update may change). */
  readonly update: (id: string, update: SwarmDataUpdate) => Effect.Effect<void, DockerError>
}

/** The Configs service over `engine`. */
export const makeConfigs = (engine: DockerEngineShape): ConfigsShape => {
  const client = makeConfigClient(engine)
  return {
    ...client,
    create: (name, data, options = {}) =>
      withDescriptor(ConfigCreate$, (d) =>
        engine.json(d, {
          body: {
            Name: name,
            Data: encodeData(data),
            ...definedOnly({ Labels: options.labels, Templating: options.templating })
          }
        })),
    update: (id, update) =>
      updateLabels(
        client.inspect(id),
        (body, version) => withDescriptor(ConfigUpdate$, (d) => engine.empty(d, { id, version, body })),
        update
      )
  }
}

/** The Configs service (swarm mode): configs for services' tasks (see `ConfigsShape`); needs a swarm manager. */
export class Configs extends Context.Service<Configs, ConfigsShape>()("effect-docker/Configs") {
  /** Configs over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Configs, never, DockerEngine> = Layer.effect(Configs)(
    Effect.map(DockerEngine, makeConfigs)
  )
}
