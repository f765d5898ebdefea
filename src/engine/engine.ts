/**
 * `DockerEngine`: one daemon, one connection pool, one effective API version. Every service
 * method goes through `call`: descriptor + arguments → request → decoded value or tagged error.
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import type { IncomingHttpHeaders } from "node:http"
import type { Duplex } from "node:stream"
import type { ArgsOf, CallArgs, CallOptions, OperationDescriptor, OperationRunner } from "../core/descriptor.js"
import {
  ApiVersionError,
  type ConnectionError,
  type DockerError,
  EndpointError,
  OperationTimeoutError
} from "../core/errors.js"
import { streamWithBodyStream, withBodyStream } from "../wire/body-stream.js"
import { decodeJsonBody } from "../wire/decode.js"
import { type EngineIdentity, engineIdentity } from "../wire/engine-identity.js"
import { firstHeader, type HeaderMap } from "../wire/headers.js"
import { decodeMessages, jsonValues } from "../wire/json-messages.js"
import {
  compareApiVersions,
  isSupportedApiVersion,
  MAX_API_VERSION,
  MIN_API_VERSION,
  normalizeApiVersion,
  type VersionResolver,
  versionResolver
} from "./api-version.js"
import type { SshOptions, TlsOptions } from "./connector.js"
import { parseEndpoint } from "./endpoint.js"
import { type Args, buildRequest, failureFromResponse, isRefusal, logDropped } from "./executor.js"
import type { HijackAnswer } from "./hijack.js"
import { engineOptionsFromEnv } from "./options-from-env.js"
import {
  makeTransport,
  MAX_TIMER_MILLIS,
  type TransportRequest,
  type TransportResponse,
  type WholeResponse
} from "./transport.js"

/** Options of `DockerEngine.layer` (and `Docker.layer`). */
export interface DockerEngineOptions {
  /** A `DOCKER_HOST`-style address; the default is `unix:///var/run/docker.sock`. */
  readonly host?: string | undefined
  /** Pin the API version (e.g. `"1.41"`): no negotiation, every request uses it. */
  readonly apiVersion?: string | undefined
  /**
   * Connections that bounded request–response operations share (default 64, `Infinity` for no
   * bound); more concurrent calls wait for a free one, within their own time bound. Streams,
   * hijacked sessions and operations without a bound (`wait`) take connections of their own.
   */
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
  readonly retry?: Schedule.Schedule<unknown, ConnectionError | OperationTimeoutError> | false | undefined
  /**
   * TLS for `tcp://` / `https://` hosts: PEM `ca`, `cert`, `key` (or a `certPath` directory with
   * `ca.pem`, `cert.pem`, `key.pem`) and `verify` (default `true`). Given at all, `tcp://` speaks
   * TLS (as with `DOCKER_TLS_VERIFY`). Files are read once, when the layer is built.
   */
  readonly tls?: TlsOptions | undefined
  /** For `ssh://` hosts: the ssh binary and extra arguments (e.g. `["-F", configFile]`). */
  readonly ssh?: SshOptions | undefined
}

const DEFAULT_TIMEOUT: Duration.Input = "2 minutes"
const DEFAULT_RETRY: Schedule.Schedule<unknown, ConnectionError | OperationTimeoutError> = Schedule.max([
  Schedule.exponential("50 millis"),
  Schedule.recurs(3)
])
/** Operations whose answer legitimately takes as long as the daemon's work: no default bound. */
const LONG_POLLS: ReadonlySet<string> = new Set(["ContainerWait"])

/** A byte body given as an Effect `Stream`: the transport sends it as an `AsyncIterable`. */
const streamedBody = (descriptor: OperationDescriptor, args: Args | undefined) => {
  const key = descriptor.body?.key
  const body = key === undefined ? undefined : args?.[key]
  return key !== undefined && Stream.isStream(body)
    ? { key, body: body as Stream.Stream<Uint8Array, unknown> }
    : undefined
}

/** A successful answer, read whole: for operations whose headers matter (`_ping`). */
export interface RawAnswer {
  /** The HTTP status. */
  readonly status: number
  /** The response headers (lower-case names). */
  readonly headers: IncomingHttpHeaders
  /** The body, as text. */
  readonly body: string
}

