/**
 * The child process of test/integration/pool.test.ts: `callers` concurrent fibers, each making
 * `calls` sequential `GET /_ping` calls through one layer, while it samples its own open socket
 * file descriptors. `/_ping` because it is cheap on every engine: Podman forks `dpkg-query`
 * several times for each `/version` or `/info` (the packages of conmon and the runtime), and goes
 * on serving requests whose clients gave up, so thousands of them are a fork storm that wedges
 * the service for many minutes (the test measures the client's pool, not the daemon). Prints one JSON line: failures (by error code), the peak of socket fds.
 * Run under `ulimit -n`, where a pool that opens more sockets than it needs fails with EMFILE.
 *
 * argv: <library entry (src/index.ts)> <host> <callers> <calls> <connections: number | "default">
 */
import { Effect } from "effect"
import { readdirSync, readlinkSync } from "node:fs"
import { pathToFileURL } from "node:url"

const [entry, host, callers, calls, connections] = process.argv.slice(2) as [string, string, string, string, string]
const library = (await import(pathToFileURL(entry).href)) as typeof import("../../src/index.js")
const { SystemPing } = (await import(
  pathToFileURL(entry.replace(/index\.ts$/, "generated/operations/system/SystemPing.ts")).href
)) as typeof import("../../src/generated/operations/system/SystemPing.js")

const socketFds = (): number => {
  let n = 0
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) n++
    } catch {
      // closed while listing
    }
  }
  return n
}

let peak = socketFds()
const baseline = peak
const sampler = setInterval(() => (peak = Math.max(peak, socketFds())), 5)
const failures: Record<string, number> = {}
let succeeded = 0

const caller = Effect.flatMap(library.DockerEngine, (engine) =>
  Effect.gen(function*() {
    for (let i = 0; i < Number(calls); i++) {
      const result = yield* Effect.result(engine.raw(SystemPing, {}))
      if (result._tag === "Success") succeeded++
      else {
        const error = result.failure as { _tag: string; code?: string }
        const key = `${error._tag}:${error.code ?? ""}`
        failures[key] = (failures[key] ?? 0) + 1
      }
    }
  }))

await Effect.runPromise(
  Effect.all(Array.from({ length: Number(callers) }, () => caller), { concurrency: "unbounded" }).pipe(
    Effect.provide(library.DockerEngine.layer({
      host,
      retry: false,
      ...(connections === "default" ? {} : { connections: Number(connections) })
    }))
  )
)
clearInterval(sampler)
peak = Math.max(peak, socketFds())
console.log(JSON.stringify({ succeeded, failures, peakSockets: peak - baseline }))
