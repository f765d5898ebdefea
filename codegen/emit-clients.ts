/**
 * Stage 6b — the per-tag clients (`src/generated/clients/`): for every operation that
 * `spec/clients.yaml` lists, a method that only forwards its arguments to the descriptor, typed
 * from the descriptor, documented from the spec. Services spread these and hand-write only the
 * methods that decide something.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { HEADER, isIdent, jsdoc } from "./emit-shared.js"
import { CodegenError, repoRoot } from "./load.js"

/** What the client emitter needs to know of one operation (collected by `emit.ts`). */
export interface ClientOperation {
  readonly id: string
  /** The operations/ folder it lives in (`container`). */
  readonly group: string
  readonly method: string
  readonly path: string
  readonly summary: string | undefined
  readonly description: string | undefined
  /** Path parameters, in path order. */
  readonly pathKeys: ReadonlyArray<string>
  /** Query and header parameters: their keys, and whether one is required. */
  readonly otherKeys: ReadonlyArray<{ readonly key: string; readonly required: boolean }>
  /** A JSON body: its type's name, the module it comes from, and whether it is required. */
  readonly jsonBody:
    | { readonly type: string; readonly from: "operation" | "schema"; readonly required: boolean }
    | undefined
  readonly hasRawBody: boolean
  readonly response: "json" | "jsonStream" | "binary" | "void" | "other"
}

/** Tag folder → operationId → method name. */
export type ClientTable = ReadonlyMap<string, ReadonlyMap<string, string>>

export const loadClientTable = (file = join(repoRoot, "spec", "clients.yaml")): ClientTable => {
  const doc = parse(readFileSync(file, "utf8")) as Record<string, Record<string, string>>
  const table = new Map<string, Map<string, string>>()
  for (const [group, ops] of Object.entries(doc)) {
    const methods = new Map<string, string>()
    for (const [id, name] of Object.entries(ops)) {
      if (!isIdent(name)) throw new CodegenError(`spec/clients.yaml: ${group}.${id}: "${name}" is not an identifier`)
      methods.set(id, name)
    }
    table.set(group, methods)
  }
  return table
}

const pascal = (group: string) => group[0]!.toUpperCase() + group.slice(1)

const returnType = (op: ClientOperation): string => {
  switch (op.response) {
    case "json":
      return `Effect.Effect<${op.id}.Response, DockerError>`
    case "jsonStream":
      return `Stream.Stream<${op.id}.Message, DockerError>`
    case "binary":
      return `Stream.Stream<Uint8Array, DockerError>`
    case "void":
      return `Effect.Effect<void, DockerError>`
    case "other":
      throw new CodegenError(`${op.id}: its answer needs a hand-written method (remove it from spec/clients.yaml)`)
  }
}

const runner = (op: ClientOperation): string =>
  op.response === "json"
    ? "json"
    : op.response === "jsonStream"
    ? "messages"
    : op.response === "binary"
    ? "stream"
    : "empty"

/** One method: its signature (for the interface) and its implementation. */
const clientMethod = (op: ClientOperation, name: string) => {
  if (op.hasRawBody) throw new CodegenError(`${op.id}: a byte body needs a hand-written method`)
  const params: Array<string> = op.pathKeys.map((k) => `${k}: string`)
  const forwarded: Array<string> = [...op.pathKeys]
  const requiredOptions = op.otherKeys.some((k) => k.required)
  if (op.jsonBody) {
    // An optional body before required options cannot be an optional parameter (TS1016): it is
    // then a positional `T | undefined` (VolumeUpdate: `update(name, body, { version })`).
    params.push(
      op.jsonBody.required
        ? `body: ${op.jsonBody.type}`
        : requiredOptions
        ? `body: ${op.jsonBody.type} | undefined`
        : `body?: ${op.jsonBody.type}`
    )
    forwarded.push(op.jsonBody.required ? "body" : "...(body === undefined ? {} : { body })")
  }
  const omitted = [...op.pathKeys, ...(op.jsonBody ? ["body"] : [])]
  const optionsType = omitted.length === 0
    ? `${op.id}Args`
    : `Omit<${op.id}Args, ${omitted.map((k) => JSON.stringify(k)).join(" | ")}>`
  if (op.otherKeys.length > 0) {
    params.push(`options${requiredOptions ? "" : "?"}: ${optionsType}`)
  }
  const args = op.otherKeys.length === 0
    ? (forwarded.length === 0 ? undefined : `{ ${forwarded.join(", ")} }`)
    : forwarded.length === 0
    ? "options"
    : `{ ...options, ${forwarded.join(", ")} }`
  // The descriptor module is imported on first use (src/core/lazy.ts): a program evaluates only
  // the generated modules of the operations it calls.
  const lazy = op.response === "jsonStream" || op.response === "binary" ? "streamWithDescriptor" : "withDescriptor"
  const call = `${lazy}(${op.id}$, (d) => engine.${runner(op)}(d${args === undefined ? "" : `, ${args}`}))`
  // Some summaries are quoted and run over lines in the spec (VolumeUpdate's): one line, unquoted.
  const summary = op.summary?.replace(/\s+/g, " ").trim().replace(/^"(.*)"$/, "$1")
  const doc = [
    `${summary ?? op.id} — \`${op.method} ${op.path}\` (${op.id}).`,
    op.description && op.description !== op.summary && op.description !== summary ? op.description : undefined
  ].filter(Boolean).join(" ")
  return {
    signature: jsdoc(doc, "  ") + `  readonly ${name}: (${params.join(", ")}) => ${returnType(op)}\n`,
    implementation: `  ${name}: (${params.map((p) => p.split(":")[0]!.replace("?", "")).join(", ")}) => ${call}`,
    lazy
  }
}

