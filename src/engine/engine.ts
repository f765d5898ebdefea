/**
 * `DockerEngine`: one daemon, one connection pool, one effective API version. Every service
 * method goes through `call`: descriptor + arguments → request → decoded value or tagged error.
 */
import { type Config, Context, Deferred, Duration, Effect, Exit, Layer, Schedule, Scope, Stream, Tracer } from "effect"
import type { IncomingHttpHeaders } from "node:http"
import type { Duplex } from "node:stream"
import type { ArgsOf, OperationDescriptor, ResponseOf } from "../core/descriptor.js"
import {
  ApiVersionError,
  type ConnectionError,
  type DockerError,
  EndpointError,
  type TimeoutError
} from "../core/errors.js"
import { decodeJsonBody } from "../wire/decode.js"
import { decodeMessages, jsonValues } from "../wire/json-messages.js"
import {
  isSupportedApiVersion,
  MAX_API_VERSION,
  MIN_API_VERSION,
  negotiateApiVersion,
  normalizeApiVersion
} from "./api-version.js"
import type { SshOptions, TlsOptions } from "./connector.js"
import { parseEndpoint } from "./endpoint.js"
import { type Args, buildRequest, failureFromResponse } from "./executor.js"
import { engineOptionsFromEnv } from "./options-from-env.js"
import { makeTransport, type Transport, type WholeResponse } from "./transport.js"

export interface DockerEngineOptions {
  /** A `DOCKER_HOST`-style address; the default is `unix:///var/run/docker.sock`. */
  readonly host?: string | undefined
  /** Pin the API version (e.g. `"1.41"`): no negotiation, every request uses it. */
  readonly apiVersion?: string | undefined
  /** Connections kept to the daemon; unlimited by default. */
  readonly connections?: number | undefined
  /**
   * Bound on each request–response operation, body included (default 2 minutes; `"none"` for no
   * bound). Streams and long polls (`ContainerWait`) have none unless a call asks for one.
   */
  readonly timeout?: Duration.Input | "none" | undefined
  /**
   * When to try again after a connection-level failure (refused, reset, no socket yet), for
   * idempotent operations only (GET, HEAD). Default: 3 retries, exponential from 50 ms.
   * `false` turns retries off.
   */
  readonly retry?: Schedule.Schedule<unknown, ConnectionError | TimeoutError> | false | undefined
  /**
   * TLS for `tcp://` / `https://` hosts: PEM `ca`, `cert`, `key` (or a `certPath` directory with
   * `ca.pem`, `cert.pem`, `key.pem`) and `verify` (default `true`). Given at all, `tcp://` speaks
   * TLS (as with `DOCKER_TLS_VERIFY`). Files are read once, when the layer is built.
   */
  readonly tls?: TlsOptions | undefined
  /** For `ssh://` hosts: the ssh binary and extra arguments (e.g. `["-F", configFile]`). */
  readonly ssh?: SshOptions | undefined
}

/** Per-call settings a service method can give. */
export interface CallOptions {
  /** Overrides the engine's timeout for this call (e.g. `stop` waits for the container's grace period). */
  readonly timeout?: Duration.Input | "none" | undefined
}

const DEFAULT_TIMEOUT: Duration.Input = "2 minutes"
const DEFAULT_RETRY: Schedule.Schedule<unknown, ConnectionError | TimeoutError> = Schedule.max([
  Schedule.exponential("50 millis"),
  Schedule.recurs(3)
])
/** Operations whose answer legitimately takes as long as the daemon's work: no default bound. */
const LONG_POLLS: ReadonlySet<string> = new Set(["ContainerWait"])

