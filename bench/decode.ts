/**
 * Decoding real answers: `JSON.parse` alone, the Effect Schema decode, and the generated fast
 * decoder (codegen/emit-decoders.ts), per answer, on answers fetched once from a real engine
 * (a container inspect and list, an image inspect, info, one stats sample).
 *
 *   DOCKER_HOST=unix:///tmp/effect-docker/docker-latest/docker.sock npm run bench:decode
 *
 * Each variant runs on the same parsed value (the decode variants) or text (`JSON.parse`), in
 * rounds with the variants in rotated order, median of the rounds; a full GC before each timed run
 * when node runs with --expose-gc, so every variant pays for its own garbage.
 */
import Dockerode from "dockerode"
import { Result, Schema } from "effect"
import { performance } from "node:perf_hooks"
import { Invalid } from "../src/core/fast-decode.js"
import { ContainerInspect } from "../src/generated/operations/container/ContainerInspect.js"
import { ContainerList } from "../src/generated/operations/container/ContainerList.js"
import { ContainerStats } from "../src/generated/operations/container/ContainerStats.js"
import { ImageInspect } from "../src/generated/operations/image/ImageInspect.js"
import { SystemInfo } from "../src/generated/operations/system/SystemInfo.js"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
if (!host.startsWith("unix://")) throw new Error("bench: DOCKER_HOST must be a unix socket")
const docker = new Dockerode({ socketPath: host.slice("unix://".length) })
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const gc = (globalThis as { gc?: () => void }).gc

interface Answer {
  readonly name: string
  readonly text: string
  readonly schema: Schema.Top
  readonly fast: (u: unknown) => unknown
}
type JsonDescriptor = {
  readonly response: { readonly schema: () => Promise<Schema.Top>; readonly decode: (u: unknown) => unknown }
}

/** The daemon's answer as text, through dockerode's modem (it parses JSON; stringified back). */
const get = (path: string) =>
  new Promise<string>((resolve, reject) =>
    (docker.modem as unknown as { dial: (o: object, cb: (e: unknown, d: unknown) => void) => void }).dial(
      { path, method: "GET", statusCodes: { 200: true }, options: {} },
      (e, d) => (e ? reject(e) : resolve(JSON.stringify(d)))
    )
  )

const container = await docker.createContainer({
  Image: "busybox:local",
  Cmd: ["sleep", "60"],
  Labels: { "effect-docker.bench": "1" },
  HostConfig: { NetworkMode: "none" }
})
const answers: Array<Answer> = []
try {
  await container.start()
  const sources: Array<[string, string, JsonDescriptor]> = [
    ["container inspect", `/containers/${container.id}/json`, ContainerInspect],
    ["container list (all)", `/containers/json?all=1`, ContainerList],
    ["image inspect", `/images/busybox:local/json`, ImageInspect],
    ["system info", `/info`, SystemInfo],
    ["stats sample", `/containers/${container.id}/stats?stream=0`, ContainerStats]
  ]
  for (const [name, path, op] of sources) {
    answers.push({ name, text: await get(path), schema: await op.response.schema(), fast: op.response.decode })
  }
} finally {
  await container.remove({ force: true })
}

const time = (iterations: number, f: () => void): number => {
  gc?.()
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) f()
  return ((performance.now() - t0) * 1e3) / iterations
}
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

console.log(`decode bench: ${host}, node ${process.version}, ${ROUNDS} rounds, gc ${gc ? "per run" : "not exposed"}`)
console.log("| answer | bytes | JSON.parse µs | Schema decode µs | fast decode µs | Schema ÷ fast |")
console.log("|---|---:|---:|---:|---:|---:|")
for (const a of answers) {
  const value = JSON.parse(a.text) as unknown
  const slow = Schema.decodeUnknownResult(a.schema as Schema.Decoder<unknown>)
  const slowOut = slow(value)
  const fastOut = a.fast(value)
  if (!Result.isSuccess(slowOut) || fastOut === Invalid) throw new Error(`${a.name}: not decoded (${String(fastOut)})`)
  const iterations = Math.max(200, Math.floor(2_000_000 / a.text.length))
  const variants: Record<string, () => void> = {
    parse: () => JSON.parse(a.text),
    schema: () => slow(value),
    fast: () => a.fast(value)
  }
  const samples: Record<string, Array<number>> = { parse: [], schema: [], fast: [] }
  for (const f of Object.values(variants)) for (let i = 0; i < 3; i++) time(iterations, f) // warm-up
  const names = Object.keys(variants)
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length]!
      samples[n]!.push(time(iterations, variants[n]!))
    }
  }
  const [p, s, f] = [median(samples.parse!), median(samples.schema!), median(samples.fast!)]
  console.log(
    `| ${a.name} | ${a.text.length} | ${p.toFixed(2)} | ${s.toFixed(2)} | ${f.toFixed(2)} | ${(s / f).toFixed(1)}× |`
  )
}
