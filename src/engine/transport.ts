/**
 * The HTTP/1.1 connection pools to one daemon. Built directly on undici's `Pool` (not the generic
 * Effect HttpClient) because per-request overhead is the budget we compete on: the pools are
 * created with the layer and destroyed when the layer's scope closes, so no socket outlives its
 * owner. Bounded request–response calls share a pool of at most `connections` sockets; answers
 * that may last as long as the daemon's work (streams, unbounded long polls) take connections of
 * their own, so they never hold up the bounded calls.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { IncomingHttpHeaders } from "node:http"
import { createRequire } from "node:module"
import { Readable } from "node:stream"
import type * as Undici from "undici"
import type { Dispatcher } from "undici"
import type { HttpMethod } from "../core/descriptor.js"
import { ConnectionError, EndpointError, OperationTimeoutError } from "../core/errors.js"
import { makeBodyQueue } from "./body-queue.js"
import { makeConnector, type SshOptions, type TlsOptions } from "./connector.js"
import { type Endpoint, formatEndpoint } from "./endpoint.js"
import { type Dial, hijack, type HijackAnswer } from "./hijack.js"
import { Pool } from "./undici.js"

export interface TransportRequest {
  readonly method: HttpMethod
  /** Absolute path including the version prefix and query string. */
  readonly path: string
  /** A list value is sent as one header line per element (`X-Docker-Expose-Session-Grpc-Method`). */
  readonly headers?: Record<string, string | ReadonlyArray<string>>
  readonly body?: string | Uint8Array | Readable | AsyncIterable<Uint8Array>
}

/** An answer read to its end (`Transport.request`). */
export interface WholeResponse {
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: IncomingHttpHeaders
  /** The body, UTF-8 decoded. */
  readonly body: string
}

export interface TransportResponse {
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: IncomingHttpHeaders
  /** Read once, within the scope of `open`: closing that scope aborts an unfinished body. */
  readonly body: Stream.Stream<Uint8Array, ConnectionError>
}

export interface Transport {
  readonly endpoint: Endpoint
  /** The endpoint in the CLI's notation, for messages. */
  readonly address: string
  /** A failure of a connection to this daemon (a hijacked socket's error, say) as `ConnectionError`. */
  readonly connectionError: (operation: string, cause: unknown) => ConnectionError
  /** The `OperationTimeoutError` of a call to this daemon whose bound of `millis` elapsed. */
  readonly timeoutError: (operation: string, millis: number) => OperationTimeoutError
  /**
   * A refusal that means this plain-HTTP endpoint speaks TLS (Go's answer to plain HTTP on a TLS
   * port: 400 "Client sent an HTTP request to an HTTPS server."), as a `ConnectionError` saying
   * so; `undefined` for any other answer.
   */
  readonly tlsRequired: (operation: string, status: number, body: string) => ConnectionError | undefined
  /**
   * Sends a request and reads its whole answer; interrupting the calling fiber aborts the request
   * whether it is queued, waiting for headers or receiving the body. A bounded request waits for a
   * connection of the shared pool (the wait counts against its bound); an unbounded one takes a
   * connection of its own, since it may wait for as long as the daemon's work (`wait`, `stop`).
   */
  readonly request: (
    operation: string,
    request: TransportRequest,
    /** Bound on the whole exchange, queueing and body included; elapsed → `OperationTimeoutError`. */
    timeoutMillis?: number
  ) => Effect.Effect<WholeResponse, ConnectionError | OperationTimeoutError>
  /**
   * Sends a request and returns as soon as the headers arrived, leaving the body to the caller; the
   * body is destroyed (and its connection released) when `scope` closes. For streams.
   */
  readonly open: (
    operation: string,
    request: TransportRequest
  ) => Effect.Effect<TransportResponse, ConnectionError, Scope.Scope>
  /**
   * Sends a request that hijacks its connection (on a connection of its own). A hijacked socket is
   * destroyed when `scope` closes; a refusal comes back with the daemon's status and body.
   */
  readonly hijack: (
    operation: string,
    request: TransportRequest
  ) => Effect.Effect<HijackAnswer, ConnectionError, Scope.Scope>
}

/** Connections bounded request–response calls share, unless the layer says otherwise. */
export const DEFAULT_CONNECTIONS = 64

