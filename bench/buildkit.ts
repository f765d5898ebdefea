/**
 * BuildKit: (1) a build of one context with BuildKit (with its session, and without) against the
 * classic builder, on one real engine, no cache, rounds interleaved, medians and ratios; (2) the
 * progress decoder's throughput on the recorded traces (test/fixtures/buildkit), against a
 * reflective protobuf decoder (protobufjs, from a .proto text written here from control.proto's
 * field numbers) of the same bytes. No daemon needed for (2).
 *
 *   DOCKER_HOST=unix:///tmp/effect-docker/docker-latest/docker.sock npm run bench:buildkit
 *   BENCH_ROUNDS=5 BENCH_DECODE_ROUNDS=9
 */
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import * as tar from "tar-stream"
import { DockerEngine, Images } from "../src/index.js"
import { decodeStatusResponse } from "../src/wire/buildkit-status.js"

const require = createRequire(import.meta.url)
const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const DECODE_ROUNDS = Number(process.env.BENCH_DECODE_ROUNDS ?? 9)
const LABEL = { "effect-docker.bench": "buildkit" }

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// --- (1) builds ------------------------------------------------------------------------------
/** 200 files of 4 KiB, a COPY and two RUNs (one writing 1,000 lines of output). */
const context = (salt: string) =>
  Stream.suspend(() => {
    const pack = tar.pack()
    pack.entry(
      { name: "Dockerfile" },
      `FROM busybox:local\nCOPY files/ /files/\nRUN echo ${salt} > /salt && ls /files | wc -l\n` +
        "RUN i=0; while [ $i -lt 1000 ]; do echo line $i; i=$((i+1)); done\n"
    )
    for (let i = 0; i < 200; i++) pack.entry({ name: `files/f${i}` }, Buffer.alloc(4096, 97 + (i % 26)))
    pack.finalize()
    return Stream.orDie(Stream.fromAsyncIterable(pack as AsyncIterable<Uint8Array>, (e) => e as Error))
  })

const VARIANTS = ["classic (version=1)", "buildkit, session", "buildkit, no session"] as const
type Variant = (typeof VARIANTS)[number]

const runtime = ManagedRuntime.make(Layer.provideMerge(Images.layer, DockerEngine.layer({ host })))

const build = (variant: Variant, salt: string) =>
  Effect.gen(function*() {
    const images = yield* Images
    const common = { networkmode: "none", nocache: true, labels: LABEL, forcerm: true }
    const started = performance.now()
    const id = variant === "classic (version=1)"
      ? (yield* images.build({ tar: context(salt) }, common)).imageId
      : (yield* images.build({ tar: context(salt) }, {
        ...common,
        builder: "buildkit",
        session: variant === "buildkit, session"
      })).imageId
    const took = performance.now() - started
    yield* images.remove(id, { force: true })
    return took
  })

const times = new Map<Variant, Array<number>>(VARIANTS.map((v) => [v, []]))
const version = await runtime.runPromise(Effect.flatMap(DockerEngine, (e) => e.apiVersion))
for (let round = 0; round < ROUNDS + 1; round++) {
  for (let k = 0; k < VARIANTS.length; k++) {
    const variant = VARIANTS[(round + k) % VARIANTS.length]!
    const took = await runtime.runPromise(build(variant, `r${round}-${k}-${Date.now()}`))
    if (round > 0) times.get(variant)!.push(took) // round 0 warms the engine up
  }
}
const classic = median(times.get("classic (version=1)")!)
console.log(`\n## Build of one context (${host}, API ${version}; ${ROUNDS} rounds, no cache, medians)\n`)
console.log("| variant | ms | × classic |")
console.log("|---|---:|---:|")
for (const variant of VARIANTS) {
  const ms = median(times.get(variant)!)
  console.log(`| ${variant} | ${ms.toFixed(0)} | ${(ms / classic).toFixed(2)} |`)
}
await runtime.dispose()

// --- (2) progress decoding ------------------------------------------------------------------
const FIXTURES = join(import.meta.dirname, "../../test/fixtures/buildkit")
const payloads: Array<Uint8Array> = []
for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".jsonl"))) {
  for (const line of readFileSync(join(FIXTURES, file), "utf8").split("\n")) {
    if (line === "") continue
    const message = JSON.parse(line) as { id?: string; aux?: unknown }
    if (message.id === "moby.buildkit.trace" && typeof message.aux === "string") {
      payloads.push(new Uint8Array(Buffer.from(message.aux, "base64")))
    }
  }
}
const bytes = payloads.reduce((n, p) => n + p.length, 0)

const protobuf = require("protobufjs") as typeof import("protobufjs")
const root = protobuf.parse(`
  syntax = "proto3";
  message Ts { int64 seconds = 1; int32 nanos = 2; }
  message Group { string id = 1; string name = 2; bool weak = 3; }
  message V { string digest = 1; repeated string inputs = 2; string name = 3; bool cached = 4; Ts started = 5;
    Ts completed = 6; string error = 7; Group progressGroup = 8; }
  message S { string ID = 1; string vertex = 2; string name = 3; int64 current = 4; int64 total = 5; Ts timestamp = 6;
    Ts started = 7; Ts completed = 8; }
  message L { string vertex = 1; Ts timestamp = 2; int64 stream = 3; bytes msg = 4; }
  message W { string vertex = 1; int64 level = 2; bytes short = 3; repeated bytes detail = 4; string url = 5;
    bytes info = 6; repeated bytes ranges = 7; }
  message StatusResponse { repeated V vertexes = 1; repeated S statuses = 2; repeated L logs = 3; repeated W warnings = 4; }
`).root
const StatusResponse = root.lookupType("StatusResponse")

const DECODERS = {
  "effect-docker decodeStatusResponse": (p: Uint8Array) => decodeStatusResponse(p).length,
  "protobufjs (reflective, toObject)": (p: Uint8Array) => {
    const m = StatusResponse.decode(p)
    return Object.keys(StatusResponse.toObject(m, { longs: Number, bytes: Uint8Array })).length
  }
} as const

const REPEAT = Math.max(1, Math.ceil((8 * 1024 * 1024) / bytes)) // ~8 MiB of payload per run
const rates = new Map<string, Array<number>>(Object.keys(DECODERS).map((k) => [k, []]))
for (let round = 0; round < DECODE_ROUNDS + 1; round++) {
  for (const [name, decode] of Object.entries(DECODERS)) {
    let sink = 0
    const started = performance.now()
    for (let r = 0; r < REPEAT; r++) for (const p of payloads) sink += decode(p)
    const seconds = (performance.now() - started) / 1000
    if (sink < 0) console.log(sink)
    if (round > 0) rates.get(name)!.push((REPEAT * payloads.length) / seconds)
  }
}
const ours = median(rates.get("effect-docker decodeStatusResponse")!)
console.log(
  `\n## Progress decoding (${payloads.length} recorded StatusResponses, ${bytes} bytes, ×${REPEAT} per run; ` +
    `${DECODE_ROUNDS} rounds, medians)\n`
)
console.log("| decoder | messages/s | MiB/s | × ours |")
console.log("|---|---:|---:|---:|")
for (const [name, list] of rates) {
  const rate = median(list)
  console.log(
    `| ${name} | ${rate.toFixed(0)} | ${(rate * bytes / payloads.length / 2 ** 20).toFixed(1)} | ${
      (rate / ours).toFixed(2)
    } |`
  )
}
