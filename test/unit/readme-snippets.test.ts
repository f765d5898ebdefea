/**
 * Every ```ts block of the README, and of an `@example` in a doc comment of src/ (what the API
 * reference of `npm run docs` shows), type-checks against the package (through the
 * `effect-docker` path mapping of tsconfig.json), so an example cannot silently stop compiling. A
 * block that is a fragment (it `yield*`s at the top) is checked as the body of an `Effect.gen`;
 * the modules the fragments use without importing them (Effect, Stream, Console, NodeSink,
 * createWriteStream) are provided, as a reader would have them in the surrounding program.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))

const PRELUDE: ReadonlyArray<readonly [string, string]> = [
  ["Effect", `import * as Effect from "effect/Effect"`],
  ["Stream", `import * as Stream from "effect/Stream"`],
  ["Console", `import * as Console from "effect/Console"`],
  ["NodeSink", `import * as NodeSink from "@effect/platform-node/NodeSink"`],
  ["createWriteStream", `import { createWriteStream } from "node:fs"`]
]

/** A README block as a module: its imports, the prelude it lacks, its body (wrapped when it yields). */
const snippetModule = (block: string): string => {
  // blocks inside a list item are indented: dedent them
  const indent = Math.min(...block.split("\n").filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length))
  const lines = block.split("\n").map((line) => line.slice(indent))
  const imports = lines.filter((line) => /^import\b/.test(line))
  const body = lines.filter((line) => !/^import\b/.test(line)).join("\n")
  const imported = imports.join("\n")
  const prelude = PRELUDE.filter(([name]) => !new RegExp(`\\b${name}\\b`).test(imported)).map(([, line]) => line)
  const wrapped = /^\s*(const .*= )?yield\*/m.test(body)
    ? `export const snippet = Effect.gen(function*() {\n${body}\n})\n`
    : body
  return [...imports, ...prelude, "", wrapped].join("\n")
}

const readme = readFileSync(join(root, "README.md"), "utf8")
const readmeBlocks = [...readme.matchAll(/```ts\n([\s\S]*?)^ *```/gm)].map((m) => m[1]!)

/** The ```ts blocks of the `@example` tags of `text`'s doc comments, their ` * ` margins removed. */
const exampleBlocks = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(/\/\*\*[\s\S]*?\*\//g)].flatMap(([comment]) => {
    const lines = comment.split("\n").map((line) => line.replace(/^\s*\* ?/, ""))
    const examples = lines.join("\n").split(/^@example\b.*$/m).slice(1).map((part) => part.split(/^@\w+/m)[0]!)
    return examples.flatMap((part) => [...part.matchAll(/```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!))
  })

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
      ? [join(dir, entry.name)]
      : []
  )
/** `[where, block]` of every `@example` block in src/. */
const sourceBlocks = sourceFiles(join(root, "src")).flatMap((file) =>
  exampleBlocks(readFileSync(file, "utf8")).map((block, i) =>
    [`${relative(root, file)}#example-${i + 1}`, block] as const
  )
)

describe("README and @example code blocks", () => {
  it("there are blocks to check", () => {
    expect(readmeBlocks.length).toBeGreaterThanOrEqual(5)
    expect(sourceBlocks.length).toBeGreaterThanOrEqual(10)
  })

  it("every ```ts block, and every @example block of src/, type-checks against the package", () => {
    const config = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile).config
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root)
    // Examples name values they do not use afterwards: that is not an error here.
    const options = { ...parsed.options, noUnusedLocals: false, noUnusedParameters: false, noEmit: true }
    const blocks = [
      ...readmeBlocks.map((block, i) => [`readme-block-${i + 1}`, block] as const),
      ...sourceBlocks.map(([where, block]) => [where.replace(/[/.#]/g, "_"), block] as const)
    ]
    const files = new Map(blocks.map(([name, block]) => [join(root, `${name}.ts`), snippetModule(block)]))
    const host = ts.createCompilerHost(options)
    const getSourceFile = host.getSourceFile
    host.getSourceFile = (name, language, ...rest) => {
      const text = files.get(name)
      return text !== undefined ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest)
    }
    const fileExists = host.fileExists
    host.fileExists = (name) => files.has(name) || fileExists(name)
    const program = ts.createProgram([...files.keys()], options, host)
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.has(d.file.fileName))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
        const text = d.file!.text.split("\n")[line]?.trim()
        return `${d.file!.fileName.slice(root.length)}:${line + 1}: ${
          ts.flattenDiagnosticMessageText(d.messageText, "\n")
        } — ${text}`
      })
    expect(problems).toEqual([])
  }, 120_000)
})
