/**
 * A daemon whose every answer the test writes, on a real unix socket: for unit tests of what the
 * services decide (which request they send, how they read the answer) on a machine without Docker.
 * It parses HTTP/1.1 requests (keep-alive; `Content-Length` or chunked bodies), records each one,
 * and answers with what the test's handler returns: JSON, an empty status, raw bytes, a chunked
 * stream of JSON lines, or a hijack (`101 UPGRADED`, raw bytes, close). Every socket and the
 * socket file go when the scope closes.
 */
import { type Context, Effect, Layer, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DockerEngine } from "../../src/index.js"

/** A request as the daemon received it. */
export interface ScriptedRequest {
  readonly method: string
  /** The path without the `/v1.xx` prefix and without the query, as sent (not decoded). */
  readonly path: string
  /** The API version of the prefix (`"1.41"`), or undefined without one. */
  readonly version: string | undefined
  readonly query: URLSearchParams
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

export type ScriptedResponse =
  | { readonly _tag: "json"; readonly status: number; readonly body: unknown; readonly headers: Headers }
  | { readonly _tag: "empty"; readonly status: number; readonly headers: Headers }
  | { readonly _tag: "bytes"; readonly status: number; readonly body: Buffer; readonly headers: Headers }
  | { readonly _tag: "lines"; readonly lines: ReadonlyArray<unknown> }
  | { readonly _tag: "hijack"; readonly body: Buffer }

type Headers = Readonly<Record<string, string>>

export type Handler = (request: ScriptedRequest) => ScriptedResponse

/** A JSON body (`200` by default). */
export const json = (body: unknown, status = 200, headers: Headers = {}): ScriptedResponse => ({
  _tag: "json",
  status,
  body,
  headers
})

/** `GET /containers/{id}/json` as a daemon answers it: every required field, and `fields`. */
export const containerInspectAnswer = (fields: Record<string, unknown>): ScriptedResponse =>
  json({
    Id: "abc",
    Created: null,
    Path: "sh",
    Args: null,
    State: null,
    Image: "sha256:0123",
    Name: "/abc",
    RestartCount: 0,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    HostConfig: null,
    Mounts: null,
    Config: null,
    NetworkSettings: null,
    ...fields
  })

/** The daemon's error answer: `{"message": …}` with `status`. */
export const refuse = (status: number, message: string): ScriptedResponse => json({ message }, status)

/** No body: `204 No Content` by default, `304 Not Modified`… */
export const empty = (status = 204, headers: Headers = {}): ScriptedResponse => ({ _tag: "empty", status, headers })

/** Raw bytes (log frames, a tar stream, `OK` of a ping). */
export const bytes = (
  body: Uint8Array | string,
  headers: Headers = { "Content-Type": "application/vnd.docker.raw-stream" },
  status = 200
): ScriptedResponse => ({ _tag: "bytes", status, body: Buffer.from(body), headers })

/** A `200` chunked stream, one JSON value per line and per chunk (progress, events). */
export const jsonLines = (...lines: ReadonlyArray<unknown>): ScriptedResponse => ({ _tag: "lines", lines })

/** `101 UPGRADED` (attach, exec start), then `body` as raw bytes, then close. */
export const hijack = (body: Uint8Array | string = ""): ScriptedResponse => ({
  _tag: "hijack",
  body: Buffer.from(body)
})

/** One multiplexed stdio frame: `[stream, 0, 0, 0, size (u32 BE)]` then the payload. */
export const stdioFrame = (stream: "stdout" | "stderr", data: string): Buffer => {
  const payload = Buffer.from(data)
  const header = Buffer.alloc(8)
  header[0] = stream === "stdout" ? 1 : 2
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

/**
 * A handler from a table keyed `"METHOD /path"` (path as in `ScriptedRequest.path`); a request
 * no entry matches gets a 404 naming it, so the test fails on the request it did not expect.
 */
export const routes = (
  table: Readonly<Record<string, ScriptedResponse | Handler>>
): Handler =>
(request) => {
  const entry = table[`${request.method} ${request.path}`]
  if (entry === undefined) return refuse(404, `scripted daemon: no route for ${request.method} ${request.path}`)
  return typeof entry === "function" ? entry(request) : entry
}

export interface ScriptedDaemon {
  readonly host: string
  /** Every request received so far, in order. */
  readonly requests: () => ReadonlyArray<ScriptedRequest>
  /** `"METHOD /path"` of every request so far: the sequence at a glance. */
  readonly calls: () => ReadonlyArray<string>
  /** The one request to `"METHOD /path"` (fails the test when there is none or several). */
  readonly only: (call: string) => ScriptedRequest
  /** The query of the one request to `"METHOD /path"`, as an object (last value of a repeated name). */
  readonly queryOf: (call: string) => Record<string, string>
  /** The JSON body of the one request to `"METHOD /path"`. */
  readonly bodyOf: (call: string) => unknown
  /** Connections open on the daemon side. */
  readonly openConnections: () => number
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  101: "UPGRADED",
  200: "OK",
  201: "Created",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  409: "Conflict",
  500: "Internal Server Error"
}

const head = (status: number, headers: Headers): string =>
  `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}\r\n` +
  Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n"

/** Writes `response`; returns whether the connection was hijacked (no more requests on it). */
const answer = (socket: Socket, response: ScriptedResponse): boolean => {
  switch (response._tag) {
    case "json": {
      const text = JSON.stringify(response.body)
      socket.write(
        head(response.status, {
          "Content-Type": "application/json",
          "Content-Length": String(Buffer.byteLength(text)),
          ...response.headers
        }) + text
      )
      return false
    }
    case "empty":
      // 204 and 304 carry no body, and the daemon sends no length for them.
      socket.write(
        head(
          response.status,
          response.status === 204 || response.status === 304
            ? response.headers
            : { "Content-Length": "0", ...response.headers }
        )
      )
      return false
    case "bytes":
      socket.write(head(response.status, { ...response.headers, "Content-Length": String(response.body.length) }))
      socket.write(response.body)
      return false
    case "lines": {
      socket.write(head(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }))
      for (const line of response.lines) {
        const chunk = `${JSON.stringify(line)}\n`
        socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`)
      }
      socket.write("0\r\n\r\n")
      return false
    }
    case "hijack":
      socket.write(
        head(101, { "Content-Type": "application/vnd.docker.raw-stream", Connection: "Upgrade", Upgrade: "tcp" })
      )
      socket.end(response.body)
      return true
  }
}

/** The body of a chunked request complete in `data` from `start`: its bytes and where it ends. */
const dechunk = (data: Buffer, start: number): { readonly body: Buffer; readonly end: number } | undefined => {
  const parts: Array<Buffer> = []
  let offset = start
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset)
    if (lineEnd < 0) return undefined
    const size = parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16)
    if (size === 0) {
      // No trailers are sent: the last chunk is `0\r\n\r\n`.
      const end = data.indexOf("\r\n\r\n", lineEnd)
      return end < 0 ? undefined : { body: Buffer.concat(parts), end: end + 4 }
    }
    if (data.length < lineEnd + 2 + size + 2) return undefined
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
}

/** The first complete request in `data` and the bytes it took, or undefined while it is incomplete. */
const parseRequest = (data: Buffer): { readonly request: ScriptedRequest; readonly used: number } | undefined => {
  const headEnd = data.indexOf("\r\n\r\n")
  if (headEnd < 0) return undefined
  const [requestLine = "", ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n")
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(":")
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const bodyStart = headEnd + 4
  let body: Buffer
  let used: number
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const chunked = dechunk(data, bodyStart)
    if (chunked === undefined) return undefined
    body = chunked.body
    used = chunked.end
  } else {
    const length = Number(headers["content-length"] ?? 0)
    if (data.length < bodyStart + length) return undefined
    body = Buffer.from(data.subarray(bodyStart, bodyStart + length))
    used = bodyStart + length
  }
  const [method = "", target = "/"] = requestLine.split(" ")
  const url = new URL(target, "http://docker")
  const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname)
  return {
    request: {
      method,
      path: versioned ? versioned[2]! : url.pathname,
      version: versioned?.[1],
      query: url.searchParams,
      headers,
      body
    },
    used
  }
}

/** A scripted daemon for `handler`, alive for the current scope. */
export const scriptedDaemon = (handler: Handler): Effect.Effect<ScriptedDaemon, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly daemon: ScriptedDaemon; readonly close: () => Promise<void> }>((resume) => {
      const dir = mkdtempSync(join(tmpdir(), "ed-scripted-"))
      const path = join(dir, "docker.sock")
      const sockets = new Set<Socket>()
      const seen: Array<ScriptedRequest> = []
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => socket.destroy())
        let buffered = Buffer.alloc(0)
        let hijacked = false
        socket.on("data", (chunk: Buffer) => {
          // After a hijack the client's bytes are its stdin: nothing more to parse.
          if (hijacked) return
          buffered = Buffer.concat([buffered, chunk])
          for (let parsed = parseRequest(buffered); parsed !== undefined; parsed = parseRequest(buffered)) {
            buffered = buffered.subarray(parsed.used)
            seen.push(parsed.request)
            let response: ScriptedResponse
            try {
              response = handler(parsed.request)
            } catch (error) {
              response = refuse(500, `scripted daemon: the handler threw: ${String(error)}`)
            }
            hijacked = answer(socket, response)
            if (hijacked) return
          }
        })
      })
      const calls = () => seen.map((request) => `${request.method} ${request.path}`)
      const only = (call: string) => {
        const matching = seen.filter((request) => `${request.method} ${request.path}` === call)
        if (matching.length !== 1) throw new Error(`expected one ${call}, the daemon saw: ${JSON.stringify(calls())}`)
        return matching[0]!
      }
      server.listen(path, () =>
        resume(Effect.succeed({
          daemon: {
            host: `unix://${path}`,
            requests: () => [...seen],
            calls,
            only,
            queryOf: (call) => Object.fromEntries(only(call).query),
            bodyOf: (call) => JSON.parse(only(call).body.toString("utf8")),
            openConnections: () => sockets.size
          },
          close: () =>
            new Promise<void>((done) => {
              for (const socket of sockets) socket.destroy()
              server.close(() => {
                rmSync(dir, { recursive: true, force: true })
                done()
              })
            })
        })))
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ daemon }) => daemon))