/** A successful answer, read whole: for operations whose headers matter (`_ping`). */
export interface RawAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface DockerEngineShape {
  /** The daemon's address in the CLI's notation (`unix:///var/run/docker.sock`). */
  readonly address: string
  /** The version requests use: pinned, or negotiated once on first use. */
  readonly apiVersion: Effect.Effect<string, DockerError>
  /** Runs an operation that answers JSON and decodes it with the descriptor's schema. */
  readonly json: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>,
    options?: CallOptions
  ) => Effect.Effect<ResponseOf<D>, DockerError>
  /** Runs an operation whose answer body carries nothing (it is drained). */
  readonly empty: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>,
    options?: CallOptions
  ) => Effect.Effect<void, DockerError>
  /** Runs an operation and returns status, headers and body text. */
  readonly raw: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>,
    options?: CallOptions
  ) => Effect.Effect<RawAnswer, DockerError>
  /**
   * Starts an operation whose body flows: succeeds once a success status and headers arrived, with
   * the body as a byte `Stream`, to be run once (a second run dies). The connection is released
   * when `scope` closes, so a consumer that stops early (`take`, interruption, failure) closes it.
   */
  readonly open: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>
  ) => Effect.Effect<StreamingAnswer, DockerError, Scope.Scope>
  /** The body of a flowing operation as bytes; the request is sent when the stream runs. */
  readonly stream: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>
  ) => Stream.Stream<Uint8Array, DockerError>
  /**
   * Runs an operation that hijacks its connection (attach, exec start): succeeds with the raw
   * socket once the daemon switched protocols; the socket is destroyed when `scope` closes.
   */
  readonly hijack: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>
  ) => Effect.Effect<HijackedConnection, DockerError, Scope.Scope>
  /**
   * The decoded messages of a JSON-stream operation (events, stats, progress); an `error` message
   * from the daemon fails the stream with `InStreamError`.
   */
  readonly messages: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>
  ) => Stream.Stream<ResponseOf<D>, DockerError>
}

/** A hijacked connection: raw bytes both ways (framed unless a TTY is attached). */
export interface HijackedConnection {
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly socket: Duplex
}

/** A successful answer whose body is still flowing. */
export interface StreamingAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Stream.Stream<Uint8Array, ConnectionError>
}

export class DockerEngine extends Context.Service<DockerEngine, DockerEngineShape>()("effect-docker/DockerEngine") {
  /** An engine for explicit options. */
  static readonly layer = (options: DockerEngineOptions = {}): Layer.Layer<DockerEngine, EndpointError> =>
    Layer.effect(DockerEngine)(makeEngine(options))

