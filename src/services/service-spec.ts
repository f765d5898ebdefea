/**
 * `serviceSpec`: a `ServiceSpec` for the common cases, from names a user reads at once (image,
 * command, env, replicas or global, mounts, resources, placement, update/rollback config,
 * healthcheck, networks, secrets and configs by reference). Anything else: write the spec's own
 * fields, or spread the result and add them (it is a plain `ServiceSpec`).
 */
import * as Duration from "effect/Duration"
import { definedOnly } from "../core/defined.js"
import type { HealthConfig } from "../generated/schemas/HealthConfig.js"
import type { Mount } from "../generated/schemas/Mount.js"
import type { NetworkAttachmentConfig } from "../generated/schemas/NetworkAttachmentConfig.js"
import type { ServiceSpec } from "../generated/schemas/ServiceSpec.js"
import type { TaskSpec } from "../generated/schemas/TaskSpec.js"

type Present<T> = Exclude<T, null | undefined>
type ContainerSpec = Present<TaskSpec["ContainerSpec"]>

/** A secret or config the tasks get as a file (`/run/secrets/<target>`, or `/<target>` for a config). */
export interface SwarmFileReference {
  /** The secret's or config's ID. */
  readonly id: string
  /** Its name. */
  readonly name: string
  /** The file name (default: `name`); for a config, an absolute path is allowed. */
  readonly target?: string | undefined
  /** The file's owner (default `0`). */
  readonly uid?: string | undefined
  /** The file's group (default `0`). */
  readonly gid?: string | undefined
  /** File mode (default 0o444). */
  readonly mode?: number | undefined
}

/** What `serviceSpec` builds a `ServiceSpec` from: the `docker service create` flags users reach for. */
export interface ServiceSpecOptions {
  /** The service's name (default: one the daemon makes up). */
  readonly name?: string | undefined
  /** The image; name it so the daemon need not resolve it remotely (an image ID is never pulled). */
  readonly image: string
  /** Replaces the image's entrypoint. */
  readonly command?: ReadonlyArray<string> | undefined
  /** Arguments to the command (the image's `CMD` replaced). */
  readonly args?: ReadonlyArray<string> | undefined
  /** `{ KEY: value }` or `KEY=value` strings. */
  readonly env?: Readonly<Record<string, string>> | ReadonlyArray<string> | undefined
  /** The service's labels. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** The labels of every task's container. */
  readonly containerLabels?: Readonly<Record<string, string>> | undefined
  /** The tasks' working directory. */
  readonly workdir?: string | undefined
  /** The user the tasks run as. */
  readonly user?: string | undefined
  /** The tasks' host name. */
  readonly hostname?: string | undefined
  /** A TTY for the tasks (logs are then one raw stream). */
  readonly tty?: boolean | undefined
  /** Mounts of every task's container (volumes, binds, tmpfs). */
  readonly mounts?: ReadonlyArray<Mount> | undefined
  /** How many tasks (default 1); ignored with `global`. */
  readonly replicas?: number | undefined
  /** One task on every node that fits (`Mode.Global`). */
  readonly global?: boolean | undefined
  /** CPU and memory limits and reservations. */
  readonly resources?: TaskSpec["Resources"] | undefined
  /** Placement constraints (`node.labels.zone==a`, `node.role==worker`…). */
  readonly constraints?: ReadonlyArray<string> | undefined
  /** The rest of the placement (preferences, max replicas per node, platforms). */
  readonly placement?: Omit<Present<TaskSpec["Placement"]>, "Constraints"> | undefined
  /** When to restart a task (`Condition`, `Delay`, `MaxAttempts`, `Window`). */
  readonly restartPolicy?: TaskSpec["RestartPolicy"] | undefined
  /** How updates roll out (`Parallelism`, `Delay`, `FailureAction`, `Order`…). */
  readonly updateConfig?: ServiceSpec["UpdateConfig"] | undefined
  /** How a rollback rolls out. */
  readonly rollbackConfig?: ServiceSpec["RollbackConfig"] | undefined
  /** The tasks' health check (overrides the image's). */
  readonly healthcheck?: HealthConfig | undefined
  /** Networks by name or ID, or attachment configs (aliases, driver options). */
  readonly networks?: ReadonlyArray<string | NetworkAttachmentConfig> | undefined
  /** Secrets the tasks get as files. */
  readonly secrets?: ReadonlyArray<SwarmFileReference> | undefined
  /** Configs the tasks get as files. */
  readonly configs?: ReadonlyArray<SwarmFileReference> | undefined
  /** How long a task's container gets between its stop signal and the kill. */
  readonly stopGracePeriod?: Duration.Input | undefined
  /** Published ports and the endpoint mode (`vip`, `dnsrr`). */
  readonly endpointSpec?: ServiceSpec["EndpointSpec"] | undefined
}

const fileReference = (reference: SwarmFileReference, idKey: "SecretID" | "ConfigID", nameKey: string) => ({
  File: {
    Name: reference.target ?? reference.name,
    UID: reference.uid ?? "0",
    GID: reference.gid ?? "0",
    Mode: reference.mode ?? 0o444
  },
  [idKey]: reference.id,
  [nameKey]: reference.name
})

const isStringList = (u: unknown): u is ReadonlyArray<string> => Array.isArray(u)

/** A `ServiceSpec` from the common options (see the module's note). */
export const serviceSpec = (options: ServiceSpecOptions): ServiceSpec => {
  const env = options.env === undefined
    ? undefined
    : isStringList(options.env)
    ? [...options.env]
    : Object.entries(options.env).map(([key, value]) => `${key}=${value}`)
  const containerSpec: ContainerSpec = definedOnly({
    Image: options.image,
    Command: options.command,
    Args: options.args,
    Env: env,
    Labels: options.containerLabels,
    Dir: options.workdir,
    User: options.user,
    Hostname: options.hostname,
    TTY: options.tty,
    Mounts: options.mounts,
    Healthcheck: options.healthcheck,
    Secrets: options.secrets?.map((s) => fileReference(s, "SecretID", "SecretName")),
    Configs: options.configs?.map((c) => fileReference(c, "ConfigID", "ConfigName")),
    StopGracePeriod: options.stopGracePeriod === undefined
      ? undefined
      : Number(Duration.toNanosUnsafe(options.stopGracePeriod))
  })
  const placement = options.constraints === undefined && options.placement === undefined
    ? undefined
    : { ...options.placement, ...definedOnly({ Constraints: options.constraints }) }
  return definedOnly({
    Name: options.name,
    Labels: options.labels,
    TaskTemplate: definedOnly({
      ContainerSpec: containerSpec,
      Resources: options.resources,
      Placement: placement,
      RestartPolicy: options.restartPolicy,
      Networks: options.networks?.map((n) => typeof n === "string" ? { Target: n } : n)
    }),
    Mode: options.global === true ? { Global: {} } : { Replicated: { Replicas: options.replicas ?? 1 } },
    UpdateConfig: options.updateConfig,
    RollbackConfig: options.rollbackConfig,
    EndpointSpec: options.endpointSpec
  })
}
