/**
 * The shape of an operation descriptor: what the generator (`codegen/`) emits for every Engine API
 * operation in `src/generated/operations/`, and what the executor interprets. Pure data, fast
 * decoders and references to Schemas loaded on first use: nothing here performs I/O, and nothing
 * here evaluates `effect/Schema` (bench/README.md, "Start-up").
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { DockerError } from "./errors.js"

/** The HTTP methods the Engine API uses. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE"

/** An API version as the daemon writes it, e.g. "1.41". */
export type ApiVersionString = `${number}.${number}`

/** Since/until availability, from diffing the upstream specs of every supported version. */
export interface Availability {
  /** First API version whose spec has it. */
  readonly since: ApiVersionString
  /** Last API version whose spec still has it; absent while it exists in the newest spec. */
  readonly until?: ApiVersionString
  /**
   * Parameters and body fields only: what the executor does when a request sets it at a version
   * after `until` (decided per field in `spec/removed-fields.yaml`). `refuse` (the default) fails
   * with `ApiVersionError`: the daemon would not do what it asks. `drop` leaves it out (logged at
   * debug level): the daemon now always does what it asked, so sending it changes nothing.
   */
  readonly whenRemoved?: RemovedPolicy
}

/** See {@link Availability.whenRemoved}. */
export type RemovedPolicy = "refuse" | "drop"

/**
 * A Schema loaded on first use: `() => import("…").then((m) => m.X)`. A descriptor names its
 * Schemas this way, so that a program evaluates `effect/Schema` only when a fast decoder refuses
 * an answer or it asks for a Schema itself (`await ContainerInspect.response.schema()`).
 */
export type SchemaRef<S extends Schema.Top = Schema.Top> = () => Promise<S>

/**
 * How one argument value goes onto the wire (query string or header).
 * - `string` / `integer` / `number`: `String(value)`
 * - `boolean`: `"1"` / `"0"` (the daemon's `httputils.BoolValue` and Go's `ParseBool` both read these)
 * - `json`: `JSON.stringify(value)` (`filters`, `buildargs`, `labels`, `cachefrom`, OCI platform objects…)
 * - `repeat`: an array sent as the same key once per element
 * - `repeatJson`: an array sent as the same key once per element, each element `JSON.stringify`'d
 *   (OCI platform objects on image get/load/delete/attestations, API 1.52+)
 * - `csv`: an array joined with commas
 */
export type ParamEncoding = "string" | "integer" | "number" | "boolean" | "json" | "repeat" | "repeatJson" | "csv"

/** One path, query or header parameter of an operation. */
export interface ParamSpec extends Availability {
  /** Name on the wire (`one-shot`, `X-Registry-Auth`, `id`). */
  readonly name: string
  /** Property name in the operation's argument object (a valid JS identifier, camelCase). */
  readonly key: string
  /** Where it goes. */
  readonly in: "path" | "query" | "header"
  /** The operation needs it. */
  readonly required: boolean
  /** How its value is written (see {@link ParamEncoding}). */
  readonly encoding: ParamEncoding
  /**
   * What the daemon assumes when the parameter is omitted: documentation only, nothing is sent —
   * unless `alwaysSent`.
   */
  readonly default?: string | number | boolean
  /**
   * Sent with `default` when the caller omits it (erratum key `x-ed-always-send`): the daemon
   * does not apply its documented default (`PluginEnable`'s `timeout`: an absent value is parsed
   * as `""` and answered with 500).
   */
  readonly alwaysSent?: true
}

/** An operation's request body. */
export interface BodySpec extends Availability {
  /** Property name in the argument object that carries the body (`body`). */
  readonly key: string
  /** The operation needs one. */
  readonly required: boolean
  /** `application/json` bodies are encoded with `schema`; other content types are byte streams. */
  readonly contentType: "application/json" | "application/x-tar" | "application/octet-stream" | "text/plain"
  /** The JSON body's Schema (the body is sent as `JSON.stringify` of it; this is its type). */
  readonly schema?: SchemaRef
}

/**
 * A request body of bytes (tar archives, image tarballs): whole, or flowing — a byte `Stream`,
 * whose own failure fails the call with that error (the engine records it), or an `AsyncIterable`.
 */
export type ByteBody<E = never> = Uint8Array | Stream.Stream<Uint8Array, E> | AsyncIterable<Uint8Array>

/**
 * A generated decoder (codegen/emit-decoders.ts) that decodes a JSON value exactly as the response
 * Schema does, several times faster, or returns `Invalid` for anything it does not accept; the
 * Schema then decodes, to report the failure.
 */
export type FastDecoder = (u: unknown) => unknown

/** What comes back on success, and how the executor must read it. */
export type ResponseSpec =
  /** A JSON document decoded with `schema` (`decode` first: see {@link FastDecoder}). */
  | {
    /** How the executor reads the answer. */
    readonly kind: "json"
    /** The answer's Schema. */
    readonly schema: SchemaRef
    /** The generated fast decoder, tried first. */
    readonly decode?: FastDecoder
  }
  /** No body worth reading (204, or 200/201 with an empty/irrelevant body). */
  | {
    /** How the executor reads the answer. */
    readonly kind: "empty"
  }
  /** A short text body (`_ping` answers `OK`). */
  | {
    /** How the executor reads the answer. */
    readonly kind: "text"
  }
  /** 200, then newline-separated JSON messages; an `error`/`errorDetail` message is an in-stream failure. */
  | {
    /** How the executor reads the answer. */
    readonly kind: "jsonStream"
    /** Each message's Schema. */
    readonly schema: SchemaRef
    /** The generated fast decoder of a message, tried first. */
    readonly decode?: FastDecoder
  }
  /** stdout/stderr: multiplexed 8-byte frames unless the container (or exec start) has a TTY. */
  | {
    /** How the executor reads the answer. */
    readonly kind: "stdio"
  }
  /** An opaque byte stream (tar archives, exports). */
  | {
    /** How the executor reads the answer. */
    readonly kind: "binary"
    /** The content type the daemon sends. */
    readonly contentType: string
  }
  /** Only response headers matter (`HEAD /containers/{id}/archive`). */
  | {
    /** How the executor reads the answer. */
    readonly kind: "headers"
  }
  /** The connection is hijacked (`Upgrade: tcp`): raw bidirectional bytes after a 101. */
  | {
    /** How the executor reads the answer. */
    readonly kind: "hijack"
  }
  /** A WebSocket upgrade. */
  | {
    /** How the executor reads the answer. */
    readonly kind: "websocket"
  }