  /**
   * An engine configured like the Docker CLI: `DOCKER_HOST`, else `DOCKER_CONTEXT`, else the
   * `currentContext` of `$DOCKER_CONFIG/config.json` (default `~/.docker`), else the default socket;
   * TLS from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` / `DOCKER_CERT_PATH` or the context's material;
   * `DOCKER_API_VERSION` pins the version when set. See `context.ts` for the exact rules.
   */
  static readonly layerFromEnv: Layer.Layer<DockerEngine, EndpointError | Config.ConfigError> = Layer.unwrap(
    Effect.map(engineOptionsFromEnv, (options) => DockerEngine.layer(options))
  )
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

const makeEngine = (options: DockerEngineOptions): Effect.Effect<DockerEngineShape, EndpointError, Scope.Scope> =>
  Effect.gen(function*() {
    const endpoint = parseEndpoint(options.host)
    if (endpoint instanceof EndpointError) return yield* endpoint
    let pinned: string | undefined
    if (options.apiVersion !== undefined) {
      pinned = normalizeApiVersion(options.apiVersion)
      if (pinned === undefined || !isSupportedApiVersion(pinned)) {
        return yield* new EndpointError({
          endpoint: options.host ?? "",
          message: `API version "${options.apiVersion}" cannot be pinned: effect-docker speaks ${MIN_API_VERSION}` +
            `–${MAX_API_VERSION}`
        })
      }
    }
    const transport = yield* makeTransport(endpoint, {
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      tls: options.tls,
      ssh: options.ssh
    })
    const scope = yield* Effect.scope
    const apiVersion = pinned !== undefined ? Effect.succeed(pinned) : versionResolver(transport, scope)

    const retry = options.retry === undefined ? DEFAULT_RETRY : options.retry
    const engineTimeout = options.timeout === undefined ? DEFAULT_TIMEOUT : options.timeout
    const engineTimeoutMillis = engineTimeout === "none" ? undefined : Duration.toMillis(engineTimeout)

    const call = (
      descriptor: OperationDescriptor,
      args: Args,
      callOptions: CallOptions | undefined
    ): Effect.Effect<WholeResponse, DockerError> => {
      const operation = descriptor.operationId
      const bound = callOptions?.timeout ?? (LONG_POLLS.has(operation) ? "none" : undefined)
      const timeoutMillis = bound === undefined
        ? engineTimeoutMillis
        : bound === "none"
        ? undefined
        : Duration.toMillis(bound)
      const exchange = (traced: boolean) =>
        Effect.flatMap(apiVersion, (version) => {
          const request = buildRequest(descriptor, args, version)
          if (request instanceof ApiVersionError) return Effect.fail(request)
          let send = transport.request(operation, request, timeoutMillis)
          // Only a request the daemon may safely see twice is retried, and only when it never got
          // an answer. The schedule is set up after a first failure: a successful call pays nothing.
          if (retry !== false && (descriptor.method === "GET" || descriptor.method === "HEAD")) {
            const first = send
            send = Effect.catchTag(first, "ConnectionError", (error) => {
              let replayed = false
              return Effect.retry(
                Effect.suspend(() => replayed ? first : (replayed = true, Effect.fail(error))),
                { schedule: retry, while: (e) => e._tag === "ConnectionError" }
              )
            })
          }
          return Effect.flatMap(send, (answer) => {
            const result = answer.status >= 200 && answer.status < 300 ?
              Effect.succeed(answer) :
              Effect.fail(failureFromResponse(operation, version, answer.status, answer.body))
            return traced
              ? Effect.andThen(
                Effect.annotateCurrentSpan({
                  "docker.api_version": version,
                  "http.response.status_code": answer.status
                }),
                result
              )
              : result
          })
        })
      // Spans cost ~10% of a ping; without a tracer installed (Effect's built-in native tracer
      // exports nothing) they would be paid for nothing.
      return Effect.flatMap(
        Tracer.Tracer,
        (tracer) =>
          tracer === Tracer.nativeTracer ? exchange(false) : Effect.withSpan(exchange(true), operation, {
            attributes: { "docker.operation": operation, "http.request.method": descriptor.method },
            // A stack trace per request costs more than the request's own bookkeeping; the span's
            // name (the operationId) already says where it comes from.
            captureStackTrace: false
          })
      )
    }

    const open = (descriptor: OperationDescriptor, args: Args = {}) =>
      Effect.gen(function*() {
        const version = yield* apiVersion
        const request = buildRequest(descriptor, args, version)
        if (request instanceof ApiVersionError) return yield* request
        const operation = descriptor.operationId
        const response = yield* transport.open(operation, request)
        if (response.status < 200 || response.status >= 300) {
          const chunks = yield* Stream.runCollect(response.body)
          const text = Buffer.concat(chunks).toString("utf8")
          return yield* failureFromResponse(operation, version, response.status, text)
        }
        return { status: response.status, headers: response.headers, body: response.body } satisfies StreamingAnswer
      })

    const json = (descriptor: OperationDescriptor, args: Args = {}, callOptions?: CallOptions) => {
      const response = descriptor.response
      if (response.kind !== "json") return Effect.die(`${descriptor.operationId} does not answer JSON`)
      return Effect.flatMap(
        call(descriptor, args, callOptions),
        (answer) => decodeJsonBody(descriptor.operationId, response.schema, answer.body, response.decode)
      )
    }
    const empty = (descriptor: OperationDescriptor, args: Args = {}, callOptions?: CallOptions) =>
      Effect.asVoid(call(descriptor, args, callOptions))
    const raw = (descriptor: OperationDescriptor, args: Args = {}, callOptions?: CallOptions) =>
      call(descriptor, args, callOptions) as Effect.Effect<RawAnswer, DockerError>
    const stream = (descriptor: OperationDescriptor, args?: Args) =>
      Stream.unwrap(Effect.map(open(descriptor, args), (answer) => answer.body))

    const messages = (descriptor: OperationDescriptor, args?: Args) => {
      const response = descriptor.response
      if (response.kind !== "jsonStream") return Stream.die(`${descriptor.operationId} does not stream JSON messages`)
      return stream(descriptor, args).pipe(
        jsonValues,
        decodeMessages(descriptor.operationId, response.schema, response.decode)
      )
    }

    const hijack = (descriptor: OperationDescriptor, args: Args = {}) =>
      Effect.gen(function*() {
        const version = yield* apiVersion
        const request = buildRequest(descriptor, args, version)
        if (request instanceof ApiVersionError) return yield* request
        const answer = yield* transport.hijack(descriptor.operationId, request)
        if (answer._tag === "Refused") {
          return yield* failureFromResponse(descriptor.operationId, version, answer.status, answer.body)
        }
        return { status: answer.status, headers: answer.headers, socket: answer.socket } satisfies HijackedConnection
      })

    // The descriptor's Schema decoded the answer, so its type is the descriptor's response type:
    // the one place where the generic signatures meet the untyped executor.
    return {
      address: transport.address,
      apiVersion,
      json: json as DockerEngineShape["json"],
      empty: empty as DockerEngineShape["empty"],
      raw: raw as DockerEngineShape["raw"],
      open: open as DockerEngineShape["open"],
      stream: stream as DockerEngineShape["stream"],
      messages: messages as DockerEngineShape["messages"],
      hijack: hijack as DockerEngineShape["hijack"]
    }
  })

/**
 * Negotiation as the Docker CLI does it: `HEAD /_ping` (then `GET` if HEAD is not answered 200),
 * read `Api-Version`, use min(ours, the daemon's). It runs once per engine; concurrent first calls
 * share it. It runs in the engine's scope, not the caller's fiber, so interrupting the first
 * caller does not fail the others; a failure is not cached (the daemon may come up later).
 */
const versionResolver = (transport: Transport, scope: Scope.Scope): Effect.Effect<string, DockerError> => {
  let resolved: Effect.Effect<string> | undefined
  let inflight: Deferred.Deferred<string, DockerError> | undefined
  const ping = (method: "HEAD" | "GET") =>
    Effect.map(
      transport.request("SystemPing", { method, path: "/_ping" }),
      (answer) => ({ status: answer.status, version: header(answer.headers, "api-version") })
    )
  const negotiate = Effect.gen(function*() {
    // The daemon answers HEAD with `Connection: close`, so HEAD costs a connection; over ssh a
    // connection is an ssh handshake (~0.5 s), so there the GET (which keeps it) goes first.
    const first = transport.endpoint._tag === "Ssh" ? "GET" : "HEAD"
    let answer = yield* ping(first)
    if (answer.status !== 200 && first === "HEAD") answer = yield* ping("GET")
    const version = negotiateApiVersion(answer.version)
    if (version === undefined) {
      return yield* new ApiVersionError({
        operation: "SystemPing",
        apiVersion: "",
        required: undefined,
        message: `the daemon at ${transport.address} did not report an API version (HTTP ${answer.status} on /_ping)`
      })
    }
    if (!isSupportedApiVersion(version)) {
      return yield* new ApiVersionError({
        operation: "SystemPing",
        apiVersion: version,
        required: MIN_API_VERSION,
        message:
          `the daemon at ${transport.address} speaks API ${version}; effect-docker needs ${MIN_API_VERSION} or newer`
      })
    }
    return version
  })
  return Effect.suspend(() => {
    if (resolved !== undefined) return resolved
    if (inflight !== undefined) return Deferred.await(inflight)
    const deferred = Deferred.makeUnsafe<string, DockerError>()
    inflight = deferred
    return negotiate.pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          // Every later call reuses this one Effect: the hot path allocates nothing for the version.
          if (Exit.isSuccess(exit)) resolved = Effect.succeed(exit.value)
          inflight = undefined
          Deferred.doneUnsafe(deferred, exit)
        })
      ),
      Effect.forkIn(scope),
      Effect.andThen(Deferred.await(deferred))
    )
  })
}
