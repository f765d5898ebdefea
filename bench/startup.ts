/**
 * Start-up cost: process start → first answer printed, and peak RSS, of small programs (the
 * children in bench/startup/, compiled) against the same programs with dockerode, on one engine.
 * Every round runs every child once in a shuffled order, so load from other jobs hits all alike;
 * medians over the rounds, ratios against dockerode's program for the same operation.
 *
 *   DOCKER_HOST=unix:///tmp/effect-docker/docker-latest/docker.sock npm run bench:startup
 *
 * (`BENCH_ROUNDS`, default 10; `BENCH_ONLY=ed-ping,dockerode-ping` restricts the children.)
 * The children import `effect-docker` by name: Node resolves a package's own name through its
 * `exports`, so they load `dist/esm/index.js` (the bundled build) as an installed copy would. Peak RSS
 * is GNU time's `%M` (the child's maxrss). Then the modules each program evaluates (a load hook:
 * a figure no other job's load changes), and an esbuild bundle of `bench/startup/ed-ping-list`
 * (ping + containers.list): its size and what of it comes from src/generated.
 */
import { spawn } from "node:child_process"
import { loadavg } from "node:os"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"

/** [child, the dockerode child it is compared with] */
const children: ReadonlyArray<readonly [string, string | undefined]> = [
  ["ed-ping", "dockerode-ping"],
  ["ed-ping-readme", "dockerode-ping"],
  ["ed-list", "dockerode-list"],
  ["ed-run", "dockerode-run"],
  ["ed-import", "dockerode-import"],
  ["dockerode-ping", undefined],
  ["dockerode-list", undefined],
  ["dockerode-run", undefined],
  ["dockerode-import", undefined],
  ["floor-http", "dockerode-ping"],
  ["floor-undici", "dockerode-ping"],
  ["floor-effect", "dockerode-ping"]
]
const only = process.env.BENCH_ONLY?.split(",")
const selected = only ? children.filter(([c]) => only.includes(c)) : children

type Sample = { readonly firstLine: number; readonly exit: number; readonly rssKiB: number }
const runChild = (name: string) =>
  new Promise<Sample>((resolve, reject) => {
    const t0 = performance.now()
    let firstLine = -1
    let out = ""
    let err = ""
    const child = spawn(
      "/usr/bin/time",
      ["-f", "__RSS_KIB %M", process.execPath, join(here, "startup", `${name}.js`)],
      {
        env: { ...process.env, DOCKER_HOST: host },
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      if (firstLine < 0 && (out += c).includes("\n")) firstLine = performance.now() - t0
    })
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c))
    child.on("error", reject)
    child.on("close", (code) => {
      const exit = performance.now() - t0
      const rss = /__RSS_KIB (\d+)/.exec(err)
      if (code !== 0 || !out.startsWith("OK") || !rss) {
        reject(new Error(`${name}: exit ${code}, stdout ${JSON.stringify(out)}, stderr ${err}`))
      } else resolve({ firstLine, exit, rssKiB: Number(rss[1]) })
    })
  })

let seed = 7
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
const shuffled = <A>(xs: ReadonlyArray<A>) => {
  const order = [...xs]
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1))
    ;[order[k], order[j]] = [order[j]!, order[k]!]
  }
  return order
}
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const samples = new Map(selected.map(([c]) => [c, [] as Array<Sample>]))
const load0 = loadavg()[0]!
for (const [c] of selected) await runChild(c) // warm-up: file cache
for (let round = 0; round < ROUNDS; round++) {
  for (const [c] of shuffled(selected)) samples.get(c)!.push(await runChild(c))
}
const load1 = loadavg()[0]!

const stats = (c: string) => {
  const xs = samples.get(c)
  return xs && {
    first: median(xs.map((s) => s.firstLine)),
    exit: median(xs.map((s) => s.exit)),
    rss: median(xs.map((s) => s.rssKiB)) / 1024
  }
}
console.log(
  `node ${process.version}; ${ROUNDS} rounds; DOCKER_HOST ${host}; load average ${load0.toFixed(2)} → ${
    load1.toFixed(2)
  }`
)
console.log("| program | first answer ms | vs dockerode | exit ms | peak RSS MiB | vs dockerode |")
console.log("|---|---:|---:|---:|---:|---:|")
for (const [c, against] of selected) {
  const s = stats(c)!
  const d = against === undefined ? undefined : stats(against)
  console.log(
    `| ${c} | ${s.first.toFixed(0)} | ${d ? (s.first / d.first).toFixed(2) : ""} | ${s.exit.toFixed(0)} | ${
      s.rss.toFixed(1)
    } | ${d ? (s.rss / d.rss).toFixed(2) : ""} |`
  )
}

