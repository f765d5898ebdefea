/** What the archive functions fail with, and the one rule for what an entry name may be. */
import * as Data from "effect/Data"

/** A tar archive could not be packed, read or unpacked: `reason` says how. */
export class ArchiveError extends Data.TaggedError("ArchiveError")<{
  /**
   * `Io`: reading or writing the local filesystem failed; `UnsafeEntry`: an entry would escape
   * the target directory (see the module doc); `BadName`: a name given to `packTar` is not a
   * relative path inside the archive; `Corrupt`: the bytes are not a readable tar archive.
   */
  readonly reason: "Io" | "UnsafeEntry" | "BadName" | "Corrupt"
  /** The entry name or local path concerned, when there is one. */
  readonly path: string | undefined
  /** What went wrong, in one line. */
  readonly message: string
  /** The underlying failure, for debugging. */
  readonly cause?: unknown
}> {}

/** An entry that would escape the target directory. */
export const unsafe = (name: string, why: string) =>
  new ArchiveError({ reason: "UnsafeEntry", path: name, message: `refusing tar entry "${name}": ${why}` })

/** An archive-relative name as posix segments; `undefined` if it is absolute or climbs out. */
export const segmentsOf = (name: string): Array<string> | undefined => {
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name) || name.includes("\0")) return undefined
  const segments = name.split("/").filter((s) => s !== "" && s !== ".")
  return segments.some((s) => s === "..") ? undefined : segments
}
