/**
 * Per-request cost against one real engine, in one process: sequential `GET /_ping` (p50, p99) and
 * 64 concurrent container inspects, for effect-docker, dockerode, and raw keep-alive clients
 * (undici Pool, node:http Agent). Clients take turns round by round so drift hits all alike.
 *
 *   DOCKER_HOST=unix:///tmp/effect-docker/docker-latest/docker.sock npm run bench:requests
 *
 * (compiled JavaScript, not tsx: tsx wraps every function of ours in esbuild's `__name` helper,
 * a cost the raw clients in node_modules would not pay)
 */
import Dockerode from "dockerode"
import { Effect, Layer, ManagedRuntime } from "effect"
import http from "node:http"
import { Pool } from "undici"
import { ContainerInspect } from "../src/generated/operations/container/ContainerInspect.js"
import { DockerEngine, System } from "../src/index.js"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
if (!host.startsWith("unix://")) throw new Error("bench: DOCKER_HOST must be a unix socket")
const socketPath = host.slice("unix://".length)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const PINGS_PER_ROUND = Number(process.env.BENCH_PINGS ?? 200)
const INSPECT_BATCHES_PER_ROUND = 5
const CONCURRENCY = 64

// --- clients -------------------------------------------------------------------------------
const pool = new Pool("http://docker", { connect: { socketPath } })
const agent = new http.Agent({ keepAlive: true })
const dockerode = new Dockerode({ socketPath })
const runtime = ManagedRuntime.make(
  Layer.provideMerge(System.layer, DockerEngine.layer({ host }))
)
const apiVersion = await runtime.runPromise(Effect.flatMap(DockerEngine, (e) => e.apiVersion))

const undiciGet = async (path: string) => {
  const res = await pool.request({ method: "GET", path })
  return res.statusCode === 200 ? res.body.text() : Promise.reject(new Error(String(res.statusCode)))
}
const nodeGet = (path: string) =>
  new Promise<string>((resolve, reject) => {
    http.get({ socketPath, path, agent }, (res) => {
      let body = ""
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve(body))
    }).on("error", reject)
  })

// --- a container to inspect (labelled, removed at the end) ----------------------------------
const container = await dockerode.createContainer({
  Image: "busybox:local",
  Cmd: ["true"],
  Labels: { "effect-docker.bench": "1" },
  HostConfig: { NetworkMode: "none" }
})
const inspectPath = `/v${apiVersion}/containers/${container.id}/json`
type Client = {
  readonly name: string
  readonly ping: () => Promise<unknown>
  /** 64 concurrent inspects of the same container. */
  readonly inspectBatch: () => Promise<unknown>
}
const promiseBatch = (inspect: () => Promise<unknown>) => () =>
  Promise.all(Array.from({ length: CONCURRENCY }, inspect))
const effectPing = Effect.flatMap(System, (s) => s.ping())
// Decoded with the generated Schema: users get a typed value, so that cost is part of the figure.
const effectInspect = Effect.flatMap(DockerEngine, (e) => e.json(ContainerInspect, { id: container.id }))
// An Effect program runs its 64 inspects as one effect (`Effect.all`); a promise-style caller
// runs one `runPromise` per call. Both are measured.
const effectBatch = Effect.all(Array.from({ length: CONCURRENCY }, () => effectInspect), { concurrency: "unbounded" })
const clients: ReadonlyArray<Client> = [
  {
    name: "effect-docker",
    ping: () => runtime.runPromise(effectPing),
    inspectBatch: () => runtime.runPromise(effectBatch)
  },
  {
    name: "effect-docker, runPromise per call",
    ping: () => runtime.runPromise(effectPing),
    inspectBatch: promiseBatch(() => runtime.runPromise(effectInspect))
  },
  { name: "dockerode", ping: () => dockerode.ping(), inspectBatch: promiseBatch(() => container.inspect()) },
  {
    name: "raw undici Pool",
    ping: () => undiciGet(`/v${apiVersion}/_ping`),
    inspectBatch: promiseBatch(() => undiciGet(inspectPath))
  },
  {
    name: "raw node:http keep-alive",
    ping: () => nodeGet(`/v${apiVersion}/_ping`),
    inspectBatch: promiseBatch(() => nodeGet(inspectPath))
  }
]

// --- measurement ------------------------------------------------------------------------------
const samples = new Map(clients.map((c) => [c.name, { ping: [] as Array<number>, inspect: [] as Array<number> }]))
const percentile = (xs: Array<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
for (const c of clients) for (let i = 0; i < 100; i++) await c.ping() // warm-up: connections, JIT
// Clients take turns request by request (and batch by batch), so load from anything else on the
// machine hits them alike; measuring one client after another lets drift masquerade as a ratio.
// The order is shuffled every turn: a request right after another client's costs ~30 µs more than
// one right after its own client's (caches, socket wake-ups), so a fixed or rotating order favours
// whoever follows itself. A seeded shuffle gives every client every predecessor alike.
let seed = 42
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
const turn = (_: number) => {
  const order = [...clients]
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1))
    ;[order[k], order[j]] = [order[j]!, order[k]!]
  }
  return order
}
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < PINGS_PER_ROUND; i++) {
    for (const c of turn(i)) {
      const t = process.hrtime.bigint()
      await c.ping()
      samples.get(c.name)!.ping.push(Number(process.hrtime.bigint() - t) / 1000)
    }
  }
  for (let b = 0; b < INSPECT_BATCHES_PER_ROUND; b++) {
    for (const c of turn(round * INSPECT_BATCHES_PER_ROUND + b)) {
      const t = process.hrtime.bigint()
      await c.inspectBatch()
      samples.get(c.name)!.inspect.push(Number(process.hrtime.bigint() - t) / 1000)
    }
  }
}

await container.remove({ force: true })
await runtime.dispose()
await pool.close()
agent.destroy()

const version = await new Dockerode({ socketPath }).version()
console.log(
  `engine: Docker ${version.Version}, API ${apiVersion}; node ${process.version}; ` +
    `${ROUNDS} rounds x ${PINGS_PER_ROUND} pings, ${
      ROUNDS * INSPECT_BATCHES_PER_ROUND
    } batches of ${CONCURRENCY} inspects`
)
const base = (name: string) => samples.get(name)!
const rows = clients.map((c) => {
  const s = base(c.name)
  return {
    client: c.name,
    "ping p50 µs": percentile(s.ping, 50).toFixed(0),
    "ping p99 µs": percentile(s.ping, 99).toFixed(0),
    "64 inspects p50 ms": (percentile(s.inspect, 50) / 1000).toFixed(2),
    "p50 vs dockerode": (percentile(s.ping, 50) / percentile(base("dockerode").ping, 50)).toFixed(2),
    "p50 vs raw undici": (percentile(s.ping, 50) / percentile(base("raw undici Pool").ping, 50)).toFixed(2),
    "inspects vs raw undici": (percentile(s.inspect, 50) / percentile(base("raw undici Pool").inspect, 50)).toFixed(2)
  }
})
console.table(rows)