export interface TransportOptions {
  /**
   * Connections bounded request–response calls share (default `DEFAULT_CONNECTIONS`); more
   * concurrent calls wait for one. `Infinity` removes the bound.
   */
  readonly connections?: number
  /** TLS for tcp:// and https:// endpoints (turns TLS on for tcp://). */
  readonly tls?: TlsOptions | undefined
  /** How ssh:// endpoints run ssh. */
  readonly ssh?: SshOptions | undefined
}

// undici sends Readables (its types do not list async iterables): wrap a flowing body once.
const requestBody = (body: TransportRequest["body"]): string | Uint8Array | Readable | null =>
  body === undefined ?
    null :
    typeof body === "string" || body instanceof Uint8Array || body instanceof Readable ?
    body :
    Readable.from(body, { objectMode: false })

const errorCode = (error: unknown): string | undefined => {
  // undici wraps socket errors; the system code may sit on the error or its cause.
  const own = (error as { code?: unknown } | null)?.code
  if (typeof own === "string" && !own.startsWith("UND_ERR")) return own
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  if (typeof cause === "string") return cause
  return typeof own === "string" ? own : undefined
}

const describeCode = (code: string | undefined): string => {
  switch (code) {
    case "ENOENT":
      return "no such socket"
    case "ECONNREFUSED":
      return "connection refused"
    case "EACCES":
      return "permission denied"
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the daemon closed the connection"
    default:
      return code ?? "connection failed"
  }
}

const connectionError = (
  operation: string,
  address: string,
  error: unknown,
  closedHint?: string
): ConnectionError => {
  const code = errorCode(error)
  const reason = error instanceof Error && error.message !== "" ?
    `${describeCode(code)}: ${error.message}` :
    describeCode(code)
  const closed = code === "UND_ERR_SOCKET" || code === "ECONNRESET"
  const advice = closed && closedHint !== undefined
    ? closedHint
    : `Is the Docker daemon running and listening at ${address}? Start it, or point DOCKER_HOST at ` +
      "the address it listens on (or check the Docker context in use: `docker context ls`)."
  return new ConnectionError({
    operation,
    endpoint: address,
    code,
    message: `${operation}: cannot talk to the Docker daemon at ${address} (${reason}). ${advice}`,
    cause: error
  })
}

/** Go's TLS server answers plain HTTP with this 400 (`net/http`, "HTTP request to an HTTPS server"). */
const PLAIN_HTTP_TO_TLS = "Client sent an HTTP request to an HTTPS server"

const tlsRequiredError = (operation: string, address: string, body: string): ConnectionError =>
  new ConnectionError({
    operation,
    endpoint: address,
    code: undefined,
    message: `${operation}: the daemon at ${address} speaks TLS, but the request was plain HTTP (it answered ` +
      `"${body.trim()}"). Use tcp:// with TLS (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or the layer's tls ` +
      "option) or https://."
  })

/**
 * `setTimeout` takes at most 2³¹−1 ms (~24.8 days) and fires at once beyond it: a longer bound
 * (or `Duration.infinity`) is no bound at all.
 */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * undici's hook for taking a request out of a connection queue (what its own `request` uses for
 * an aborted signal). It is internal to undici, so it is looked up, not assumed: without it, a
 * request aborted while queued is aborted as it leaves the queue, which costs that connection.
 */
const kQueuedAbort: symbol | undefined = (() => {
  try {
    const symbol = (createRequire(import.meta.url)("undici/lib/core/symbols.js") as { kQueuedAbort?: unknown })
      .kQueuedAbort
    return typeof symbol === "symbol" ? symbol : undefined
  } catch {
    return undefined
  }
})()

/** What a dispatched request reports (undici's handler API, flattened). */
interface Exchange {
  /** The request left the queue for a connection: pause/resume go through `controller`. */
  readonly onStart?: (controller: Dispatcher.DispatchController) => void
  /** The final status and headers (1xx interim answers are skipped). */
  readonly onHeaders: (status: number, headers: IncomingHttpHeaders) => void
  readonly onData: (chunk: Buffer) => void
  readonly onEnd: () => void
  readonly onError: (error: unknown) => void
}

/**
 * Sends `req` on `pool`, reporting to `exchange`; returns a function that aborts the request
 * wherever it is — a queued request as soon as it leaves the queue — and does nothing once the
 * answer is complete.
 */
