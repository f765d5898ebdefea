// The package's JavaScript: src/ bundled by esbuild into dist/esm/ (declarations come from tsc,
// into dist/src/). One file per module cost a ping's start ≈ 0.27 ms of Node's ESM resolution
// and loading per module for ~85 modules of ours (bench/README.md, "Start-up": 1.49 → 1.22×
// dockerode's first answer). What stays apart:
// - every dependency (`packages: "external"`): effect is a peer, one copy for the app; undici and
//   the rest are the user's to update;
// - each `import()` target (a descriptor, a lazily loaded codec) is a chunk of its own, so a
//   program still evaluates only what it calls;
// - the Node.js version check (`core/node-version.ts`) is a file of its own, and each entry point
//   the package exports is a two-line module importing it before the bundle
//   (`dist/esm/index.js` → `./node-version.js`, then `./bundle/index.js`): ESM evaluates imports in
//   order, so the check runs before undici is evaluated, whatever order esbuild gives the chunks'
//   imports (cross-chunk imports come first in its output). Bundlers keep it (`sideEffects`).
import { build } from "esbuild"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(root, "dist", "esm")
rmSync(out, { recursive: true, force: true })
const entries = { "index": "src/index.ts", "buildkit": "src/buildkit.ts", "generated/index": "src/generated/index.ts" }
await build({
  absWorkingDir: root,
  entryPoints: Object.entries(entries).map(([name, file]) => ({ in: file, out: `bundle/${name}` })),
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning"
})
await build({
  absWorkingDir: root,
  entryPoints: ["src/core/node-version.ts"],
  outfile: join(out, "node-version.js"),
  format: "esm",
  platform: "node",
  target: "node22",
  logLevel: "warning"
})
for (const name of Object.keys(entries)) {
  const up = "../".repeat(name.split("/").length - 1) || "./"
  mkdirSync(dirname(join(out, name)), { recursive: true })
  writeFileSync(
    join(out, `${name}.js`),
    `import "${up}node-version.js"\nexport * from "${up}bundle/${name}.js"\n`
  )
}
