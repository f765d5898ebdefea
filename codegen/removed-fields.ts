/**
 * The removed-fields policy (`spec/removed-fields.yaml`): for every request parameter and body
 * field a newer spec removed, whether the executor drops it or refuses it at versions after its
 * `until`. Read by the emitter into the descriptors (`whenRemoved`); every removed field must be
 * decided, and every entry must name one.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { CodegenError, repoRoot } from "./load.js"

export type RemovedPolicy = "drop" | "refuse"

export interface RemovedFieldDecision {
  readonly policy: RemovedPolicy
  readonly reason: string
}

/** OperationId → `body.<path>` / `query.<name>` / `header.<name>` → decision. */
export type RemovedFieldTable = ReadonlyMap<string, ReadonlyMap<string, RemovedFieldDecision>>

const FILE = "spec/removed-fields.yaml"

export const loadRemovedFields = (file = join(repoRoot, FILE)): RemovedFieldTable => {
  const doc = (parse(readFileSync(file, "utf8")) ?? {}) as Record<string, Record<string, Record<string, unknown>>>
  const table = new Map<string, Map<string, RemovedFieldDecision>>()
  for (const [operation, entries] of Object.entries(doc)) {
    const decisions = new Map<string, RemovedFieldDecision>()
    for (const [key, entry] of Object.entries(entries ?? {})) {
      const where = `${FILE}: ${operation}.${key}`
      if (!/^(body\.|query\.|header\.)./.test(key)) {
        throw new CodegenError(`${where}: the key must start with body., query. or header.`)
      }
      const { policy, reason } = entry ?? {}
      if (policy !== "drop" && policy !== "refuse") {
        throw new CodegenError(`${where}: policy must be drop or refuse, not ${JSON.stringify(policy)}`)
      }
      if (typeof reason !== "string" || reason.trim() === "") throw new CodegenError(`${where}: a reason is required`)
      decisions.set(key, { policy, reason })
    }
    table.set(operation, decisions)
  }
  return table
}

/**
 * Looks decisions up as the emitter meets removed fields, and at the end refuses entries that
 * named nothing (a typo, or a field upstream restored).
 */
export const removedFieldPolicies = (table: RemovedFieldTable) => {
  const used = new Set<string>()
  return {
    /** The policy for a removed parameter or body field; a CodegenError when it was not decided. */
    policyOf: (operation: string, key: string, until: string): RemovedPolicy => {
      const decision = table.get(operation)?.get(key)
      if (decision === undefined) {
        throw new CodegenError(
          `${operation}: ${key} was removed after API ${until}: decide in ${FILE} whether the executor ` +
            `drops it (the daemon now always does what it asked) or refuses it (it would mislead)`
        )
      }
      used.add(`${operation}\u0000${key}`)
      return decision.policy
    },
    /** Fails on an entry no removed parameter or field matched. */
    checkAllUsed: (): void => {
      for (const [operation, decisions] of table) {
        for (const key of decisions.keys()) {
          if (!used.has(`${operation}\u0000${key}`)) {
            throw new CodegenError(`${FILE}: ${operation}.${key} names no removed parameter or body field`)
          }
        }
      }
    }
  }
}