const dispatch = (pool: Undici.Pool, req: TransportRequest, exchange: Exchange): (reason: Error) => void => {
  let controller: Dispatcher.DispatchController | undefined
  /** Takes the request out of the queue it waits in (`kQueuedAbort`). */
  let dequeue: ((reason: Error) => void) | undefined
  let aborted: Error | undefined
  let complete = false
  const options: Dispatcher.DispatchOptions = {
    method: req.method,
    path: req.path,
    headers: (req.headers ?? null) as NonNullable<Dispatcher.DispatchOptions["headers"]>,
    body: requestBody(req.body)
  }
  if (kQueuedAbort !== undefined) {
    ;(options as unknown as Record<symbol, unknown>)[kQueuedAbort] = (cancel: (reason: Error) => void) => {
      if (aborted !== undefined) cancel(aborted)
      else dequeue = cancel
    }
  }
  try {
    pool.dispatch(options, {
      onRequestStart: (c) => {
        controller = c
        dequeue = undefined
        exchange.onStart?.(c)
        if (aborted !== undefined) c.abort(aborted)
      },
      onResponseStart: (_c, status, headers) => {
        if (status >= 200) exchange.onHeaders(status, headers as IncomingHttpHeaders)
      },
      onResponseData: (_c, chunk) => exchange.onData(chunk),
      onResponseEnd: () => {
        complete = true
        exchange.onEnd()
      },
      onResponseError: (_c, error) => {
        complete = true
        exchange.onError(error)
      }
    })
  } catch (error) {
    complete = true
    exchange.onError(error)
  }
  return (reason) => {
    if (complete) return
    aborted ??= reason
    if (controller !== undefined) {
      if (!controller.aborted) controller.abort(reason)
    } else dequeue?.(reason)
  }
}