// --- modules each program evaluates (load-independent): a `module.registerHooks` load hook ----
// counts every module loaded, by package (`effect`, `undici`…; `src`, `generated` for ours).
const countHook = `data:text/javascript,${
  encodeURIComponent(
    `import { registerHooks } from "node:module"; import { writeSync } from "node:fs"; const seen = [];` +
      `registerHooks({ load(url, context, next) { seen.push(url); return next(url, context) } });` +
      `process.on("exit", () => { const by = {}; for (const u of seen) { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(u);` +
      `const k = m ? m[1] : u.includes("/src/generated/") ? "generated" : /\\/dist\\/(src|esm)\\//.test(u) ? "src" : u.startsWith("node:") ? "node:" : "other";` +
      `by[k] = (by[k] ?? 0) + 1 } writeSync(2, "__MODULES " + JSON.stringify({ total: seen.length, ...by }) + "\\n") })`
  )
}`
const countModules = (name: string) =>
  new Promise<Record<string, number>>((resolve, reject) => {
    let err = ""
    const child = spawn(process.execPath, ["--import", countHook, join(here, "startup", `${name}.js`)], {
      env: { ...process.env, DOCKER_HOST: host },
      stdio: ["ignore", "ignore", "pipe"]
    })
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c))
    child.on("error", reject)
    child.on("close", () => {
      const m = /__MODULES (.*)/.exec(err)
      if (m) resolve(JSON.parse(m[1]!) as Record<string, number>)
      else reject(new Error(`${name}: ${err}`))
    })
  })
console.log("\n| program | modules evaluated | effect | undici | src | generated |\n|---|---:|---:|---:|---:|---:|")
for (const name of ["ed-ping", "ed-list", "ed-run", "ed-import", "dockerode-ping"]) {
  const m = await countModules(name)
  console.log(
    `| ${name} | ${m["total"]} | ${m["effect"] ?? 0} | ${m["undici"] ?? 0} | ${m["src"] ?? 0} | ${
      m["generated"] ?? 0
    } |`
  )
}

// --- what a bundle of ping + containers.list carries from src/generated -----------------------
const { build } = await import("esbuild")
const result = await build({
  entryPoints: [join(here, "startup", "ed-ping-list.js")],
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  metafile: true,
  outdir: join(root, "dist", "bench-bundle"),
  splitting: true,
  logLevel: "silent"
})
const outputs = Object.entries(result.metafile.outputs)
const entry = outputs.find(([, o]) => o.entryPoint?.endsWith("ed-ping-list.js"))!
// What the entry loads before its first line runs: itself and its static imports, transitively.
const eager = new Set<string>()
const visit = (path: string) => {
  if (eager.has(path)) return
  eager.add(path)
  for (const i of result.metafile.outputs[path]!.imports) {
    if (i.kind === "import-statement" && !i.external) visit(i.path)
  }
}
visit(entry[0])
const tally = (paths: Iterable<string>) => {
  let total = 0
  let generated = 0
  const modules = new Set<string>()
  for (const p of paths) {
    const o = result.metafile.outputs[p]!
    total += o.bytes
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      if (/(^|\/)src\/generated\//.test(input) && bytesInOutput > 0) {
        generated += bytesInOutput
        modules.add(relative(root, input))
      }
    }
  }
  return { total, generated, modules: modules.size }
}
// What the run loads: the start, then the chunk of ContainerList's descriptor (and its static
// imports: its fast decoders) on the first list. Its Schemas are chunks of their own, loaded only
// if a fast decoder refuses an answer.
const run = new Set(eager)
const visitFrom = (path: string) => {
  if (run.has(path)) return
  run.add(path)
  for (const i of result.metafile.outputs[path]!.imports) {
    if (i.kind === "import-statement" && !i.external) visitFrom(i.path)
  }
}
for (const [path, o] of outputs) {
  if (Object.keys(o.inputs).some((i) => /operations\/container\/ContainerList\.[jt]s$/.test(i))) visitFrom(path)
}
const kb = (n: number) => `${(n / 1000).toFixed(0)} KB`
const all = tally(outputs.map(([p]) => p))
const loaded = tally(eager)
const ran = tally(run)
console.log(
  `\nesbuild bundle of ping + containers.list (esm, node, splitting, not minified): ${outputs.length} file(s)\n` +
    `| part | bytes | from src/generated | generated modules |\n|---|---:|---:|---:|\n` +
    `| loaded at start (entry + static imports) | ${kb(loaded.total)} | ${
      kb(loaded.generated)
    } | ${loaded.modules} |\n` +
    `| loaded by the run (+ ContainerList's descriptor chunk) | ${kb(ran.total)} | ${
      kb(ran.generated)
    } | ${ran.modules} |\n` +
    `| all chunks | ${kb(all.total)} | ${kb(all.generated)} | ${all.modules} |`
)