/** `clients/<group>.ts` for every group of the table, and `clients/index.ts`. */
export const emitClients = (ops: ReadonlyArray<ClientOperation>, table: ClientTable): Map<string, string> => {
  const files = new Map<string, string>()
  const byId = new Map(ops.map((op) => [op.id, op]))
  const groups = [...table.keys()].sort()
  for (const group of groups) {
    const methods = [...table.get(group)!]
    const signatures: Array<string> = []
    const implementations: Array<string> = []
    const imports: Array<string> = []
    const lazies: Array<string> = []
    const helpers = new Set<string>(["lazyDescriptor"])
    let effect = false
    let stream = false
    for (const [id, name] of methods) {
      const op = byId.get(id)
      if (op === undefined) throw new CodegenError(`spec/clients.yaml: ${group}.${id} is not an operation`)
      if (op.group !== group) throw new CodegenError(`spec/clients.yaml: ${id} is in ${op.group}, not ${group}`)
      const m = clientMethod(op, name)
      signatures.push(m.signature)
      implementations.push(m.implementation)
      const types = [
        ...(op.otherKeys.length > 0 ? [`type ${id}Args`] : []),
        ...(op.jsonBody?.from === "operation" ? [`type ${op.jsonBody.type}`] : [])
      ]
      const named = [
        ...(returnType(op).includes(`${id}.`) ? [id] : []),
        ...types.map((t) => t.slice("type ".length))
      ]
      if (named.length > 0) imports.push(`import type { ${named.join(", ")} } from "../operations/${group}/${id}.js"`)
      lazies.push(
        `const ${id}$ = lazyDescriptor(() => import("../operations/${group}/${id}.js").then((m) => m.${id}))\n`
      )
      helpers.add(m.lazy)
      if (op.jsonBody?.from === "schema") {
        imports.push(`import type { ${op.jsonBody.type} } from "../schemas/${op.jsonBody.type}.js"`)
      }
      if (op.response === "json" || op.response === "void") effect = true
      else stream = true
    }
    const fx = [effect ? "Effect" : "", stream ? "Stream" : ""].filter(Boolean)
      .map((m) => `import type * as ${m} from "effect/${m}"\n`).join("")
    const type = `${pascal(group)}Client`
    files.set(
      `clients/${group}.ts`,
      HEADER +
        fx +
        `import type { OperationRunner } from "../../core/descriptor.js"\n` +
        `import type { DockerError } from "../../core/errors.js"\n` +
        `import { ${[...helpers].sort().join(", ")} } from "../../core/lazy.js"\n` +
        [...new Set(imports)].sort().join("\n") + "\n\n" +
        lazies.join("") + "\n" +
        jsdoc(`The ${group} operations that only forward their arguments (spec/clients.yaml).`, "") +
        `export interface ${type} {\n${signatures.join("")}}\n\n` +
        jsdoc(`The ${group} pass-through methods over \`engine\`.`, "") +
        `export const make${type} = (engine: OperationRunner): ${type} => ({\n${implementations.join(",\n")}\n})\n`
    )
  }
  files.set(
    "clients/index.ts",
    HEADER + groups.map((g) => `export * from "./${g}.js"`).join("\n") + "\n"
  )
  return files
}