/** The engine: its address and API version, and every Engine API operation through the generated descriptors (`effect-docker/generated`). */
export interface DockerEngineShape extends OperationRunner {
  /** The daemon's address in the CLI's notation (`unix:///var/run/docker.sock`). */
  readonly address: string
  /** The version requests use: pinned, or negotiated once on first use. */
  readonly apiVersion: Effect.Effect<string, DockerError>
  /**
   * Which engine answered this layer so far (Docker, Podman), from the first answer whose headers
   * said so (the negotiation's ping, usually); `unknown` before that. Podman leaves its headers
   * out of some answers (a route it lacks: a bare 404; a hijack's 101), so those are read with
   * what the layer learnt earlier.
   */
  readonly identity: () => EngineIdentity
  /** Runs an operation and returns status, headers and body text. */
  readonly raw: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>,
    options?: CallOptions
  ) => Effect.Effect<RawAnswer, DockerError | E>
  /**
   * Starts an operation whose body flows: succeeds once a success status and headers arrived, with
   * the body as a byte `Stream`, to be run once (a second run dies). The connection is released
   * when `scope` closes, so a consumer that stops early (`take`, interruption, failure) closes it.
   */
  readonly open: <D extends OperationDescriptor, E = never>(
    descriptor: D,
    args?: CallArgs<D, E>
  ) => Effect.Effect<StreamingAnswer, DockerError | E, Scope.Scope>
  /**
   * Runs an operation that hijacks its connection (attach, exec start): succeeds with the raw
   * socket once the daemon switched protocols; the socket is destroyed when `scope` closes.
   */
  readonly hijack: <D extends OperationDescriptor>(
    descriptor: D,
    args?: ArgsOf<D>
  ) => Effect.Effect<HijackedConnection, DockerError, Scope.Scope>
}

/**
 * A hijacked connection: raw bytes both ways (framed unless a TTY is attached). The socket is
 * handed out as a fresh socket is (`readableFlowing === null`), with any bytes that came in behind
 * the headers put back in front: it starts flowing when it is first read — `on("data")`, `pipe`,
 * `for await`, a `Stream` (`NodeStream.fromReadable`) — and what arrives before that is held, not
 * lost.
 */
export interface HijackedConnection {
  /** The HTTP status (`101` for a hijack). */
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The raw connection: stdin goes in, the container's output comes out. */
  readonly socket: Duplex
  /** An error of `socket` (while reading or writing stdin) as this daemon's `ConnectionError`. */
  readonly connectionError: (cause: unknown) => ConnectionError
}

/** A successful answer whose body is still flowing. */
export interface StreamingAnswer {
  /** The HTTP status. */
  readonly status: number
  /** The response headers (lower-case names). */
  readonly headers: IncomingHttpHeaders
  /** The body, as it arrives. */
  readonly body: Stream.Stream<Uint8Array, ConnectionError>
}

/**
 * The engine the services talk through; use it directly for any operation of `effect-docker/generated`.
 *
 * @example
 * ```ts
 * import { DockerEngine } from "effect-docker"
 * import { ContainerInspect, ContainerList } from "effect-docker/generated"
 *
 * const program = Effect.gen(function*() {
 *   const engine = yield* DockerEngine
 *   const version = yield* engine.apiVersion // an Effect: pinned, or negotiated on first use
 *   const running = yield* engine.json(ContainerList, { filters: { status: ["running"] } })
 *   const first = running[0]
 *   if (first?.Id !== undefined) {
 *     const c = yield* engine.json(ContainerInspect, { id: first.Id })
 *     yield* Console.log(version, c.Name, c.State?.Status)
 *   }
 * }).pipe(Effect.provide(DockerEngine.layer({ host: "unix:///var/run/docker.sock" })))
 * ```
 */
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

