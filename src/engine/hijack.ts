/**
 * Hijacked connections (`POST /containers/{id}/attach`, `POST /exec/{id}/start`, `POST /session`): the request is
 * written on a connection of its own, and after `101 UPGRADED` (or a `200` raw-stream answer from
 * a daemon that hijacks without the Upgrade headers) the socket carries raw bytes both ways.
 * Written by hand rather than with undici's `upgrade()`, because a refusal (404 no such exec, 409
 * container not running) must still reach the caller as the daemon's status and message.
 */
import type { Duplex } from "node:stream"
import type { TransportRequest } from "./transport.js"

/** Opens a fresh byte stream to the daemon (unix socket, TCP, TLS, ssh…). */
export type Dial = () => Duplex

export type HijackAnswer =
  | {
    readonly _tag: "Hijacked"
    readonly status: number
    /** Lower-cased header names. */
    readonly headers: Readonly<Record<string, string>>
    /**
     * The connection, with any bytes that arrived behind the headers put back in front, in the
     * state of a fresh socket (`readableFlowing === null`): it starts flowing as soon as someone
     * reads it (`on("data")`, `pipe`, `for await`, a `Stream`), and holds what arrives until then.
     */
    readonly socket: Duplex
  }
  | { readonly _tag: "Refused"; readonly status: number; readonly body: string }

const HEADER_END = Buffer.from("\r\n\r\n")
const MAX_HEADER_BYTES = 64 * 1024

const serialize = (request: TransportRequest, host: string): Buffer => {
  const body = request.body === undefined
    ? Buffer.alloc(0)
    : typeof request.body === "string"
    ? Buffer.from(request.body)
    : Buffer.from(request.body as Uint8Array)
  // `Upgrade: tcp` (attach, exec) unless the operation names its own protocol (`h2c` for /session).
  const { Upgrade: upgrade = "tcp", ...headers } = request.headers ?? {}
  let head = `${request.method} ${request.path} HTTP/1.1\r\nHost: ${host}\r\n` +
    `Connection: Upgrade\r\nUpgrade: ${String(upgrade)}\r\nContent-Length: ${body.length}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    for (const line of typeof value === "string" ? [value] : value) head += `${name}: ${line}\r\n`
  }
  return Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), body])
}

const parseHead = (head: string): { status: number; headers: Record<string, string> } => {
  const lines = head.split("\r\n")
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1])
  if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`)
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":")
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers }
}

/** Decodes a chunked body that is complete in `raw`; returns undefined while it is not. */
const dechunk = (raw: Buffer): Buffer | undefined => {
  const parts: Array<Buffer> = []
  let offset = 0
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", offset)
    if (lineEnd < 0) return undefined
    const size = parseInt(raw.subarray(offset, lineEnd).toString("latin1"), 16)
    if (!Number.isFinite(size)) return Buffer.concat(parts)
    if (size === 0) return Buffer.concat(parts)
    if (raw.length < lineEnd + 2 + size) return undefined
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
}

/**
 * Writes `request` on a fresh connection from `dial` and reads the answer's head. Aborting
 * `signal` destroys the connection. The caller owns a `Hijacked` socket and must destroy it.
 */
export const hijack = (dial: Dial, request: TransportRequest, signal: AbortSignal): Promise<HijackAnswer> =>
  new Promise<HijackAnswer>((resolve, reject) => {
    let socket: Duplex
    try {
      socket = dial()
    } catch (error) {
      return reject(error)
    }
    let received: Buffer = Buffer.alloc(0)
    let head: { status: number; headers: Record<string, string> } | undefined
    let bodyStart = 0
    let settled = false
    const cleanup = () => {
      settled = true
      socket.off("readable", onReadable)
      socket.off("error", onError)
      socket.off("end", onEnd)
      signal.removeEventListener("abort", onAbort)
    }
    const fail = (error: unknown) => {
      cleanup()
      socket.destroy()
      reject(error)
    }
    const refuse = (body: Buffer) => {
      cleanup()
      socket.destroy()
      resolve({ _tag: "Refused", status: head!.status, body: body.toString("utf8") })
    }
    const onAbort = () => fail(signal.reason ?? new Error("aborted"))
    const onError = (error: unknown) => fail(error)
    const onEnd = () => {
      if (head === undefined) {
        return fail(Object.assign(new Error("the daemon closed the connection"), { code: "ECONNRESET" }))
      }
      refuse(received.subarray(bodyStart))
    }
    const tryFinishRefusal = () => {
      const body = received.subarray(bodyStart)
      const length = head!.headers["content-length"]
      if (length !== undefined && body.length >= Number(length)) return refuse(body.subarray(0, Number(length)))
      if (head!.headers["transfer-encoding"]?.includes("chunked")) {
        const decoded = dechunk(body)
        if (decoded !== undefined) refuse(decoded)
      }
      // Otherwise the body ends when the daemon closes the connection (onEnd).
    }
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
      if (head === undefined) {
        const end = received.indexOf(HEADER_END)
        if (end < 0) {
          if (received.length > MAX_HEADER_BYTES) fail(new Error("the daemon's answer headers exceed 64 KiB"))
          return
        }
        try {
          head = parseHead(received.subarray(0, end).toString("latin1"))
        } catch (error) {
          return fail(error)
        }
        bodyStart = end + HEADER_END.length
        const contentType = head.headers["content-type"] ?? ""
        const hijacked = head.status === 101 ||
          (head.status === 200 && contentType.startsWith("application/vnd.docker."))
        if (hijacked) {
          // Removing the last "readable" listener puts the socket back in its initial state, in
          // which nothing is read until a consumer asks: no byte is lost before it attaches.
          cleanup()
          const rest = received.subarray(bodyStart)
          // Bytes that came in with the headers belong to the stream: put them back first.
          if (rest.length > 0) socket.unshift(rest)
          return resolve({ _tag: "Hijacked", status: head.status, headers: head.headers, socket })
        }
      }
      tryFinishRefusal()
    }
    // The head is read with "readable" + read() rather than "data": a "data" listener would
    // switch the socket to flowing mode, and the only way back is pause(), after which a
    // consumer's own on("data") never fires.
    const onReadable = () => {
      for (let chunk: Buffer | null; settled === false && (chunk = socket.read() as Buffer | null) !== null;) {
        onData(chunk)
      }
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener("abort", onAbort, { once: true })
    socket.on("readable", onReadable)
    socket.on("error", onError)
    socket.on("end", onEnd)
    socket.write(serialize(request, "docker"))
  })
