/**
 * Saving a big image to disk (`GET /images/{name}/get` streamed into a file): throughput and peak
 * RSS growth of `Images.save` piped into a file sink, against dockerode's `getImage().get()` piped
 * into a file. The image (≥ 256 MiB: busybox:local plus a 256 MiB layer of random bytes) is built
 * first and removed at the end.
 *
 *   npx tsx bench/save.ts     (BENCH_ROUNDS=5; engine: BENCH_DOCKER_HOST, else docker-20.10
 *                              of scripts/engines.sh, else DOCKER_HOST)
 */
import { NodeSink } from "@effect/platform-node"
import Docker from "dockerode"
import { Effect, Layer, Stream } from "effect"
import { createWriteStream, mkdtempSync, rmSync, statSync, type WriteStream } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { finished, pipeline } from "node:stream/promises"
import v8 from "node:v8"
import vm from "node:vm"
import { DockerEngine } from "../src/engine/engine.js"
import { packTar } from "../src/index.js"
import { Images } from "../src/services/images.js"
import { engineTarget } from "../test/support/engines.js"

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const host = process.env.BENCH_DOCKER_HOST ?? engineTarget("docker-20.10")?.host ?? process.env.DOCKER_HOST ??
  "unix:///var/run/docker.sock"
const TAG = `effect-docker-bench-save:${process.pid}`
const LAYER_BYTES = 256 * 1024 * 1024

/** Runs `run` with RSS sampled every 2 ms; returns its time and the peak growth over the baseline. */
const measure = async (run: () => Promise<void>) => {
  gc()
  const base = process.memoryUsage().rss
  let peak = base
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2)
  const start = performance.now()
  await run()
  const ms = performance.now() - start
  clearInterval(sampler)
  return { ms, growthMiB: (Math.max(peak, process.memoryUsage().rss) - base) / 2 ** 20 }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const program = Effect.gen(function*() {
  const images = yield* Images
  const dir = mkdtempSync(join(tmpdir(), "ed-bench-save-"))
  yield* Effect.addFinalizer(() =>
    Effect.andThen(
      Effect.ignore(images.remove(TAG, { force: true })),
      Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
  )
  console.log(`engine ${host}: building ${TAG} (busybox:local + ${LAYER_BYTES / 2 ** 20} MiB of random bytes)…`)
  const built = yield* images.build({
    tar: packTar([{
      name: "Dockerfile",
      content: `FROM busybox:local\nRUN head -c ${LAYER_BYTES} /dev/urandom > /big.bin\n`
    }])
  }, { t: [TAG], labels: { "effect-docker.bench": "save" } })
  const size = (yield* images.inspect(built.imageId)).Size ?? 0
  console.log(`image ${built.imageId.slice(0, 19)}…, ${(size / 2 ** 20).toFixed(0)} MiB`)

  const file = join(dir, "image.tar")
  const docker = new Docker({ socketPath: new URL(host).pathname })
  const variants = {
    "ours: Images.save → NodeSink file": () =>
      Effect.runPromise(Effect.gen(function*() {
        let out: WriteStream | undefined
        yield* images.save(TAG).pipe(Stream.run(NodeSink.fromWritable({
          evaluate: () => (out = createWriteStream(file)),
          onError: (error) => error
        })))
        if (out) yield* Effect.promise(() => finished(out!))
      })),
    "dockerode: getImage().get() → pipeline file": async () => {
      const stream = await docker.getImage(TAG).get()
      await pipeline(stream, createWriteStream(file))
    }
  }
  const results = new Map<string, Array<{ ms: number; growthMiB: number; bytes: number }>>()
  const names = Object.keys(variants) as Array<keyof typeof variants>
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!
      const result = yield* Effect.promise(() => measure(variants[name]))
      const bytes = statSync(file).size
      rmSync(file)
      const list = results.get(name) ?? []
      list.push({ ...result, bytes })
      results.set(name, list)
    }
  }
  console.log(`\n| variant (median of ${ROUNDS}) | archive | time | MiB/s | peak RSS growth (max) |`)
  console.log("|---|---:|---:|---:|---:|")
  for (const name of names) {
    const runs = results.get(name)!
    const ms = median(runs.map((r) => r.ms))
    const bytes = runs[0]!.bytes
    console.log(
      `| ${name} | ${(bytes / 2 ** 20).toFixed(0)} MiB | ${(ms / 1000).toFixed(2)} s | ` +
        `${(bytes / 2 ** 20 / (ms / 1000)).toFixed(0)} | ${median(runs.map((r) => r.growthMiB)).toFixed(1)} MiB ` +
        `(${Math.max(...runs.map((r) => r.growthMiB)).toFixed(1)}) |`
    )
  }
}).pipe(
  Effect.scoped,
  Effect.provide(Layer.provideMerge(Images.layer, DockerEngine.layer({ host })))
)

await Effect.runPromise(program)
