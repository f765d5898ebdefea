/**
 * Logs-follow throughput against one real engine, in one process: a container writes ≥ 64 MiB to
 * stdout (1 KiB lines, json-file log driver) and exits; then, round by round, each variant reads
 * `GET /containers/{id}/logs?follow=1&stdout=1&stderr=1` to the end:
 *
 * - raw socket: `net.connect` + a hand-written request, bytes counted as they arrive (no HTTP
 *   parsing, no dechunking, no demux): the floor any client can reach;
 * - raw undici: `Pool.request`, body bytes counted (HTTP parsing and dechunking, no demux): the
 *   floor for an HTTP client;
 * - effect-docker `Containers.logs` (demultiplexed frames, consumed an array at a time), and the
 *   same through `stdoutBytes`;
 * - dockerode `container.logs({ follow: true })` + docker-modem's `demuxStream` into counting
 *   writables (what dockerode users run).
 *
 *   DOCKER_HOST=unix:///tmp/effect-docker/docker-20.10/docker.sock npm run bench:logs   (BENCH_ROUNDS=7 BENCH_MIB=64)
 *
 * The container is labelled `effect-docker.bench` and removed at the end.
 */
import Dockerode from "dockerode"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { connect } from "node:net"
import { Writable } from "node:stream"
import { Pool } from "undici"
import { Containers, DockerEngine, stdoutBytes } from "../src/index.js"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
if (!host.startsWith("unix://")) throw new Error("bench: DOCKER_HOST must be a unix socket")
const socketPath = host.slice("unix://".length)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const MIB = Number(process.env.BENCH_MIB ?? 64)
const IMAGE = process.env.BENCH_IMAGE ?? "busybox:local"

const runtime = ManagedRuntime.make(Layer.provideMerge(Containers.layer, DockerEngine.layer({ host })))
const run = <A, E>(effect: Effect.Effect<A, E, Containers | DockerEngine>) => runtime.runPromise(effect)
const apiVersion = await run(Effect.flatMap(DockerEngine, (e) => e.apiVersion))
const dockerode = new Dockerode({ socketPath })

// --- the log --------------------------------------------------------------------------------
const bytes = MIB * 1024 * 1024
const created = await run(Effect.flatMap(Containers, (c) =>
  c.create({
    Image: IMAGE,
    Cmd: ["sh", "-c", `line=$(head -c 1023 /dev/zero | tr '\\0' a); yes "$line" | head -c ${bytes}`],
    Labels: { "effect-docker.bench": "logs" },
    HostConfig: { NetworkMode: "none", LogConfig: { Type: "json-file", Config: {} } }
  })))
const id = created.Id
const cleanup = () => run(Effect.flatMap(Containers, (c) => c.remove(id, { force: true })))
process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)))

await run(Effect.flatMap(Containers, (c) => Effect.andThen(c.start(id), c.wait(id))))
const logPath = `/containers/${id}/logs?follow=1&stdout=1&stderr=1`

// --- variants: each returns the payload bytes it delivered ------------------------------------
const rawSocket = () =>
  new Promise<number>((resolve, reject) => {
    const socket = connect(socketPath)
    let total = 0
    socket.on("data", (chunk: Buffer) => (total += chunk.length))
    socket.on("end", () => resolve(total))
    socket.on("error", reject)
    socket.write(`GET /v${apiVersion}${logPath} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`)
  })

/** undici's `request`, body bytes counted: HTTP parsing and dechunking, no demux. */
const undiciPool = new Pool("http://docker", { connect: { socketPath } })
const rawUndici = async () => {
  const response = await undiciPool.request({ method: "GET", path: `/v${apiVersion}${logPath}` })
  let total = 0
  for await (const chunk of response.body) total += (chunk as Buffer).length
  return total
}

const ours = () =>
  run(Effect.flatMap(Containers, (c) => {
    let total = 0
    return Effect.as(
      Stream.runForEachArray(c.logs(id, { follow: true, tty: false }), (frames) =>
        Effect.sync(() => {
          for (const frame of frames) total += frame.data.length
        })),
      total
    ).pipe(Effect.map(() => total))
  }))

const oursStdoutBytes = () =>
  run(Effect.flatMap(Containers, (c) => {
    let total = 0
    return Stream.runForEachArray(stdoutBytes(c.logs(id, { follow: true, tty: false })), (chunks) =>
      Effect.sync(() => {
        for (const chunk of chunks) total += chunk.length
      })).pipe(Effect.map(() => total))
  }))

const viaDockerode = async () => {
  let total = 0
  const counter = () =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        total += chunk.length
        callback()
      }
    })
  const stream = await dockerode.getContainer(id).logs({ follow: true, stdout: true, stderr: true })
  await new Promise<void>((resolve, reject) => {
    dockerode.modem.demuxStream(stream, counter(), counter())
    stream.on("end", () => resolve())
    stream.on("error", reject)
  })
  return total
}

const variants: ReadonlyArray<readonly [string, () => Promise<number>]> = [
  ["raw socket read (no parsing)", rawSocket],
  ["raw undici request (HTTP parsing, no demux)", rawUndici],
  ["effect-docker Containers.logs (frames)", ours],
  ["effect-docker logs → stdoutBytes", oursStdoutBytes],
  ["dockerode logs + demuxStream", viaDockerode]
]

// --- rounds -----------------------------------------------------------------------------------
const results = new Map<string, Array<number>>(variants.map(([name]) => [name, []]))
/** Client CPU (user + system) per MiB: what the reader costs, whatever the daemon's pace. */
const cpu = new Map<string, Array<number>>(variants.map(([name]) => [name, []]))
const sizes = new Map<string, number>()
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < variants.length; i++) {
      const [name, read] = variants[(i + round) % variants.length]!
      const start = process.hrtime.bigint()
      const cpuStart = process.cpuUsage()
      const got = await read()
      const used = process.cpuUsage(cpuStart)
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      results.get(name)!.push(got / 1024 / 1024 / seconds)
      cpu.get(name)!.push((used.user + used.system) / 1000 / (got / 1024 / 1024))
      sizes.set(name, got)
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`)
  }
} finally {
  await cleanup()
  await runtime.dispose()
  await undiciPool.close()
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
const rawMedian = median(results.get(variants[0]![0])!)
console.log(
  `\nengine ${host} (API ${apiVersion}), ${MIB} MiB of 1 KiB lines, ${ROUNDS} rounds, Node ${process.version}\n`
)
console.log("| variant | bytes read | median MiB/s | min–max | vs raw | client CPU ms/MiB |")
console.log("|---|---:|---:|---:|---:|---:|")
for (const [name] of variants) {
  const values = results.get(name)!
  const m = median(values)
  console.log(
    `| ${name} | ${sizes.get(name)} | ${m.toFixed(1)} | ${Math.min(...values).toFixed(1)}–${
      Math.max(...values).toFixed(1)
    } | ${(m / rawMedian * 100).toFixed(0)}% | ${median(cpu.get(name)!).toFixed(2)} |`
  )
}