/** Which registry credentials header the daemon reads on this operation, documented or not. */
export type RegistryAuthHeader = "X-Registry-Auth" | "X-Registry-Config"

/** What codegen emits for every Engine API operation (`ContainerInspect`, …) and the engine runs: how to send it, how to read the answer. */
export interface OperationDescriptor extends Availability {
  /** The spec's operationId (`ContainerInspect`). */
  readonly operationId: string
  /** The HTTP method. */
  readonly method: HttpMethod
  /** Path template without the version prefix, e.g. `/containers/{id}/json`. */
  readonly path: string
  /**
   * Sent without the `/v1.xx` prefix and without waiting for the layer's version (`_ping`, as the
   * Docker CLI sends it): the answer says which version the daemon speaks.
   */
  readonly unversioned?: boolean
  /** Path, query and header parameters, in spec order. */
  readonly params: ReadonlyArray<ParamSpec>
  /** The request body, when the operation has one. */
  readonly body?: BodySpec
  /** What comes back on success, and how it is read. */
  readonly response: ResponseSpec
  /** Which registry credentials header it takes, if any. */
  readonly registryAuth?: RegistryAuthHeader
  /** Response headers worth reading on success (`Api-Version` on `_ping`, `X-Docker-Container-Path-Stat`…). */
  readonly responseHeaders?: ReadonlyArray<string>
  /**
   * Body/response properties whose availability differs from the operation's, keyed by a path
   * rooted at `body` or `response`: `body.HostConfig.Annotations`, `response[].Health` (`[]` =
   * array items, `{}` = map values).
   */
  readonly fields?: Readonly<Record<string, Availability>>
  /** The argument object's Schema: path/query/header params by `key`, plus the body under `body.key`. */
  readonly args?: SchemaRef
}

/** The decoded answer of a JSON operation, or the message type of a JSON-stream operation. */
export type ResponseOf<D extends OperationDescriptor> = D["response"] extends {
  /** The response's Schema (JSON and JSON-stream operations have one). */
  readonly schema: SchemaRef<infer S>
} ? S["Type"]
  : never

/** The argument object an operation takes (from its generated `args` Schema). */
export type ArgsOf<D extends OperationDescriptor> = D extends {
  /** The generated arguments Schema. */
  readonly args: SchemaRef<infer S>
} ? S["Type"]
  : Readonly<Record<string, unknown>>

/**
 * The argument object a call takes: {@link ArgsOf}, with a byte body (if the operation has one)
 * that may be a `Stream` failing with `E`, which then fails the call with that `E`.
 */
export type CallArgs<D extends OperationDescriptor, E = never> = D extends {
  /** A JSON body. */
  readonly body: {
    /** Its content type. */
    readonly contentType: "application/json"
  }
} ? ArgsOf<D>
  : D extends {
    /** A byte body. */
    readonly body: BodySpec
  } ? WithByteBody<ArgsOf<D>, E>
  : ArgsOf<D>

/** Arguments `T` whose `body` is a {@link ByteBody} that may fail with `E`. */
export type WithByteBody<T, E> =
  & Omit<T, "body">
  & ({} extends Pick<T, "body" & keyof T> ? {
      /** The body's bytes (optional). */
      readonly body?: ByteBody<E>
    }
    : {
      /** The body's bytes. */
      readonly body: ByteBody<E>
    })

/** Per-call settings a service method can give. */
export interface CallOptions {
  /** Overrides the engine's timeout for this call (e.g. `stop` waits for the container's grace period). */
  readonly timeout?: Duration.Input | "none" | undefined
}

/**
 * What the generated per-tag clients (`src/generated/clients/`) need of an engine: an operation
 * run with its arguments, its answer read as the descriptor says. `DockerEngine` is one. A byte
 * body given as a `Stream` failing with `E` is sent as it flows, and its failure fails the call
 * with that `E`.
 */
export interface OperationRunner {
  /** Runs an operation that answers JSON and decodes it with the descriptor's schema. */
  readonly json: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>,
    options?: CallOptions
  ) => Effect.Effect<ResponseOf<D>, DockerError | E>
  /** Runs an operation whose answer body carries nothing (it is drained). */
  readonly empty: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>,
    options?: CallOptions
  ) => Effect.Effect<void, DockerError | E>
  /** The body of a flowing operation as bytes; the request is sent when the stream runs. */
  readonly stream: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>
  ) => Stream.Stream<Uint8Array, DockerError | E>
  /**
   * The decoded messages of a JSON-stream operation (events, stats, progress); an `error` message
   * from the daemon fails the stream with `InStreamError`.
   */
  readonly messages: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>
  ) => Stream.Stream<ResponseOf<D>, DockerError | E>
}
