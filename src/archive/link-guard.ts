/**
 * Whether a symbolic link `unpackTar` is about to create stays inside the target directory, judged
 * the way the kernel will follow it: against what is on disk, every link on the way followed.
 *
 * A lexical check is not enough. With `s -> .` on disk, `t -> s/..` reads as "." but the kernel
 * turns `s` into the root first, so `..` lands in the root's parent; `d/s -> ..` then
 * `d/t -> s/../..` climbs two levels the same way.
 *
 * A later link can also change where an earlier, checked one leads (`t -> x/..` is harmless until
 * `x -> .` exists). So every check records the paths its resolution went through, and a new link
 * at one of those paths re-checks the links that depend on it before it is created; the entry
 * that would make any of them leave the directory is refused, and nothing is created.
 *
 * Links that were already in the directory are followed, never trusted: one that points outside
 * makes every link through it refused. They are not re-checked when a new link re-aims them, as
 * nothing records what they went through: extract into a new or empty directory for that too.
 */
import { lstat, readlink } from "node:fs/promises"
import * as path from "node:path"

/** The most links one resolution follows (Linux's own limit, after which it answers ELOOP). */
const MAX_LINKS = 40

/** Why a resolution left the directory (or could not be finished). */
class Escape {
  constructor(readonly why: string) {}
}

type Node =
  | { readonly kind: "missing" | "directory" | "other" }
  | { readonly kind: "symlink"; readonly target: string }

interface Resolution {
  /** Where it ends, as root-relative segments. */
  readonly segments: ReadonlyArray<string>
  /** Whether every segment exists on disk (else the rest was resolved by name). */
  readonly exists: boolean
}

export class LinkGuard {
  /** path (root-relative) → the links whose resolution went through it. */
  private readonly dependents = new Map<string, Set<string>>()

  constructor(private readonly root: string) {}

  /**
   * `undefined` when a link at `at` (root-relative segments, its parent a real directory) with
   * `target` stays inside, and keeps every link that goes through `at` inside; else why not.
   * Records the dependencies, so call it right before creating the link.
   */
  async refusal(at: ReadonlyArray<string>, target: string): Promise<string | undefined> {
    const own = at.join("/")
    const pending = new Map([[own, target]])
    const checks: Array<[string, Set<string>]> = []
    const ownDeps = new Set<string>()
    const ownEscape = await this.escapes(at.slice(0, -1), target, pending, ownDeps)
    if (ownEscape !== undefined) return `symbolic link "${target}" leads outside the directory (${ownEscape})`
    checks.push([own, ownDeps])
    for (const other of this.dependents.get(own) ?? []) {
      if (other === own) continue
      const node = await this.node(other, pending)
      if (node.kind !== "symlink") continue // replaced by a file since: nothing goes through it
      const deps = new Set<string>()
      const escape = await this.escapes(other.split("/").slice(0, -1), node.target, pending, deps)
      if (escape !== undefined) return `it would make the symbolic link "${other}" lead outside the directory`
      checks.push([other, deps])
    }
    for (const [link, deps] of checks) {
      for (const dep of deps) {
        let set = this.dependents.get(dep)
        if (set === undefined) this.dependents.set(dep, set = new Set())
        set.add(link)
      }
    }
    return undefined
  }

  private async escapes(
    from: ReadonlyArray<string>,
    target: string,
    pending: ReadonlyMap<string, string>,
    deps: Set<string>
  ): Promise<string | undefined> {
    try {
      await this.resolve(from, target, pending, deps, { left: MAX_LINKS })
      return undefined
    } catch (error) {
      if (error instanceof Escape) return error.why
      throw error
    }
  }

  private async node(relative: string, pending: ReadonlyMap<string, string>): Promise<Node> {
    const target = pending.get(relative)
    if (target !== undefined) return { kind: "symlink", target }
    const full = path.join(this.root, relative)
    try {
      const stat = await lstat(full)
      if (stat.isSymbolicLink()) return { kind: "symlink", target: await readlink(full) }
      return { kind: stat.isDirectory() ? "directory" : "other" }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" }
      throw error
    }
  }

  /** Follows `target` from the real directory `from`, as the kernel would; throws `Escape`. */
  private async resolve(
    from: ReadonlyArray<string>,
    target: string,
    pending: ReadonlyMap<string, string>,
    deps: Set<string>,
    budget: { left: number }
  ): Promise<Resolution> {
    if (target === "" || path.isAbsolute(target)) throw new Escape(`"${target}" is absolute or empty`)
    let segments = [...from]
    let exists = true
    for (const part of target.split("/")) {
      if (part === "" || part === ".") continue
      if (part === "..") {
        if (segments.length === 0) throw new Escape(`"${target}" climbs above the directory`)
        segments.pop()
        continue
      }
      segments.push(part)
      const relative = segments.join("/")
      deps.add(relative)
      // Past a missing name the rest is resolved by name: a real directory created there later
      // resolves the same, and a link created there re-checks this one (it is a dependency).
      if (!exists) continue
      const node = await this.node(relative, pending)
      if (node.kind === "symlink") {
        if (--budget.left < 0) throw new Escape("too many levels of symbolic links")
        const resolved = await this.resolve(segments.slice(0, -1), node.target, pending, deps, budget)
        segments = [...resolved.segments]
        exists = resolved.exists
      } else if (node.kind !== "directory") {
        exists = false
      }
    }
    return { segments, exists }
  }
}
