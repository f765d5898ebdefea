/**
 * Every way a call can fail, as tagged errors users can `catchTag` on. Each error names the
 * operation (the spec's operationId) and carries the daemon's own message where there is one.
 * Credentials never reach these values: requests are described by operation and path only, and
 * headers are never copied into an error.
 */
import * as Data from "effect/Data"

/** The fields every status error (`NotFound`, `Conflict`…) has. */
export interface StatusFields {
  /** The Engine API operation, e.g. `ContainerInspect`. */
  readonly operation: string
  /** The HTTP status the daemon answered with. */
  readonly status: number
  /** What the daemon said (the `message` of its JSON error body, or the raw body text). */
  readonly daemonMessage: string
  /**
   * The `cause` of the daemon's JSON error body, when it sends one (Podman does: `container state
   * improper`, `network already exists`); Docker's bodies have only `message`.
   */
  readonly daemonCause?: string | undefined
  /** `${operation}: ${daemonMessage} (HTTP ${status})` */
  readonly message: string
}

/** What `statusErrorFor` builds a status error from: its fields, the message made from them. */
export type StatusArgs = Omit<StatusFields, "message">

/**
 * Podman answers 500 where Docker answers 409 for a conflict with the object's state: its error's
 * `cause` says which (libpod's `define.ErrCtrStateInvalid`, `ErrNetworkExists`, `ErrVolumeExists`,
 * `ErrCtrExists`, `ErrPodExists`…). Those are `Conflict`, as on Docker; `status` stays 500.
 */
const CONFLICT_CAUSES = /^(?:container state improper|.* already exists|.* is being used|.* in use)$/i

/** The tag a daemon's failure has: its status's, except a 500 whose `cause` names a conflict. */
const statusTag = (status: number, cause: string | undefined): number =>
  status === 500 && cause !== undefined && CONFLICT_CAUSES.test(cause) ? 409 : status

// One class per HTTP status the Engine API documents, so `catchTag("NotFound")` reads as the
// intent. They share their fields; `statusErrorFor` is the one place that builds them.
/** 304: the object is already in the requested state (start a running container, stop a stopped one). */
export class NotModified extends Data.TaggedError("NotModified")<StatusFields> {}
/** 400: bad parameter. */
export class BadRequest extends Data.TaggedError("BadRequest")<StatusFields> {}
/** 401: the registry refused the credentials. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<StatusFields> {}
/** 403: operation not permitted (e.g. removing a running container's network). */
export class Forbidden extends Data.TaggedError("Forbidden")<StatusFields> {}
/** 404: no such container, image, network, volume, exec… */
export class NotFound extends Data.TaggedError("NotFound")<StatusFields> {}
/** 409: conflict with the object's current state (name in use, container running…). */
export class Conflict extends Data.TaggedError("Conflict")<StatusFields> {}
/** 500: the daemon failed. */
export class ServerError extends Data.TaggedError("ServerError")<StatusFields> {}
/**
 * 503 (or 406): this node is not part of a swarm, so a swarm operation (inspect, leave, services,
 * nodes, secrets, cluster volumes…) cannot run here. Daemons word it two ways: "This node is not
 * part of a swarm" (leave, unlock key) and "This node is not a swarm manager. Use \"docker swarm
 * init\" or \"docker swarm join\" …" (the rest).
 */
export class NotInSwarm extends Data.TaggedError("NotInSwarm")<StatusFields> {}
/**
 * 503 (or 406): this node is in a swarm as a worker, and the operation needs a manager ("Worker
 * nodes can't be used to view or modify cluster state").
 */
export class NotAManager extends Data.TaggedError("NotAManager")<StatusFields> {}
/** 503: the daemon cannot serve the request now (shutting down, a locked swarm…). */
export class ServiceUnavailable extends Data.TaggedError("ServiceUnavailable")<StatusFields> {}
/** Any other non-success status. */
export class UnexpectedStatus extends Data.TaggedError("UnexpectedStatus")<StatusFields> {}

/** The errors of a daemon's non-success HTTP status, one class per status (see `statusErrorFor`). */
export type StatusError =
  | NotModified
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | Conflict
  | ServerError
  | NotInSwarm
  | NotAManager
  | ServiceUnavailable
  | UnexpectedStatus

