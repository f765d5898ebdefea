/**
 * `Nodes`: the swarm's nodes (a manager's view) — the generated pass-throughs (`NodeClient`: list,
 * inspect, remove) and `update` with its helpers.
 *
 * Decisions that show in the API:
 * - **Update** applies a patch to the node's current spec (see `spec-merge.ts`; `Labels` replaced
 *   whole) at its current version, read here, retried once on "update out of sequence".
 * - **Helpers** are updates: `drain` / `activate` / `pause` (availability), `promote` / `demote`
 *   (role), `addLabels` / `removeLabels` (the other labels kept).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor, withDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeNodeClient, type NodeClient } from "../generated/clients/node.js"
import type { NodeSpec } from "../generated/schemas/NodeSpec.js"
import { mergeSpec, type SpecPatch } from "./spec-merge.js"
import { updateAtCurrentVersion } from "./versioned-update.js"

const NodeUpdate$ = lazyDescriptor(() => import("../generated/operations/node/NodeUpdate.js").then((m) => m.NodeUpdate))

/** Every node operation: the generated pass-throughs (`NodeClient`: list, inspect, remove) and the methods below, which decide something. */
export interface NodesShape extends NodeClient {
  /** `POST /nodes/{id}/update`: the node's spec with `patch` applied, at its current version. */
  readonly update: (id: string, patch: SpecPatch<NodeSpec>) => Effect.Effect<void, DockerError>
  /** Availability `drain`: its tasks are moved to other nodes, none scheduled on it. */
  readonly drain: (id: string) => Effect.Effect<void, DockerError>
  /** Availability `active`: tasks may be scheduled on it again. */
  readonly activate: (id: string) => Effect.Effect<void, DockerError>
  /** Availability `pause`: its tasks keep running, no new ones are scheduled on it. */
  readonly pause: (id: string) => Effect.Effect<void, DockerError>
  /** Role `manager`. */
  readonly promote: (id: string) => Effect.Effect<void, DockerError>
  /** Role `worker`. */
  readonly demote: (id: string) => Effect.Effect<void, DockerError>
  /** Adds (or changes) these labels, keeping the others. */
  readonly addLabels: (id: string, labels: Readonly<Record<string, string>>) => Effect.Effect<void, DockerError>
  /** Removes these label keys, keeping the others. */
  readonly removeLabels: (id: string, keys: ReadonlyArray<string>) => Effect.Effect<void, DockerError>
}

/** The Nodes service over `engine`. */
export const makeNodes = (engine: DockerEngineShape): NodesShape => {
  const client = makeNodeClient(engine)
  /** An update whose new spec is computed from the current one. */
  const updateWith = (id: string, next: (current: NodeSpec) => NodeSpec) =>
    updateAtCurrentVersion(
      client.inspect(id),
      (node, version) =>
        withDescriptor(NodeUpdate$, (d) => engine.empty(d, { id, version, body: next(node.Spec ?? {}) }))
    )
  const update: NodesShape["update"] = (id, patch) => updateWith(id, (spec) => mergeSpec<NodeSpec>(spec, patch))
  return {
    ...client,
    update,
    drain: (id) => update(id, { Availability: "drain" }),
    activate: (id) => update(id, { Availability: "active" }),
    pause: (id) => update(id, { Availability: "pause" }),
    promote: (id) => update(id, { Role: "manager" }),
    demote: (id) => update(id, { Role: "worker" }),
    addLabels: (id, labels) => updateWith(id, (spec) => ({ ...spec, Labels: { ...spec.Labels, ...labels } })),
    removeLabels: (id, keys) =>
      updateWith(id, (spec) => ({
        ...spec,
        Labels: Object.fromEntries(Object.entries(spec.Labels ?? {}).filter(([key]) => !keys.includes(key)))
      }))
  }
}

/** The Nodes service (swarm mode): the swarm's nodes (see `NodesShape`); needs a swarm manager. */
export class Nodes extends Context.Service<Nodes, NodesShape>()("effect-docker/Nodes") {
  /** Nodes over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Nodes, never, DockerEngine> = Layer.effect(Nodes)(
    Effect.map(DockerEngine, makeNodes)
  )
}
