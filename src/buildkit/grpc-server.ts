/**
 * A gRPC server on one connection: what a BuildKit session needs. The daemon is the gRPC client
 * (it calls the providers the client advertised), so this side answers HTTP/2 streams on the
 * hijacked socket with `node:http2` — no gRPC library: unary and bidirectional-stream methods,
 * length-prefixed messages, status in trailers. Chosen over `@grpc/grpc-js` (+ protobufjs) by
 * measurement: `node:http2` loads in ~20 ms where they take ~90 ms, and there is nothing to keep
 * up but this file.
 */
import * as http2 from "node:http2"
import { Duplex } from "node:stream"

/** gRPC status codes used here. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14
} as const

/** A failure a handler answers with (its message is sent to the daemon: never put a secret in it). */
export class GrpcStatus extends Error {
  constructor(readonly code: number, message: string) {
    super(message)
  }
}

/** The messages of a streaming call, and how to answer. */
export interface GrpcCall {
  /** Request metadata (lower-cased header names). */
  readonly metadata: http2.IncomingHttpHeaders
  /** The client's messages as they arrive; ends when the client half-closes. */
  readonly messages: AsyncIterable<Uint8Array>
  readonly send: (message: Uint8Array) => void
  /** Aborted when the call is cancelled or the connection ends. */
  readonly signal: AbortSignal
}

export type GrpcHandler =
  | { readonly kind: "unary"; readonly handle: (request: Uint8Array, call: GrpcCall) => Promise<Uint8Array> }
  | { readonly kind: "stream"; readonly handle: (call: GrpcCall) => Promise<void> }

/** The limit on one message the daemon sends (BuildKit's are small; a secret answer is ours). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024

/** A gRPC length-prefixed message: compressed flag 0, big-endian length, the bytes. */
export const grpcFrame = (message: Uint8Array): Buffer => {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(message.length, 1)
  return Buffer.concat([head, message])
}

/** Splits a byte stream into gRPC messages (any chunking). */
export async function* grpcMessages(chunks: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  let pending: Buffer = Buffer.alloc(0)
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= 5) {
      if (pending[0] !== 0) throw new GrpcStatus(GrpcCode.UNIMPLEMENTED, "compressed messages are not accepted")
      const length = pending.readUInt32BE(1)
      if (length > MAX_MESSAGE_BYTES) throw new GrpcStatus(GrpcCode.INVALID_ARGUMENT, "message too large")
      if (pending.length < 5 + length) break
      yield pending.subarray(5, 5 + length)
      pending = pending.subarray(5 + length)
    }
  }
  if (pending.length > 0) throw new GrpcStatus(GrpcCode.INVALID_ARGUMENT, "the stream ended inside a message")
}

const statusText = (message: string) => encodeURIComponent(message).slice(0, 1024)

const serveStream = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  handlers: Readonly<Record<string, GrpcHandler>>,
  onCall: ((method: string) => void) | undefined
) => {
  const method = String(headers[":path"] ?? "")
  const handler = handlers[method]
  const abort = new AbortController()
  stream.on("close", () => abort.abort())
  stream.on("error", () => abort.abort())
  let responded = false
  const respond = () => {
    if (responded || stream.destroyed) return
    responded = true
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true })
  }
  let trailers: Record<string, string> = { "grpc-status": "0" }
  stream.on("wantTrailers", () => stream.sendTrailers(trailers))
  const finish = (code: number, message: string) => {
    if (stream.destroyed || stream.closed) return
    trailers = code === 0
      ? { "grpc-status": "0" }
      : { "grpc-status": String(code), "grpc-message": statusText(message) }
    respond()
    stream.end()
  }
  if (handler === undefined) return finish(GrpcCode.UNIMPLEMENTED, `unknown method ${method}`)
  onCall?.(method)
  const messages = grpcMessages(stream as AsyncIterable<Buffer>)
  const call: GrpcCall = {
    metadata: headers,
    messages,
    send: (message) => {
      respond()
      if (!stream.destroyed) stream.write(grpcFrame(message))
    },
    signal: abort.signal
  }
  const run = async (): Promise<void> => {
    if (handler.kind === "stream") return handler.handle(call)
    let request: Uint8Array | undefined
    for await (const message of messages) request ??= message
    call.send(await handler.handle(request ?? new Uint8Array(0), call))
  }
  run().then(
    () => finish(GrpcCode.OK, ""),
    (error: unknown) =>
      error instanceof GrpcStatus
        ? finish(error.code, error.message)
        : finish(GrpcCode.INTERNAL, abort.signal.aborted ? "cancelled" : "the provider failed")
  )
}

/** A gRPC server running on one connection. */
export interface GrpcConnection {
  /** Settles when the connection ends: with `undefined` after `close`, else with why it ended. */
  readonly ended: Promise<Error | undefined>
  /** Ends every call and the connection. */
  readonly close: () => Promise<void>
}

/**
 * Serves `handlers` (by full method name, `/grpc.health.v1.Health/Check`) on `socket`, which
 * carries HTTP/2 with prior knowledge (the daemon writes the client preface first). The socket is
 * wrapped in a plain `Duplex` so that `node:http2` reads it through JavaScript, bytes already
 * read past the upgrade's headers included.
 */
export const serveGrpc = (
  socket: Duplex,
  handlers: Readonly<Record<string, GrpcHandler>>,
  onCall?: (method: string) => void
): GrpcConnection => {
  const server = http2.createServer()
  const wrapped = Duplex.from({ readable: socket, writable: socket })
  let closing = false
  let resolveEnded!: (reason: Error | undefined) => void
  const ended = new Promise<Error | undefined>((resolve) => (resolveEnded = resolve))
  const end = (reason: Error | undefined) => resolveEnded(closing ? undefined : reason)
  server.on("stream", (stream, headers) => serveStream(stream, headers, handlers, onCall))
  server.on("session", (session) => {
    session.on("close", () => end(new Error("the daemon closed the session")))
    session.on("error", (error) => end(error))
  })
  socket.on("close", () => end(new Error("the session's connection closed")))
  socket.on("error", (error) => end(error))
  wrapped.on("error", (error) => end(error))
  server.emit("connection", wrapped)
  return {
    ended,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true
        resolveEnded(undefined)
        wrapped.destroy()
        socket.destroy()
        server.close(() => resolve())
        // `close` waits for sessions; the connection is gone, so they end at once.
        setImmediate(resolve)
      })
  }
}