// What moby's daemon/cluster/errors.go says (errNoSwarm, errSwarmNotManager and the "not a manager,
// use swarm init or join" answer of a node in no swarm), checked on 20.10 and 28.x.
const NOT_IN_SWARM = /not part of a swarm|use "docker swarm init" or "docker swarm join"/i
const NOT_A_MANAGER = /worker nodes can't be used|not a swarm manager\. worker/i

/** The swarm-state errors a 503 or 406 can mean, told apart by the daemon's message. */
const swarmStateError = (args: StatusFields): NotInSwarm | NotAManager | undefined =>
  NOT_A_MANAGER.test(args.daemonMessage)
    ? new NotAManager(args)
    : NOT_IN_SWARM.test(args.daemonMessage)
    ? new NotInSwarm(args)
    : undefined

/** Maps a daemon's non-success answer to its tagged error. */
export const statusErrorFor = (fields: StatusArgs): StatusError => {
  const args = { ...fields, message: `${fields.operation}: ${fields.daemonMessage} (HTTP ${fields.status})` }
  switch (statusTag(args.status, args.daemonCause)) {
    case 304:
      return new NotModified(args)
    case 400:
      return new BadRequest(args)
    case 401:
      return new Unauthorized(args)
    case 403:
      return new Forbidden(args)
    case 404:
      return new NotFound(args)
    case 409:
      return new Conflict(args)
    case 500:
      return new ServerError(args)
    case 503:
      return swarmStateError(args) ?? new ServiceUnavailable(args)
    case 406:
      return swarmStateError(args) ?? new UnexpectedStatus(args)
    default:
      return new UnexpectedStatus(args)
  }
}

/** The daemon could not be reached (no socket, refused, reset before an answer). */
export class ConnectionError extends Data.TaggedError("ConnectionError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** Where we tried to connect, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string
  /** The system error code (`ENOENT`, `ECONNREFUSED`, `ECONNRESET`…), when there is one. */
  readonly code: string | undefined
  /** What went wrong, in one line that names the operation. */
  readonly message: string
  /** The underlying failure (the socket's error, the Schema's issue), for debugging. */
  readonly cause?: unknown
}> {}

/** The endpoint configuration itself is unusable (bad DOCKER_HOST, unsupported scheme). */
export class EndpointError extends Data.TaggedError("EndpointError")<{
  /** The address as configured (`unix:///var/run/docker.sock`, a `DOCKER_HOST` value). */
  readonly endpoint: string
  /** What went wrong, in one line (`invalid Docker host "…": …`). */
  readonly message: string
}> {}

/** A success answer whose body does not match what the operation returns. */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** Where in the body, and what was wrong (from the Schema issue). */
  readonly detail: string
  /** What went wrong, in one line that names the operation. */
  readonly message: string
  /** The underlying failure (the socket's error, the Schema's issue), for debugging. */
  readonly cause?: unknown
}> {}

/**
 * The API version cannot serve this request: the daemon refuses the pinned version, the daemon is
 * older than the client supports, or the request uses something newer than the effective version.
 */
export class ApiVersionError extends Data.TaggedError("ApiVersionError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** The version requests are made with. */
  readonly apiVersion: string
  /** The version the request (or the daemon) needs, when known. */
  readonly required: string | undefined
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}

/**
 * The daemon reported a failure inside a stream it had already answered 200 to: an
 * `{"error":…,"errorDetail":{…}}` message in a pull, push, build, load or plugin progress stream.
 */
export class InStreamError extends Data.TaggedError("InStreamError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** `errorDetail.message`, else `error`. */
  readonly daemonMessage: string
  /** `errorDetail.code`, when the daemon sent one. */
  readonly code: number | undefined
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}

/**
 * A multiplexed stdio stream (logs, attach, exec) could not be read: the daemon sent a type-3
 * (systemerr) frame reporting a failure mid-stream (`reason: "SystemError"`, its text in
 * `daemonMessage`), a frame header was not valid (`"BadHeader"`: unknown stream type, often a TTY
 * stream read as framed), or the stream ended inside a frame (`"Truncated"`).
 */
export class StdioStreamError extends Data.TaggedError("StdioStreamError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** Why the stream could not be read (see the class's description). */
  readonly reason: "SystemError" | "BadHeader" | "Truncated"
  /** The daemon's text from a type-3 frame; `undefined` for the other reasons. */
  readonly daemonMessage: string | undefined
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}

