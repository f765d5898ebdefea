/**
 * Packing a build context: a directory of 10,000 small files (plus 2,500 that its .dockerignore
 * excludes) into the tar a build sends, with our `directoryContext` against dockerode's packing
 * (`prepareBuildContext`: tar-fs + @balena/dockerignore + gzip, what `docker.buildImage({context,
 * src})` sends) and the same tar-fs packing without gzip. No daemon needed.
 *
 *   npx tsx bench/build-context.ts            (BENCH_ROUNDS=7)
 *
 * Each run is a fresh child process (so peak memory is the run's own), variants interleaved round
 * by round; the table reports medians. Before timing, every variant's archive is listed once and
 * compared with what the Docker CLI would send.
 */
import { Effect, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import * as tar from "tar-stream"
import { directoryContext } from "../src/archive/build-context.js"

const require = createRequire(import.meta.url)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const VARIANTS = ["ours", "dockerode (tar-fs + gzip)", "tar-fs, no gzip"] as const
type Variant = (typeof VARIANTS)[number]

const IGNORE = "node_modules\n**/*.tmp\n*.log\n!keep.log\nsrc/d99/*.bak\n"

/**
 * 100 directories × 100 files of 0.5–2.5 KiB kept; excluded: 2,000 files in node_modules/, 500
 * `.tmp` anywhere, 100 `.bak` in src/d99 (a pattern with a directory in it), one `.log`.
 */
const makeTree = (root: string) => {
  writeFileSync(join(root, "Dockerfile"), "FROM scratch\nCOPY . /\n")
  writeFileSync(join(root, ".dockerignore"), IGNORE)
  writeFileSync(join(root, "keep.log"), "kept\n")
  writeFileSync(join(root, "debug.log"), "excluded\n")
  for (let d = 0; d < 100; d++) {
    const dir = join(root, "src", `d${String(d).padStart(2, "0")}`)
    mkdirSync(dir, { recursive: true })
    for (let f = 0; f < 100; f++) {
      const size = 512 + ((d * 100 + f) * 37) % 2048
      writeFileSync(join(dir, `f${String(f).padStart(3, "0")}.txt`), Buffer.alloc(size, 97 + (f % 26)))
      if (f % 20 === 0) writeFileSync(join(dir, `scratch${f}.tmp`), "excluded\n")
      if (d === 99) writeFileSync(join(dir, `f${f}.bak`), "excluded by src/d99/*.bak\n")
    }
  }
  for (let p = 0; p < 10; p++) {
    const dir = join(root, "node_modules", `pkg${p}`)
    mkdirSync(dir, { recursive: true })
    for (let f = 0; f < 200; f++) writeFileSync(join(dir, `file${f}.js`), "module.exports = 1\n".repeat(20))
  }
}

/** The archive of `variant` as a Node Readable (or an Effect stream for ours). */
type Source = AsyncIterable<Buffer> | Stream.Stream<Uint8Array, unknown>

const source = (variant: Variant, root: string): Source => {
  if (variant === "ours") return directoryContext(root).tar
  const DockerIgnore = require("@balena/dockerignore") as (o: object) => {
    add(p: string): { createFilter(): (p: string) => boolean }
  }
  const filter = DockerIgnore({ ignorecase: false }).add(IGNORE).createFilter()
  const src = readdirSync(root)
  if (variant === "dockerode (tar-fs + gzip)") {
    // dockerode's own code path, as `docker.buildImage({ context, src })` runs it.
    const util = require("dockerode/lib/util") as {
      prepareBuildContext: (file: object, next: (stream: Readable) => void) => void
    }
    let out: Readable | undefined
    util.prepareBuildContext({ context: root, src }, (stream) => (out = stream))
    // prepareBuildContext reads .dockerignore asynchronously: hand back a stream that waits for it.
    return (async function*() {
      while (out === undefined) await new Promise((r) => setTimeout(r, 1))
      yield* out as AsyncIterable<Buffer>
    })()
  }
  const tarFs = require("tar-fs") as { pack: (dir: string, o: object) => Readable }
  return tarFs.pack(root, { entries: src.filter(filter), ignore: (path: string) => !filter(path) }) as AsyncIterable<
    Buffer
  >
}

const drain = async (input: Source): Promise<number> => {
  let bytes = 0
  if (!Stream.isStream(input)) {
    for await (const chunk of input) bytes += chunk.length
    return bytes
  }
  await Effect.runPromise(Stream.runForEach(input, (chunk) => Effect.sync(() => (bytes += chunk.length))))
  return bytes
}

/** The entries of the (possibly gzipped) archive. */
const list = async (variant: Variant, root: string): Promise<Array<string>> => {
  const input = source(variant, root)
  const chunks: Array<Buffer> = []
  if (!Stream.isStream(input)) { for await (const c of input) chunks.push(c) }
  else for (const c of await Effect.runPromise(Stream.runCollect(input))) chunks.push(Buffer.from(c))
  let data = Buffer.concat(chunks)
  if (data[0] === 0x1f && data[1] === 0x8b) data = (await import("node:zlib")).gunzipSync(data)
  const extract = tar.extract()
  const names: Array<string> = []
  extract.on("entry", (header, stream, next) => {
    if (header.type === "file") names.push(header.name)
    stream.on("end", next)
    stream.resume()
  })
  await new Promise<void>((resolve, reject) => {
    extract.on("finish", resolve)
    extract.on("error", reject)
    Readable.from([data]).pipe(extract)
  })
  return names
}

// --- child: one timed run --------------------------------------------------------------------

const child = async (variant: Variant, root: string) => {
  global.gc?.()
  const base = process.memoryUsage().rss
  let peak = base
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2)
  const start = performance.now()
  const bytes = await drain(source(variant, root))
  const ms = performance.now() - start
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  process.stdout.write(JSON.stringify({ ms, bytes, growthMiB: (peak - base) / 2 ** 20 }))
}

