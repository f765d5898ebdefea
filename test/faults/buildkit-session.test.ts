/**
 * What a real daemon will not do on demand, on a fake one (a real unix socket): a BuildKit
 * session dropped by the daemon while the build runs fails the build with `BuildKitSessionError`
 * (nothing hangs, the build's connection is closed), a refused `/session` fails the build with
 * the daemon's error before any `/build` is sent, and an SSH key that cannot be used (encrypted
 * without its passphrase, not a key, a missing file) fails before anything is sent at all.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DockerEngine } from "../../src/engine/engine.js"
import { type BuildKitBuildOptions, Images } from "../../src/services/images.js"

interface FakeBuildDaemon {
  readonly host: string
  readonly paths: Array<string>
  /** Whether the `/build` connection was closed by the client. */
  readonly buildClosed: () => boolean
}

/** `/session`: 101 then dropped after `dropAfterMs`, or refused with 500; `/build`: 200 and silence. */
const fakeBuildDaemon = (session: { readonly dropAfterMs: number } | "refuse") =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<FakeBuildDaemon & { readonly server: net.Server }>((resolve) => {
        const path = join(tmpdir(), `ed-bk-fault-${process.pid}-${Math.random().toString(36).slice(2)}.sock`)
        const paths: Array<string> = []
        let buildClosed = false
        const server = net.createServer((socket) => {
          let head = ""
          const onData = (chunk: Buffer) => {
            head += chunk.toString("latin1")
            if (!head.includes("\r\n\r\n")) return
            socket.off("data", onData)
            const requestPath = head.split(" ")[1] ?? ""
            paths.push(requestPath.split("?")[0]!)
            if (requestPath.includes("/session")) {
              if (session === "refuse") {
                const body = JSON.stringify({ message: "session refused by the fake daemon" })
                socket.end(
                  `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n` +
                    `Content-Length: ${body.length}\r\n\r\n${body}`
                )
                return
              }
              socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
              setTimeout(() => socket.destroy(), session.dropAfterMs)
              return
            }
            socket.on("data", () => {}) // the context
            socket.on("close", () => (buildClosed = true))
            socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
          }
          socket.on("data", onData)
          socket.on("error", () => socket.destroy())
        })
        server.listen(path, () => resolve({ host: `unix://${path}`, paths, buildClosed: () => buildClosed, server }))
      })
    ),
    (daemon) => Effect.promise(() => new Promise<void>((resolve) => daemon.server.close(() => resolve())))
  )

const context = Stream.make(new Uint8Array(1024))

const build = (host: string, ssh?: BuildKitBuildOptions["ssh"]) =>
  Effect.flatMap(Images, (images) => images.build({ tar: context }, { builder: "buildkit", ssh })).pipe(
    Effect.provide(Layer.provideMerge(Images.layer, DockerEngine.layer({ host, apiVersion: "1.41", retry: false })))
  )

describe("BuildKit session faults", () => {
  it.live("a session the daemon drops mid-build fails the build with BuildKitSessionError, closing /build", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeBuildDaemon({ dropAfterMs: 300 })
      const error = yield* build(daemon.host).pipe(Effect.flip, Effect.timeout("10 seconds"))
      expect(error._tag).toBe("BuildKitSessionError")
      expect(daemon.paths).toEqual(["/v1.41/session", "/v1.41/build"])
      for (let i = 0; i < 100 && !daemon.buildClosed(); i++) yield* Effect.sleep("20 millis")
      expect(daemon.buildClosed()).toBe(true)
    }))

  it.live("a refused /session fails the build with the daemon's error before /build is sent", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeBuildDaemon("refuse")
      const error = yield* build(daemon.host).pipe(Effect.flip, Effect.timeout("10 seconds"))
      expect(error._tag).toBe("ServerError")
      expect(error.message).toContain("session refused by the fake daemon")
      expect(daemon.paths).toEqual(["/v1.41/session"])
    }))

  it.live("an SSH key that cannot be used is SshKeyError before anything is sent", () =>
    Effect.gen(function*() {
      const daemon = yield* fakeBuildDaemon({ dropAfterMs: 5_000 })
      const dir = mkdtempSync(join(tmpdir(), "ed-bk-sshkey-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const passphrase = "fault-test-passphrase"
      const path = join(dir, "id_ed25519")
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-a", "4", "-N", passphrase, "-f", path])
      const cases: Array<[NonNullable<BuildKitBuildOptions["ssh"]>, string]> = [
        [{ default: { keys: [{ file: path }] } }, "Encrypted"],
        [{ default: { keys: [{ key: Redacted.make(readFileSync(path, "utf8")) }] } }, "Encrypted"],
        [{ a: { socket: "/nowhere" }, b: { keys: [{ key: Redacted.make("not a key") }] } }, "NotAKey"],
        [{ default: { keys: [{ file: join(dir, "missing") }] } }, "Unreadable"]
      ]
      for (const [ssh, problem] of cases) {
        const error = yield* build(daemon.host, ssh).pipe(Effect.flip, Effect.timeout("10 seconds"))
        expect(error).toMatchObject({ _tag: "SshKeyError", problem })
        expect(error.message).not.toContain(passphrase)
      }
      expect(daemon.paths).toEqual([])
    }))
})