const UNKNOWN_ENGINE: EngineIdentity = { kind: "unknown", version: undefined }

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
    // Learnt once, from the first answer that says (one header lookup per answer until then).
    let identity: EngineIdentity = UNKNOWN_ENGINE
    const learn = (headers: HeaderMap) => {
      if (identity.kind !== "unknown") return
      const seen = engineIdentity(headers)
      if (seen.kind !== "unknown") identity = seen
    }
    const retry = options.retry === undefined ? DEFAULT_RETRY : options.retry
    const engineTimeout = options.timeout === undefined ? DEFAULT_TIMEOUT : options.timeout
    const engineTimeoutMillis = engineTimeout === "none" ? undefined : Duration.toMillis(engineTimeout)
    // The negotiation's pings are bounded by the engine's own bound, whoever asked first.
    const resolver: VersionResolver = pinned !== undefined
      ? { version: Effect.succeed(pinned), current: () => pinned }
      : versionResolver(transport, scope, engineTimeoutMillis, learn)
    const apiVersion = resolver.version
    // Docker refuses (400) a URL version newer than its own; Podman serves any `/vX.Y` at its own
    // version. Every answer of both carries the daemon's `Api-Version`: a success answered at an
    // older version than the request's means the pin is newer than the daemon. That answer
    // becomes `ApiVersionError` (the daemon did the work, at its own version: the one request a
    // pinned layer sends before it knows), and later requests are refused before sending.
    let daemonApi: string | undefined
    // Every kind of answer (whole, flowing, hijacked or refused) carries the daemon's headers.
    const headersOf = (answer: unknown) =>
      (answer as { readonly headers?: HeaderMap }).headers ??
        {}
    const versionNotServed = (operation: string, version: string, answer: unknown): ApiVersionError | undefined => {
      const served = firstHeader(headersOf(answer), "api-version")
      const daemon = served === undefined ? undefined : normalizeApiVersion(served)
      if (daemon === undefined || compareApiVersions(version, daemon) <= 0) return undefined
      daemonApi = daemon
      return tooNewForDaemon(operation, version, daemon)
    }
    const tooNewForDaemon = (operation: string, version: string, daemon: string) =>
      new ApiVersionError({
        operation,
        apiVersion: version,
        required: daemon,
        message: `${operation}: client version ${version} is too new for the daemon at ${transport.address}, ` +
          `which speaks API ${daemon} (it answered at its own version)`
      })
    const timeoutOf = (descriptor: OperationDescriptor, callOptions: CallOptions | undefined) => {
      const bound = callOptions?.timeout ?? (LONG_POLLS.has(descriptor.operationId) ? "none" : undefined)
      return bound === undefined ? engineTimeoutMillis : bound === "none" ? undefined : Duration.toMillis(bound)
    }

    /**
     * The one request path every operation takes: the version (negotiated once, or pinned) → the
     * request, or `ApiVersionError` before anything is sent → `send` (retried after a connection
     * failure when the method is idempotent) → a refusal as its typed error. `send` decides how
     * the answer is read (whole, flowing, hijacked); `refusal` says whether the answer is one (a
     * non-2xx status; a hijack not switched) by reading its body text, or `undefined` if not.
     */
    const exchange = <A extends { readonly status: number }, R>(
      descriptor: OperationDescriptor,
      args: Args,
      send: (
        request: TransportRequest,
        timeoutMillis: number | undefined
      ) => Effect.Effect<A, ConnectionError | OperationTimeoutError, R>,
      refusal: (answer: A) => Effect.Effect<string, ConnectionError> | undefined,
      traced: boolean,
      timeoutMillis?: number
    ): Effect.Effect<A, DockerError, R> => {
      // A body Stream's own failure fails the call with its error (the public signatures add it).
      const flowing = streamedBody(descriptor, args)
      if (flowing) {
        const sent = withBodyStream(
          flowing.body,
          (iterable) => exchange(descriptor, { ...args, [flowing.key]: iterable }, send, refusal, traced, timeoutMillis)
        )
        return sent as Effect.Effect<A, DockerError, R>
      }
      const operation = descriptor.operationId
      const run = (version: string, remainingMillis: number | undefined): Effect.Effect<A, DockerError, R> => {
        const request = buildRequest(descriptor, args, version)
        if (isRefusal(request)) return Effect.fail(request)
        let sent = logDropped(operation, version, request, send(request, remainingMillis))
        // Only a request the daemon may safely see twice is retried, and only when it never got
        // an answer. The schedule is set up after a first failure: a successful call pays nothing.
        if (retry !== false && (descriptor.method === "GET" || descriptor.method === "HEAD")) {
          const first = sent
          sent = Effect.catchTag(first, "ConnectionError", (error) => {
            let replayed = false
            return Effect.retry(
              Effect.suspend(() => replayed ? first : (replayed = true, Effect.fail(error))),
              { schedule: retry, while: (e) => e._tag === "ConnectionError" }
            )
          })
        }
        return Effect.flatMap(sent, (answer) => {
          learn(headersOf(answer))
          const refused = refusal(answer)
          // Only a pin can be newer than the daemon: a negotiated version never is.
          const unserved = refused === undefined && pinned !== undefined
            ? versionNotServed(operation, version, answer)
            : undefined
          const result: Effect.Effect<A, DockerError> = unserved !== undefined ?
            Effect.fail(unserved) :
            refused === undefined ?
            Effect.succeed(answer) :
            Effect.flatMap(refused, (text) =>
              Effect.fail(
                transport.tlsRequired(operation, answer.status, text) ??
                  failureFromResponse(operation, version, answer.status, text, headersOf(answer), identity)
              ))
          return traced
            ? Effect.andThen(
              Effect.annotateCurrentSpan({ "docker.api_version": version, "http.response.status_code": answer.status }),
              result
            )
            : result
        })
      }
      const known = resolver.current()
      // The ping does not wait for a negotiation (a program that only pings never negotiates);
      // its parameters, if any, are checked against the version known so far.
      if (known === undefined && descriptor.unversioned === true) return run(descriptor.since, timeoutMillis)
      if (known !== undefined) {
        // A pin newer than the daemon, learnt from an earlier answer: refused before sending.
        if (daemonApi !== undefined && compareApiVersions(known, daemonApi) > 0) {
          return Effect.fail(tooNewForDaemon(operation, known, daemonApi))
        }
        return run(known, timeoutMillis)
      }
      if (timeoutMillis === undefined || !(timeoutMillis <= MAX_TIMER_MILLIS)) {
        return Effect.flatMap(apiVersion, (version) => run(version, timeoutMillis))
      }
      // Not negotiated yet: the call's own bound covers the wait for the version too (the
      // negotiation carries on for the others, under the engine's bound), and the request gets
      // what is left of it; elapsing in either part is the call's `OperationTimeoutError`.
      return Effect.suspend(() => {
        const started = Date.now()
        const elapsed = () => Effect.fail(transport.timeoutError(operation, timeoutMillis))
        return apiVersion.pipe(
          Effect.timeoutOrElse({ duration: timeoutMillis, orElse: elapsed }),
          Effect.flatMap((version) => run(version, Math.max(0, timeoutMillis - (Date.now() - started)))),
          Effect.catchIf((error) => error instanceof OperationTimeoutError, elapsed)
        )
      })
    }

    // Every operation runs in a span named after its operationId: a whole answer's ends with the
    // answer, a flowing or hijacked one's when its scope closes (the stream ended, failed or was
    // interrupted; the socket was released). Spans cost ~10% of a ping; without a tracer
    // installed (Effect's built-in native tracer exports nothing) they would be paid for nothing.
    const spanOptions = (descriptor: OperationDescriptor) => ({
      attributes: { "docker.operation": descriptor.operationId, "http.request.method": descriptor.method },
      // A stack trace per request costs more than the request's own bookkeeping; the span's
      // name (the operationId) already says where it comes from.
      captureStackTrace: false
    })
    const traced = <A, R>(
      descriptor: OperationDescriptor,
      run: (traced: boolean) => Effect.Effect<A, DockerError, R>
    ): Effect.Effect<A, DockerError, R> =>
      Effect.flatMap(Tracer.Tracer, (tracer) =>
        tracer === Tracer.nativeTracer
          ? run(false)
          : Effect.withSpan(run(true), descriptor.operationId, spanOptions(descriptor)))
    const tracedScoped = <A>(
      descriptor: OperationDescriptor,
      run: (traced: boolean) => Effect.Effect<A, DockerError, Scope.Scope>
    ): Effect.Effect<A, DockerError, Scope.Scope> =>
      Effect.flatMap(Tracer.Tracer, (tracer) =>
        tracer === Tracer.nativeTracer
          ? run(false)
          : Effect.withSpanScoped(run(true), descriptor.operationId, spanOptions(descriptor)))

    const isSuccess = (status: number) => status >= 200 && status < 300
    const bodyText = (answer: WholeResponse) => isSuccess(answer.status) ? undefined : Effect.succeed(answer.body)
    const call = (descriptor: OperationDescriptor, args: Args, callOptions: CallOptions | undefined) => {
      const send = (request: TransportRequest, timeoutMillis: number | undefined) =>
        transport.request(descriptor.operationId, request, timeoutMillis)
      return traced(
        descriptor,
        (on) => exchange(descriptor, args, send, bodyText, on, timeoutOf(descriptor, callOptions))
      )
    }

    const flowingText = (answer: TransportResponse) =>
      isSuccess(answer.status)
        ? undefined
        : Effect.map(Stream.runCollect(answer.body), (chunks) => Buffer.concat(chunks).toString("utf8"))
    const open = (descriptor: OperationDescriptor, args: Args = {}) => {
      const send = (request: TransportRequest) => transport.open(descriptor.operationId, request)
      return Effect.map(
        tracedScoped(descriptor, (on) => exchange(descriptor, args, send, flowingText, on)),
        (answer): StreamingAnswer => ({ status: answer.status, headers: answer.headers, body: answer.body })
      )
    }

    const refusedText = (answer: HijackAnswer) => answer._tag === "Refused" ? Effect.succeed(answer.body) : undefined
    const hijack = (descriptor: OperationDescriptor, args: Args = {}) => {
      const operation = descriptor.operationId
      const send = (request: TransportRequest) => transport.hijack(operation, request)
      return Effect.map(
        tracedScoped(descriptor, (on) => exchange(descriptor, args, send, refusedText, on)),
        (answer): HijackedConnection => {
          // `exchange` failed every refusal: this is the hijacked socket.
          const hijacked = answer as Extract<HijackAnswer, { readonly _tag: "Hijacked" }>
          return {
            status: hijacked.status,
            headers: hijacked.headers,
            socket: hijacked.socket,
            connectionError: (cause) => transport.connectionError(operation, cause)
          }
        }
      )
    }

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
    const stream = (descriptor: OperationDescriptor, args?: Args): Stream.Stream<Uint8Array, DockerError> => {
      const body = (sent?: Args) => Stream.unwrap(Effect.map(open(descriptor, sent), (answer) => answer.body))
      // Converted here, not in `exchange`, so that a failure after the headers is the body's too.
      const flowing = streamedBody(descriptor, args)
      if (!flowing) return body(args)
      const sent = streamWithBodyStream(flowing.body, (iterable) => body({ ...args, [flowing.key]: iterable }))
      return sent as Stream.Stream<Uint8Array, DockerError>
    }

    const messages = (descriptor: OperationDescriptor, args?: Args) => {
      const response = descriptor.response
      if (response.kind !== "jsonStream") return Stream.die(`${descriptor.operationId} does not stream JSON messages`)
      return stream(descriptor, args).pipe(
        jsonValues,
        decodeMessages(descriptor.operationId, response.schema, response.decode)
      )
    }

    // The descriptor's Schema decoded the answer, so its type is the descriptor's response type:
    // the one place where the generic signatures meet the untyped executor.
    return {
      address: transport.address,
      apiVersion,
      identity: () => identity,
      json: json as DockerEngineShape["json"],
      empty: empty as DockerEngineShape["empty"],
      raw: raw as DockerEngineShape["raw"],
      open: open as DockerEngineShape["open"],
      stream: stream as DockerEngineShape["stream"],
      messages: messages as DockerEngineShape["messages"],
      hijack: hijack as DockerEngineShape["hijack"]
    }
  })