// --- parent ----------------------------------------------------------------------------------

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const parent = async () => {
  const root = mkdtempSync(join(tmpdir(), "ed-bench-ctx-"))
  try {
    makeTree(root)
    const expected = 10_000 + 3 // src files + Dockerfile, .dockerignore, keep.log
    console.log(`context: ${root} (10,000 kept files + 3, 2,701 excluded)`)
    for (const variant of VARIANTS) {
      const names = await list(variant, root)
      const leaked = names.filter((n) =>
        n.startsWith("node_modules/") || n.endsWith(".tmp") || n.endsWith(".bak") || n === "debug.log"
      )
      console.log(
        `  ${variant}: ${names.length} files in the archive` +
          (leaked.length > 0 ? `, ${leaked.length} of them excluded by .dockerignore (e.g. ${leaked[0]})` : "") +
          (names.length - leaked.length === expected ? "" : ` (expected ${expected} kept)`)
      )
    }
    const results = new Map<Variant, Array<{ ms: number; bytes: number; growthMiB: number }>>()
    const self = fileURLToPath(import.meta.url)
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(round + i) % VARIANTS.length]!
        const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", self], {
          env: { ...process.env, BENCH_CHILD: variant, BENCH_ROOT: root },
          encoding: "utf8"
        })
        const entry = results.get(variant) ?? []
        entry.push(JSON.parse(out))
        results.set(variant, entry)
      }
    }
    console.log(
      `\n| variant (median of ${ROUNDS} fresh processes) | time | files/s | MiB/s of archive | archive | peak RSS growth |`
    )
    console.log("|---|---:|---:|---:|---:|---:|")
    const ours = median(results.get("ours")!.map((r) => r.ms))
    for (const variant of VARIANTS) {
      const runs = results.get(variant)!
      const ms = median(runs.map((r) => r.ms))
      const bytes = runs[0]!.bytes
      const ratio = variant === "ours" ? "" : ` (${(ms / ours).toFixed(2)}× ours)`
      console.log(
        `| ${variant} | ${ms.toFixed(0)} ms${ratio} | ${Math.round(10_003 / (ms / 1000))} | ` +
          `${(bytes / 2 ** 20 / (ms / 1000)).toFixed(1)} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ` +
          `${median(runs.map((r) => r.growthMiB)).toFixed(1)} MiB |`
      )
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.env.BENCH_CHILD) await child(process.env.BENCH_CHILD as Variant, process.env.BENCH_ROOT!)
else await parent()
