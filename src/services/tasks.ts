/**
 * `Tasks`: the swarm's tasks — the generated pass-throughs (`TaskClient`: list, inspect) and
 * `logs`, framed unless the task's container has a TTY (`Spec.ContainerSpec.TTY`, inspected
 * unless the caller says `tty`), as the daemon decides.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { DockerError } from "../core/errors.js"
import { lazyDescriptor } from "../core/lazy.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makeTaskClient, type TaskClient } from "../generated/clients/task.js"
import type { StdioFrame } from "../wire/stdio-frames.js"
import { swarmLogs, type SwarmLogsOptions } from "./swarm-logs.js"

const TaskLogs$ = lazyDescriptor(() => import("../generated/operations/task/TaskLogs.js").then((m) => m.TaskLogs))

/** Every task operation: the generated pass-throughs (`TaskClient`: list, inspect) and `logs`. */
export interface TasksShape extends TaskClient {
  /** `GET /tasks/{id}/logs` as stdio frames; framing from the task's TTY. */
  readonly logs: (id: string, options?: SwarmLogsOptions) => Stream.Stream<StdioFrame, DockerError>
}

/** The Tasks service over `engine`. */
export const makeTasks = (engine: DockerEngineShape): TasksShape => {
  const client = makeTaskClient(engine)
  return {
    ...client,
    logs: (id, options = {}) =>
      swarmLogs(
        engine,
        TaskLogs$,
        id,
        Effect.map(client.inspect(id), (t) => t.Spec?.ContainerSpec?.TTY === true),
        options
      )
  }
}

/** The Tasks service (swarm mode): services' tasks (see `TasksShape`); needs a swarm manager. */
export class Tasks extends Context.Service<Tasks, TasksShape>()("effect-docker/Tasks") {
  /** Tasks over the `DockerEngine` (`Docker.layer` / `layerFromEnv` provide it). */
  static readonly layer: Layer.Layer<Tasks, never, DockerEngine> = Layer.effect(Tasks)(
    Effect.map(DockerEngine, makeTasks)
  )
}
