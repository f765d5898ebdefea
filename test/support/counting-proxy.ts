/**
 * A unix-socket proxy in front of a real daemon that records the request lines clients send, so
 * tests can observe what the client put on the wire (which path, how many pings) while the
 * answers still come from the real engine.
 */
import { Effect, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { socketPath } from "./raw-daemon.js"

export interface CountingProxy {
  /** `unix://…` address of the proxy. */
  readonly host: string
  /** Request lines seen so far, e.g. `HEAD /_ping`, `GET /v1.41/info`. */
  readonly requests: () => ReadonlyArray<string>
  /** Client connections currently open through the proxy. */
  readonly openConnections: () => number
  /** Open connections whose latest request's path contains `fragment` (e.g. `/logs`). */
  readonly openWith: (fragment: string) => number
}

const REQUEST_LINE = /(?:^|\r\n)(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r\n/g

export const countingProxy = (daemonHost: string): Effect.Effect<CountingProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ proxy: CountingProxy; close: () => Promise<void> }>((resume) => {
      const dir = mkdtempSync(join(tmpdir(), "ed-proxy-"))
      const path = join(dir, "docker.sock")
      const seen: Array<string> = []
      const sockets = new Set<import("node:net").Socket>()
      // Each open client connection, with the path of its latest request.
      const clients = new Map<import("node:net").Socket, string>()
      const server = createServer((client) => {
        const upstream = createConnection(socketPath(daemonHost))
        sockets.add(client).add(upstream)
        clients.set(client, "")
        client.on("close", () => clients.delete(client))
        client.on("data", (chunk: Buffer) => {
          for (const match of chunk.toString("latin1").matchAll(REQUEST_LINE)) {
            seen.push(`${match[1]} ${match[2]}`)
            if (clients.has(client)) clients.set(client, match[2]!)
          }
        })
        client.pipe(upstream).pipe(client)
        const close = () => {
          client.destroy()
          upstream.destroy()
        }
        client.on("error", close).on("close", close)
        upstream.on("error", close).on("close", close)
      })
      server.listen(path, () =>
        resume(Effect.succeed({
          proxy: {
            host: `unix://${path}`,
            requests: () => [...seen],
            openConnections: () => clients.size,
            openWith: (fragment) => [...clients.values()].filter((p) => p.includes(fragment)).length
          },
          close: () =>
            new Promise<void>((done) => {
              for (const s of sockets) s.destroy()
              server.close(() => {
                rmSync(dir, { recursive: true, force: true })
                done()
              })
            })
        })))
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ proxy }) => proxy))