/**
 * Runs `program` with `services` over an engine on `daemon`: the API version pinned (no `/_ping`
 * first) and no retries. The engine, and its connections, are gone when this returns.
 */
export const onDaemon = <A, E, R>(
  daemon: ScriptedDaemon,
  services: Layer.Layer<R, never, DockerEngine>,
  program: Effect.Effect<A, E, R | Scope.Scope>,
  apiVersion = "1.41"
): Effect.Effect<A, E> =>
  Effect.scoped(program).pipe(
    Effect.provide(
      services.pipe(Layer.provide(Layer.orDie(DockerEngine.layer({ host: daemon.host, apiVersion, retry: false }))))
    )
  )

/** Waits (2 s at most, on the real clock) until the daemon sees no open connection; how many are left. */
export const openAfterRelease = (daemon: ScriptedDaemon): Effect.Effect<number> =>
  Effect.gen(function*() {
    for (let i = 0; i < 200 && daemon.openConnections() > 0; i++) {
      yield* Effect.promise(() => new Promise((done) => setTimeout(done, 10)))
    }
    return daemon.openConnections()
  })

/**
 * A scripted daemon for `handler`, and `program` run over it with `services` (as `onDaemon`): what
 * `program` returned, and the daemon, to see what was sent. Dies if a connection is still open
 * once the engine is gone: every call must release its socket, whatever it did.
 */
