/**
 * `Secrets`: swarm secrets — the generated pass-throughs (`SecretClient`: list, inspect, remove)
 * and `create` (data base64-encoded here) / `update` (labels only, at the current version). The
 * daemon never returns a secret's data: `inspect` and `list` carry no `Data`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { definedOnly } from "../core/defined.js"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeSecretClient, type SecretClient } from "../generated/clients/secret.js"
import type { Driver } from "../generated/schemas/Driver.js"
import type { IDResponse } from "../generated/schemas/IDResponse.js"
import { encodeData, type SwarmData, type SwarmDataUpdate, updateLabels } from "./swarm-data.js"

const SecretCreate$ = lazyDescriptor(() =>
  import("../generated/operations/secret/SecretCreate.js").then((m) => m.SecretCreate)
)
const SecretUpdate$ = lazyDescriptor(() =>
  import("../generated/operations/secret/SecretUpdate.js").then((m) => m.SecretUpdate)
)

/** Options of `Secrets.create`. */
export interface SecretCreateOptions {
  /** Labels to put on it. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** A secrets driver plugin that holds the data instead of the swarm's store. */
  readonly driver?: Driver | undefined
  /** A templating driver (`{ Name: "golang" }`): the data is a template rendered per task. */
  readonly templating?: Driver | undefined
}

export interface SecretsShape extends SecretClient {
  /** `POST /secrets/create`: a secret holding `data` (text as UTF-8, or bytes); its ID. */
  readonly create: (
    name: string,
    data: SwarmData,
    options?: SecretCreateOptions
  ) => Effect.Effect<IDResponse, DockerError>
  /** `POST /secrets/{id}/update`: replaces its labels (the only thing a secret update may change). */
  readonly update: (id: string, update: SwarmDataUpdate) => Effect.Effect<void, DockerError>
}

/** The Secrets service over `engine`. */
export const makeSecrets = (engine: DockerEngineShape): SecretsShape => {
  const client = makeSecretClient(engine)
  return {
    ...client,
    create: (name, data, options = {}) =>
      withDescriptor(SecretCreate$, (d) =>
        engine.json(d, {
          body: {
            Name: name,
            Data: encodeData(data),
            ...definedOnly({ Labels: options.labels, Driver: options.driver, Templating: options.templating })
          }
        })),
    update: (id, update) =>
      updateLabels(
        client.inspect(id),
        (body, version) => withDescriptor(SecretUpdate$, (d) => engine.empty(d, { id, version, body })),
        update
      )
  }
}

/** The Secrets service (swarm mode): secrets for services' tasks (see `SecretsShape`); needs a swarm manager. */
export class Secrets extends Context.Service<Secrets, SecretsShape>()("effect-docker/Secrets") {
  /** Secrets over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Secrets, never, DockerEngine> = Layer.effect(Secrets)(
    Effect.map(DockerEngine, makeSecrets)
  )
}
