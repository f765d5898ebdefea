/**
 * The generator: load → errata → intermediate model → diff across versions → merge (the union of
 * every schema across versions) → emit.
 *
 *   npm run codegen          regenerate src/generated/
 *   npm run codegen:check    regenerate into a temp dir, fail with a diff summary if src/generated/ differs
 *   tsx codegen/main.ts --out <dir>
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { diffSpecs } from "./diff.js"
import { loadClientTable } from "./emit-clients.js"
import { emit, type EmitOutput } from "./emit.js"
import { applyErrata, loadErrata } from "./errata.js"
import { CodegenError, loadSpecs, repoRoot } from "./load.js"
import { mergeSpecs } from "./merge.js"
import { loadRemovedFields } from "./removed-fields.js"

export const generate = (): EmitOutput => {
  const raw = loadSpecs()
  const errata = loadErrata()
  const { applied, specs } = applyErrata(raw, errata)
  const diff = diffSpecs(specs)
  const merged = mergeSpecs(specs)
  return emit({
    newest: specs[specs.length - 1]!,
    diff,
    merged,
    errata,
    applied,
    clients: loadClientTable(),
    removedFields: loadRemovedFields()
  })
}

export const writeTree = (dir: string, files: ReadonlyMap<string, string>): void => {
  rmSync(dir, { recursive: true, force: true })
  for (const [rel, content] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = join(dir, rel)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, content)
  }
}

const readTree = (dir: string): Map<string, string> => {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    let entries: Array<import("node:fs").Dirent>
    try {
      entries = readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.set(relative(dir, p).split("\\").join("/"), readFileSync(p, "utf8"))
    }
  }
  walk(dir)
  return out
}

/** A readable summary of how `actual` (committed) differs from `expected` (fresh). */
export const compareTrees = (
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>
): Array<string> => {
  const lines: Array<string> = []
  for (const [f, content] of expected) {
    const a = actual.get(f)
    if (a === undefined) lines.push(`  missing  ${f}`)
    else if (a !== content) {
      const el = content.split("\n")
      const al = a.split("\n")
      const i = el.findIndex((l, n) => l !== al[n])
      lines.push(`  changed  ${f} (first difference at line ${i + 1})`)
      lines.push(`             committed: ${JSON.stringify(al[i] ?? "<eof>").slice(0, 140)}`)
      lines.push(`             generated: ${JSON.stringify(el[i] ?? "<eof>").slice(0, 140)}`)
    }
  }
  for (const f of actual.keys()) if (!expected.has(f)) lines.push(`  extra    ${f} (not produced by the generator)`)
  return lines
}

const main = () => {
  const args = process.argv.slice(2)
  const started = Date.now()
  const out = generate()
  const target = join(repoRoot, "src", "generated")
  const summary = `${out.stats.operations} operations, ${out.stats.definitions} definitions, ` +
    `${out.stats.inlineSchemas} inline schemas, ${out.files.size} files`
  if (args[0] === "--check") {
    const tmp = mkdtempSync(join(tmpdir(), "effect-docker-codegen-"))
    try {
      writeTree(tmp, out.files)
      const diffs = compareTrees(readTree(tmp), readTree(target))
      if (diffs.length > 0) {
        console.error(
          `codegen:check FAILED: src/generated/ is not what the generator produces (${diffs.length} lines):`
        )
        console.error(diffs.slice(0, 60).join("\n"))
        if (diffs.length > 60) console.error(`  … ${diffs.length - 60} more`)
        console.error(`Run \`npm run codegen\` and commit the result (never edit src/generated/ by hand).`)
        process.exit(1)
      }
      console.log(`codegen:check ok — ${summary} (${Date.now() - started} ms)`)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
    return
  }
  const dir = args[0] === "--out" && args[1] ? args[1] : target
  writeTree(dir, out.files)
  console.log(`codegen: wrote ${relative(process.cwd(), dir) || dir} — ${summary} (${Date.now() - started} ms)`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    main()
  } catch (e) {
    if (e instanceof CodegenError) {
      console.error(`codegen: ${e.message}`)
      process.exit(1)
    }
    throw e
  }
}