/**
 * An operation's own time bound elapsed before it completed. Not `TimeoutError`: that is the tag of
 * Effect's `Cause.TimeoutError` (from `Effect.timeout`), and one `catchTag` would catch both.
 */
export class OperationTimeoutError extends Data.TaggedError("OperationTimeoutError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** The bound that elapsed, in milliseconds. */
  readonly millis: number
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}

/**
 * An argument was refused before anything was sent: a path parameter that is missing, empty, or
 * would move the request elsewhere once a proxy or the daemon's router cleans the path (`.`, `..`,
 * an empty segment), or a body that cannot be serialised as JSON (circular, BigInt).
 */
export class InvalidArgumentError extends Data.TaggedError("InvalidArgumentError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** The argument's key (`id`, `name`, `body`, `filters`…). */
  readonly argument: string
  /** `${operation}: ${argument} … (what was wrong)` */
  readonly message: string
}> {}

/**
 * The engine does not have this operation at all: Podman's Docker-compatible service answers an
 * endpoint it lacks (container update, plugins, swarm, distribution in 4.3.1) with a bare 404
 * `Not Found` or `Path … is not supported`, or a 503 `Podman does not support service`: not the
 * `NotFound` of a missing object. `engine` names what answered (`podman 4.3.1`). `status` 0 and
 * an empty `daemonMessage`: refused before sending, for a feature the layer knows the engine
 * lacks (a BuildKit build on Podman).
 */
export class UnsupportedByEngine extends Data.TaggedError("UnsupportedByEngine")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** What answered: `podman 4.3.1`. */
  readonly engine: string
  /** The answer's HTTP status; 0 when nothing was sent. */
  readonly status: number
  /** What the daemon said (the `message` of its JSON error body, or the raw body text). */
  readonly daemonMessage: string
  /** `${operation}: ${engine} does not support this operation (HTTP ${status}: ${daemonMessage})` */
  readonly message: string
}> {}

/** Everything an Engine API call can fail with. */
export type DockerError =
  | StatusError
  | UnsupportedByEngine
  | ConnectionError
  | EndpointError
  | DecodeError
  | ApiVersionError
  | InStreamError
  | StdioStreamError
  | OperationTimeoutError
  | InvalidArgumentError

/**
 * A BuildKit build failed: the daemon's message, the step that failed (`step`: its name, e.g.
 * `[2/3] RUN make`, digest and error) and its last output lines (`logs`). A registry's refusal is
 * `Unauthorized` instead, as for pulls.
 */
export class BuildFailedError extends Data.TaggedError("BuildFailedError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** What the daemon said (the `message` of its JSON error body, or the raw body text). */
  readonly daemonMessage: string
  /** The step that failed, when BuildKit named it: its name (`[2/3] RUN make`), vertex digest and error. */
  readonly step:
    | {
      /** The step's name as BuildKit shows it (`[2/3] RUN make`). */
      readonly name: string
      /** Its vertex digest. */
      readonly digest: string
      /** Its error. */
      readonly error: string
    }
    | undefined
  /** The failing step's last output lines. */
  readonly logs: ReadonlyArray<string>
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}

/**
 * An SSH key given for a BuildKit build's `RUN --mount=type=ssh` cannot be used: its file cannot
 * be read, it is not a private key this client reads, it is encrypted and no passphrase was given,
 * or the passphrase is wrong. Raised before anything is sent. Never carries the key or passphrase:
 * `key` is the file's path or `key <n>` for key text.
 */
export class SshKeyError extends Data.TaggedError("SshKeyError")<{
  /** The Engine API operation the key was for (`ImageBuild`). */
  readonly operation: string
  /** The ssh id (`default`, or the `id=` of the mount). */
  readonly id: string
  /** The key's file path, or `key <n>` (its place in `keys`) for key text: never the key itself. */
  readonly key: string
  /** What was wrong with the key. */
  readonly problem: "Unreadable" | "NotAKey" | "Encrypted" | "WrongPassphrase" | "Unsupported"
  /** `${operation}: ssh ${id}: ${key}: … (what was wrong)` */
  readonly message: string
}> {}

/** A progress stream (build, pull, push, import, load) ended without an in-stream error but never reported what it produced. */
export class IncompleteStreamError extends Data.TaggedError("IncompleteStreamError")<{
  /** The Engine API operation (its operationId, e.g. `ContainerInspect`). */
  readonly operation: string
  /** What went wrong, in one line that names the operation. */
  readonly message: string
}> {}
