/**
 * A misbehaving daemon on a real unix socket, for the faults a real engine cannot produce on
 * demand. Each request path names the fault; `/_ping` answers like a 1.41 daemon. It counts the
 * connections still open, so tests can assert the client released every socket.
 */
import { Effect, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface FakeDaemon {
  readonly host: string
  /** Connections currently open on the daemon side. */
  readonly openConnections: () => number
  /** Request lines received so far. */
  readonly requests: () => ReadonlyArray<string>
  /** Body bytes `/firehose` has handed to its sockets so far. */
  readonly firehoseBytes: () => number
  /** Connections accepted so far. */
  readonly connectionsAccepted: () => number
}

/** `/firehose` stops after this much, so a client without backpressure is not fed forever. */
export const FIREHOSE_LIMIT = 256 * 1024 * 1024

const head = (status: string, headers: Record<string, string | number>) =>
  `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`

const respond = (socket: Socket, status: string, contentType: string, body: string) =>
  socket.write(
    head(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body), "Api-Version": "1.41" }) +
      body
  )

/** What the fake does for a path (query string removed, version prefix removed). */
const behave = (path: string, socket: Socket, timers: Set<NodeJS.Timeout>, sent: { bytes: number }): void => {
  switch (path) {
    case "/_ping":
      return void respond(socket, "200 OK", "text/plain", "OK")
    case "/ok":
      return void respond(socket, "200 OK", "application/json", "{\"Id\":\"ok\"}")
    case "/slow": {
      const timer = setTimeout(() => respond(socket, "200 OK", "application/json", "{\"Id\":\"slow\"}"), 300)
      return void timers.add(timer)
    }
    case "/reset-mid-body":
      // Promise 1000 bytes, send 10, then drop the connection abruptly (no RST on unix sockets).
      socket.write(head("200 OK", { "Content-Type": "application/json", "Content-Length": 1000 }) + "{\"Id\":\"abc")
      return void setImmediate(() => socket.destroy())
    case "/truncated-chunked":
      socket.write(
        head("200 OK", { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }) +
          "a\r\n{\"Id\":\"abc\r\n"
      )
      return void setImmediate(() => socket.end())
    case "/invalid-json":
      return void respond(socket, "200 OK", "application/json", "{\"Id\": nope")
    case "/wrong-content-type":
      return void respond(socket, "200 OK", "text/html", "<html><body>not the daemon</body></html>")
    case "/server-error-text":
      return void respond(socket, "500 Internal Server Error", "text/plain", "internal oops\n")
    case "/headers-byte-by-byte": {
      const body = "{\"Id\":\"slow\"}"
      const bytes = Buffer.from(
        head("200 OK", { "Content-Type": "application/json", "Content-Length": body.length }) + body
      )
      let i = 0
      const tick = setInterval(() => {
        if (socket.destroyed) return clearInterval(tick)
        socket.write(bytes.subarray(i, i + 1))
        if (++i >= bytes.length) clearInterval(tick)
      }, 1)
      return void timers.add(tick)
    }
    case "/never-ending": {
      socket.write(head("200 OK", { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }))
      let n = 0
      const tick = setInterval(() => {
        if (socket.destroyed) return clearInterval(tick)
        const line = `{"n":${n++}}\n`
        socket.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`)
      }, 5)
      return void timers.add(tick)
    }
    case "/firehose": {
      // A chunked body written as fast as the socket takes it (waiting for 'drain' like any
      // well-behaved server): how much it managed to write shows whether the client pushed back.
      socket.write(head("200 OK", { "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked" }))
      const chunk = Buffer.from(`10000\r\n${"x".repeat(0x10000)}\r\n`)
      const pump = () => {
        while (!socket.destroyed && sent.bytes < FIREHOSE_LIMIT) {
          sent.bytes += 0x10000
          if (!socket.write(chunk)) return void socket.once("drain", pump)
        }
      }
      return pump()
    }
    case "/upgrade-then-close":
      socket.write(
        head("101 UPGRADED", {
          "Content-Type": "application/vnd.docker.raw-stream",
          Connection: "Upgrade",
          Upgrade: "tcp"
        })
      )
      return void setImmediate(() => socket.end())
    case "/hang-after-headers":
      // Headers promise a body that never comes; the socket stays open.
      return void socket.write(head("200 OK", { "Content-Type": "application/json", "Content-Length": 100 }))
    case "/hang":
      return
    case "/exec/end-normally/start":
    case "/containers/end-normally/attach":
    case "/exec/die-between-frames/start":
    case "/exec/die-mid-frame/start":
    case "/exec/reset-between-frames/start": {
      // Hijacked stdio sessions (101, then stdout/stderr frames) that end the way a real daemon
      // ends them, or the ways a dying one does. moby half-closes (CloseWrite) when the process's
      // streams are done; a dockerd that crashes has its sockets closed by the kernel: to the
      // client the same EOF, except that the daemon no longer answers (it "dies" here by closing
      // its listener, so new connections fail with ENOENT) — or ECONNRESET when it died with
      // bytes of ours unread.
      const fault = path.split("/")[2]
      const frame = (type: number, text: string, announced = Buffer.byteLength(text)) => {
        const header = Buffer.alloc(8)
        header[0] = type
        header.writeUInt32BE(announced, 4)
        return Buffer.concat([header, Buffer.from(text)])
      }
      const die = () => {
        ;(socket as unknown as { readonly server: { close: () => void } }).server.close()
        socket.destroy()
      }
      if (fault === "reset-between-frames") socket.pause() // what the client sends now stays unread
      const frames = [
        Buffer.from(head("101 UPGRADED", {
          "Content-Type": "application/vnd.docker.raw-stream",
          Connection: "Upgrade",
          Upgrade: "tcp"
        })),
        frame(1, "out-1\n"),
        frame(2, "err-1\n"),
        ...(fault === "die-mid-frame" ? [frame(1, "par", 10)] : [])
      ]
      return void socket.write(Buffer.concat(frames), () => {
        if (fault === "end-normally") return void socket.end()
        if (fault === "reset-between-frames") return void timers.add(setTimeout(() => socket.destroy(), 300))
        die()
      })
    }
    default:
      return void respond(
        socket,
        "404 Not Found",
        "application/json",
        JSON.stringify({ message: `no fault at ${path}` })
      )
  }
}

/** A daemon on a fresh unix socket that reads request heads and lets `act` answer each. */
const listen = (act: typeof behave): Effect.Effect<FakeDaemon, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ daemon: FakeDaemon; close: () => Promise<void> }>((resume) => {
      const dir = mkdtempSync(join(tmpdir(), "ed-fake-"))
      const path = join(dir, "docker.sock")
      const sockets = new Set<Socket>()
      const timers = new Set<NodeJS.Timeout>()
      const seen: Array<string> = []
      const sent = { bytes: 0 }
      let accepted = 0
      const server = createServer((socket) => {
        accepted++
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => socket.destroy())
        let buffered = ""
        socket.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("latin1")
          let end: number
          while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
            const requestLine = buffered.slice(0, buffered.indexOf("\r\n"))
            buffered = buffered.slice(end + 4)
            const [method, target] = requestLine.split(" ")
            seen.push(`${method} ${target}`)
            const route = (target ?? "/").split("?")[0]!.replace(/^\/v\d+\.\d+/, "")
            act(route, socket, timers, sent)
          }
        })
      })
      server.listen(path, () =>
        resume(Effect.succeed({
          daemon: {
            host: `unix://${path}`,
            openConnections: () => sockets.size,
            requests: () => [...seen],
            firehoseBytes: () => sent.bytes,
            connectionsAccepted: () => accepted
          },
          close: () =>
            new Promise<void>((done) => {
              for (const t of timers) clearInterval(t) // (clears timeouts too)
              for (const s of sockets) s.destroy()
              server.close(() => {
                rmSync(dir, { recursive: true, force: true })
                done()
              })
            })
        })))
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ daemon }) => daemon))

export const fakeDaemon: Effect.Effect<FakeDaemon, never, Scope.Scope> = listen(behave)

/**
 * A daemon that accepts every connection and never answers anything, not even `/_ping` (a hung
 * daemon, or something else listening on the socket).
 */
export const silentDaemon: Effect.Effect<FakeDaemon, never, Scope.Scope> = listen(() => undefined)
