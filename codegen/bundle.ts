/**
 * Bundle-size figure for codegen/README.md: a tiny entry using only the ContainerList and SystemPing
 * descriptors, bundled and minified with esbuild, `effect` external and bundled.
 *
 *   npm run codegen:bundle
 */
import { build } from "esbuild"
import { gzipSync } from "node:zlib"
import { repoRoot } from "./load.js"

const entries = {
  "per-operation modules": `import { ContainerList } from "./src/generated/operations/container/ContainerList.js"
import { SystemPing } from "./src/generated/operations/system/SystemPing.js"
console.log(ContainerList, SystemPing)`,
  "barrel (src/generated/index.js)": `import { ContainerList, SystemPing } from "./src/generated/index.js"
console.log(ContainerList, SystemPing)`,
  "everything (all 108 descriptors)": `import * as All from "./src/generated/operations/index.js"
console.log(All)`
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`
console.log("| entry | effect | minified | gzip |\n|---|---|---|---|")
for (const [name, contents] of Object.entries(entries)) {
  for (const external of [true, false]) {
    const result = await build({
      stdin: { contents, resolveDir: repoRoot, loader: "ts", sourcefile: "entry.ts" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      write: false,
      logLevel: "silent",
      ...(external ? { external: ["effect", "effect/*"] } : {})
    })
    const bytes = result.outputFiles[0]!.contents
    console.log(
      `| ${name} | ${external ? "external" : "bundled"} | ${kb(bytes.length)} | ${kb(gzipSync(bytes).length)} |`
    )
  }
}
