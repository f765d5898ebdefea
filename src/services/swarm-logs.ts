/**
 * Logs of a service or a task (`GET /services/{id}/logs`, `GET /tasks/{id}/logs`): stdio frames,
 * demultiplexed unless the tasks have a TTY — what the daemon decides from the spec's
 * `ContainerSpec.TTY`, so the framing is read from there (unless the caller says `tty`).
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { definedOnly } from "../core/defined.js"
import type { DockerError } from "../core/errors.js"
import { type LazyDescriptor, streamWithDescriptor } from "../core/lazy.js"
import type { DockerEngineShape } from "../engine/engine.js"
import type { ServiceLogs } from "../generated/operations/service/ServiceLogs.js"
import type { TaskLogs } from "../generated/operations/task/TaskLogs.js"
import { type StdioFrame, stdioFrames } from "../wire/stdio-frames.js"
import { logQuery, type LogsOptions } from "./log-query.js"

/** `logs` options of a service or a task. */
export interface SwarmLogsOptions extends LogsOptions {
  /** Show the task context (node, service, task IDs) the daemon adds. */
  readonly details?: boolean | undefined
  /** The tasks' `ContainerSpec.TTY`, when known (saves an inspect); decides raw vs framed. */
  readonly tty?: boolean | undefined
}

/** The logs of `id` through `descriptor`; `specTty` reads the TTY when the caller did not say. */
export const swarmLogs = (
  engine: DockerEngineShape,
  descriptor: LazyDescriptor<typeof ServiceLogs> | LazyDescriptor<typeof TaskLogs>,
  id: string,
  specTty: Effect.Effect<boolean, DockerError>,
  options: SwarmLogsOptions
): Stream.Stream<StdioFrame, DockerError> =>
  Stream.unwrap(
    Effect.map(options.tty !== undefined ? Effect.succeed(options.tty) : specTty, (tty) =>
      streamWithDescriptor(descriptor as LazyDescriptor<typeof ServiceLogs>, (d) =>
        engine.stream(d, { id, ...logQuery(options), ...definedOnly({ details: options.details }) }).pipe(
          stdioFrames(d.operationId, { tty })
        )))
  )
