/**
 * Fixtures for the Containers / Exec tests: containers created through the service under test
 * (labelled, removed by a finalizer), and a unix-socket proxy that counts the connections open to
 * the daemon right now, to prove streams close theirs.
 */
import { Effect, type Scope, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createConnection, createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DockerError } from "../../src/engine/errors.js"
import type { ContainerCreateBody } from "../../src/generated/operations/container/ContainerCreate.js"
import { Containers } from "../../src/services/containers.js"
import type { StdioFrame } from "../../src/wire/stdio-frames.js"
import { testLabels } from "./labels.js"
import { socketPath } from "./raw-daemon.js"
import { TEST_IMAGE, uniqueName } from "./resources.js"

/** A container created with `Containers.create` (busybox, no network, test label), force-removed at scope end. */
export const testContainer = (
  config: Partial<ContainerCreateBody> = {},
  name: string = uniqueName("c")
): Effect.Effect<{ readonly id: string; readonly name: string }, DockerError, Scope.Scope | Containers> =>
  Effect.gen(function*() {
    const containers = yield* Containers
    return yield* Effect.acquireRelease(
      Effect.map(
        containers.create({
          Image: TEST_IMAGE,
          ...config,
          Labels: { ...config.Labels, ...testLabels() },
          HostConfig: { NetworkMode: "none", ...config.HostConfig }
        }, { name }),
        (created) => ({ id: created.Id, name })
      ),
      (c) =>
        containers.remove(c.id, { force: true, v: true }).pipe(
          Effect.timeout("30 seconds"),
          Effect.catchTag("NotFound", () => Effect.void),
          Effect.catch((error) => Effect.logWarning(`could not remove ${c.name}: ${String(error)}`))
        )
    )
  })

/** A started container running `cmd` (argv). */
export const runningContainer = (cmd: ReadonlyArray<string>, config: Partial<ContainerCreateBody> = {}) =>
  Effect.gen(function*() {
    const c = yield* testContainer({ ...config, Cmd: [...cmd] })
    yield* (yield* Containers).start(c.id)
    return c
  })

const text = new TextDecoder()
/** Frames → `{ stdout, stderr }` (decoded per frame: test payloads are ASCII). */
export const frameText = (frames: ReadonlyArray<StdioFrame>) => ({
  stdout: frames.filter((f) => f.stream !== "stderr").map((f) => text.decode(f.data)).join(""),
  stderr: frames.filter((f) => f.stream === "stderr").map((f) => text.decode(f.data)).join("")
})

export const collectFrames = <E>(frames: Stream.Stream<StdioFrame, E>) =>
  Effect.map(Stream.runCollect(Stream.map(frames, (f) => ({ stream: f.stream, data: f.data.slice() }))), frameText)

export interface ConnectionCounter {
  readonly host: string
  /** Client connections open through the proxy now. */
  readonly open: () => number
  /** Open connections whose latest request's path contains `fragment` (e.g. `/logs`). */
  readonly openWith: (fragment: string) => number
}

const REQUEST_LINE = /(?:^|\r\n)(?:GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r\n/g

/** A proxy in front of the daemon that knows how many connections are open through it. */
export const connectionCounter = (daemonHost: string): Effect.Effect<ConnectionCounter, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ counter: ConnectionCounter; close: () => Promise<void> }>((resume) => {
      const dir = mkdtempSync(join(tmpdir(), "ed-conns-"))
      const path = join(dir, "docker.sock")
      const clients = new Map<Socket, string>()
      const all = new Set<Socket>()
      const server = createServer((client) => {
        const upstream = createConnection(socketPath(daemonHost))
        clients.set(client, "")
        all.add(client).add(upstream)
        client.on("data", (chunk: Buffer) => {
          for (const match of chunk.toString("latin1").matchAll(REQUEST_LINE)) clients.set(client, match[1]!)
        })
        client.pipe(upstream).pipe(client)
        const close = () => {
          clients.delete(client)
          client.destroy()
          upstream.destroy()
        }
        client.on("error", close).on("close", close)
        upstream.on("error", close).on("close", close)
      })
      server.listen(path, () =>
        resume(Effect.succeed({
          counter: {
            host: `unix://${path}`,
            open: () => clients.size,
            openWith: (fragment) => [...clients.values()].filter((path) => path.includes(fragment)).length
          },
          close: () =>
            new Promise<void>((done) => {
              for (const s of all) s.destroy()
              server.close(() => {
                rmSync(dir, { recursive: true, force: true })
                done()
              })
            })
        })))
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ counter }) => counter))
