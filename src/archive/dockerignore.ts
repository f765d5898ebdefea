/**
 * `.dockerignore` as the Docker CLI reads and applies it (`docker build` with the classic builder):
 *
 * - patterns are read and matched by `@balena/dockerignore`, a port of moby's `fileutils` /
 *   `patternmatcher` (case-sensitive here, as on Linux: its default ignores case);
 * - a path is excluded when the last matching pattern excludes it, where a pattern also matches
 *   every path below a directory it matches; `!` re-includes;
 * - an excluded directory is not walked unless a `!` pattern starts with its path (the CLI's
 *   literal-prefix rule: `!dir/keep` re-includes `dir/keep`, `!**‍/keep` does not reach into `dir`);
 * - the Dockerfile and `.dockerignore` are always sent (the CLI appends `!<dockerfile>` and
 *   `!.dockerignore` when they would be excluded).
 *
 * Pure: matching only; walking the directory is `build-context.ts`.
 */
import dockerignore from "@balena/dockerignore"
import { posix, sep } from "node:path"

/** The CLI's reading of a `.dockerignore`: one pattern per line, `#` comments, blanks dropped. */
export const parseDockerignore = (text: string): Array<string> =>
  text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))

/** A pattern as the matcher stores it (cleaned, no leading `/`), with its `!`. */
const cleanPattern = (raw: string): { readonly pattern: string; readonly exclusion: boolean } | undefined => {
  let pattern = raw.trim()
  let exclusion = false
  if (pattern.startsWith("!")) {
    exclusion = true
    pattern = pattern.slice(1).trim()
  }
  if (pattern === "") return undefined
  pattern = posix.normalize(pattern)
  if (pattern.length > 1 && pattern.endsWith("/")) pattern = pattern.slice(0, -1)
  if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1)
  return { pattern, exclusion }
}

/** Decides, for slash-separated paths relative to the context, what is left out. */
export interface ContextMatcher {
  /** Whether `path` is excluded. */
  readonly excludes: (path: string) => boolean
  /** Whether an excluded directory must still be walked (a `!` pattern starts with its path). */
  readonly mayReinclude: (directory: string) => boolean
}

/**
 * The matcher for `patterns` (lines of a `.dockerignore`), with the CLI's additions that keep the
 * Dockerfile and `.dockerignore` in the context.
 */
export const contextMatcher = (patterns: ReadonlyArray<string>, dockerfile = "Dockerfile"): ContextMatcher => {
  const lines = [...patterns]
  const base = dockerignore.default({ ignorecase: false }).add(lines)
  if (base.ignores(".dockerignore")) lines.push("!.dockerignore")
  const dockerfilePath = dockerfile.split(sep).join("/")
  if (base.ignores(dockerfilePath)) lines.push(`!${dockerfilePath}`)
  const matcher = lines.length === patterns.length ? base : dockerignore.default({ ignorecase: false }).add(lines)
  const exclusions = lines.map(cleanPattern).filter((p) => p !== undefined && p.exclusion).map((p) => p!.pattern)
  return {
    excludes: (path) => matcher.ignores(path),
    mayReinclude: (directory) => {
      const prefix = `${directory}/`
      return exclusions.some((pattern) => `${pattern}/`.startsWith(prefix))
    }
  }
}