/** A pool for `endpoint`, destroyed when `scope` closes. */
export const makeTransport = (
  requested: Endpoint,
  options: TransportOptions = {}
): Effect.Effect<Transport, EndpointError, Scope.Scope> =>
  Effect.gen(function*() {
    // How connections are made (unix, tcp, TLS, ssh, named pipe) is connector.ts's business; its
    // ssh children and TLS material belong to this scope too.
    const connector = yield* makeConnector(requested, { tls: options.tls, ssh: options.ssh })
    const endpoint = connector.endpoint
    const address = formatEndpoint(endpoint)
    const connections = options.connections ?? DEFAULT_CONNECTIONS
    const poolOptions: Undici.Pool.Options = {
      // No undici timeouts: waits (`/containers/{id}/wait`), event and log streams may idle for
      // hours; every bound is set per operation with Effect instead.
      headersTimeout: 0,
      bodyTimeout: 0,
      ...connector.poolOptions,
      connect: connector.connect
    }
    // `dial` opens a connection of its own for hijacked requests (attach, exec start).
    const dial: Dial = connector.dial
    const makePool = (bound: number | null) =>
      Effect.acquireRelease(
        Effect.sync(() => new Pool(connector.origin, { ...poolOptions, connections: bound })),
        (pool) => Effect.promise(() => pool.destroy())
      )
    // Without a bound, undici opens a socket whenever every one is busy, and a socket is busy until
    // a full event-loop turn after its answer ended: calls in a loop open ~2 sockets each, and
    // hundreds of concurrent callers run out of file descriptors (EMFILE).
    const pool = yield* makePool(Number.isFinite(connections) ? connections : null)
    // Streams and unbounded long polls may hold a socket for hours: bounding them together with
    // short calls would let `connections` of them starve every other call (a `wait` would wait
    // for the `stop` queued behind it). Each holds one socket while it lasts.
    const longPool = yield* makePool(null)
    // Requests go through undici's handler API, not `pool.request`: no Readable body, no signal
    // bookkeeping (an AbortSignal alone cost ~25 µs a request), chunks taken as they arrive. For a
    // whole answer that is ~15 µs less per request than `request` + `body.text()`; streamed bodies
    // go through `body-queue.ts` (bench/README.md). The time bound is one timer, not an Effect race.
    const timeoutError = (operation: string, millis: number) =>
      new OperationTimeoutError({
        operation,
        millis,
        message: `${operation}: no complete answer from ${address} within ${millis} ms`
      })
    const request: Transport["request"] = (operation, req, timeoutMillis) =>
      Effect.callback((resume) => {
        let settled = false
        let status = 0
        let headers: IncomingHttpHeaders = {}
        const chunks: Array<Buffer> = []
        const settle = (effect: Effect.Effect<WholeResponse, ConnectionError | OperationTimeoutError>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(effect)
        }
        const bounded = timeoutMillis !== undefined && timeoutMillis <= MAX_TIMER_MILLIS
        // (set before dispatching: a request refused on the spot settles, and clears it, at once)
        const timer = !bounded ?
          undefined :
          setTimeout(() => {
            settle(Effect.fail(timeoutError(operation, timeoutMillis!)))
            abort(new Error(`${operation}: timed out`))
          }, timeoutMillis)
        const abort = dispatch(bounded ? pool : longPool, req, {
          onHeaders: (statusCode, responseHeaders) => {
            status = statusCode
            headers = responseHeaders
          },
          onData: (chunk) => chunks.push(chunk),
          onEnd: () => {
            clearTimeout(timer)
            const answer = Effect.succeed({
              status,
              headers,
              body: chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
            })
            // undici hands the connection back one event-loop turn after the answer ended (a
            // `setImmediate` queued right after this callback returns). Resuming the caller
            // before that lets its next call find every socket busy and open another one; after
            // it, the call reuses this one: sockets stay at the number of concurrent calls.
            queueMicrotask(() => setImmediate(() => settle(answer)))
          },
          onError: (error) => settle(Effect.fail(connectionError(operation, address, error, connector.closedHint)))
        })
        // Interruption: settled from the caller's side; the request is aborted wherever it is.
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
          abort(new Error(`${operation}: interrupted`))
        })
      })
    const open: Transport["open"] = (operation, req) =>
      // The abort finalizer is registered before the wait for headers, and the wait stays
      // interruptible (a daemon may never answer): no answer can escape without its finalizer.
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const body = makeBodyQueue<ConnectionError>()
          const fail = (error: unknown) => connectionError(operation, address, error, connector.closedHint)
          let onHeaders: ((effect: Effect.Effect<TransportResponse, ConnectionError>) => void) | undefined
          let early: Effect.Effect<TransportResponse, ConnectionError> | undefined
          const answer = (effect: Effect.Effect<TransportResponse, ConnectionError>) => {
            if (onHeaders !== undefined) {
              const resume = onHeaders
              onHeaders = undefined
              resume(effect)
            } else early ??= effect
          }
          let started = false
          const abort = dispatch(longPool, req, {
            onStart: body.start,
            onHeaders: (status, headers) => {
              started = true
              answer(Effect.succeed({ status, headers, body: body.stream }))
            },
            onData: body.push,
            onEnd: body.end,
            onError: (error) => started ? body.fail(fail(error)) : answer(Effect.fail(fail(error)))
          })
          return Effect.andThen(
            Effect.addFinalizer(() => Effect.sync(() => abort(new Error(`${operation}: body released`)))),
            restore(Effect.callback<TransportResponse, ConnectionError>((resume) => {
              if (early !== undefined) return resume(early)
              onHeaders = resume
              return Effect.sync(() => {
                onHeaders = undefined
                abort(new Error(`${operation}: interrupted`))
              })
            }))
          )
        })
      )
    const hijackRequest: Transport["hijack"] = (operation, req) =>
      Effect.uninterruptibleMask((restore) =>
        restore(Effect.tryPromise({
          try: (signal) => hijack(dial, req, signal),
          catch: (error) => connectionError(operation, address, error, connector.closedHint)
        })).pipe(
          Effect.tap((answer) =>
            answer._tag === "Hijacked"
              ? Effect.addFinalizer(() => Effect.sync(() => answer.socket.destroy()))
              : Effect.void
          )
        )
      )
    return {
      endpoint,
      address,
      connectionError: (operation, cause) => connectionError(operation, address, cause, connector.closedHint),
      timeoutError,
      tlsRequired: (operation, status, body) =>
        status === 400 && endpoint._tag === "Tcp" && !endpoint.tls && body.startsWith(PLAIN_HTTP_TO_TLS)
          ? tlsRequiredError(operation, address, body)
          : undefined,
      request,
      open,
      hijack: hijackRequest
    }
  })