export const runScripted = <A, E, R>(
  handler: Handler,
  services: Layer.Layer<R, never, DockerEngine>,
  program: Effect.Effect<A, E, R | Scope.Scope>,
  apiVersion?: string
): Effect.Effect<{ readonly daemon: ScriptedDaemon; readonly result: A }, E, Scope.Scope> =>
  Effect.gen(function*() {
    const daemon = yield* scriptedDaemon(handler)
    const result = yield* onDaemon(daemon, services, program, apiVersion)
    const open = yield* openAfterRelease(daemon)
    if (open > 0) return yield* Effect.die(new Error(`${open} connection(s) still open after the engine closed`))
    return { daemon, result }
  })

/**
 * The runner a test file uses for one service: `(handler, f, apiVersion?)` runs `f` on the service
 * (from `services`) over a scripted daemon for `handler`, as `runScripted`.
 */
export const scriptedService =
  <I, S>(service: Context.Service<I, S>, services: Layer.Layer<I, never, DockerEngine>) =>
  <A, E>(
    handler: Handler,
    f: (service: S) => Effect.Effect<A, E, Scope.Scope>,
    apiVersion?: string
  ) => runScripted(handler, services, service.use(f), apiVersion)

/** Stdio frames as `[stream, text]` pairs, for comparing what a service decoded. */
export const frameTexts = (
  frames: ReadonlyArray<{ readonly stream: string; readonly data: Uint8Array }>
): Array<readonly [string, string]> => frames.map((frame) => [frame.stream, Buffer.from(frame.data).toString("utf8")])
