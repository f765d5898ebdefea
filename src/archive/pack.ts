/**
 * `packTar`: files, directories and in-memory contents as a tar byte `Stream` (for
 * `Containers.putArchive`, builds, loads), written with the project's one tar writer
 * (`tar-writer.ts`): produced as it is read, file contents never held whole in memory.
 */
import * as Stream from "effect/Stream"
import { lstat, readdir, readlink } from "node:fs/promises"
import * as path from "node:path"
import { ArchiveError, segmentsOf } from "./archive-error.js"
import { failureOf, PackFailure } from "./pack-failure.js"
import { Batcher, encodeTarHeader, endOfArchive, fileData, mtimeOf, padding } from "./tar-writer.js"

/** What `packTar` puts in the archive. */
export type PackSource =
  /** A file, directory (recursively) or symlink on disk, stored as `name` (default: its basename). */
  | {
    /** The path on disk. */
    readonly path: string
    /** Its name in the archive (default: its basename). */
    readonly name?: string | undefined
  }
  /** A file made from memory. */
  | {
    /** Its name in the archive: a relative path (`dir/file.txt`). */
    readonly name: string
    /** Its bytes (a string is written as UTF-8). */
    readonly content: string | Uint8Array
    /** Permission bits (default `0o644`). */
    readonly mode?: number | undefined
    /** Modification time (default: now). */
    readonly mtime?: Date | undefined
  }

async function* packPath(local: string, name: string, batch: Batcher): AsyncGenerator<Uint8Array> {
  const stat = await lstat(local).catch((error) => {
    throw failureOf(local, error)
  })
  const common = { mode: stat.mode, mtime: mtimeOf(stat.mtimeMs) }
  if (stat.isDirectory()) {
    yield* batch.push(encodeTarHeader({ ...common, name, type: "directory", size: 0 }))
    const children = (await readdir(local).catch((error) => {
      throw failureOf(local, error)
    })).sort()
    for (const child of children) yield* packPath(path.join(local, child), `${name}/${child}`, batch)
  } else if (stat.isSymbolicLink()) {
    const linkname = await readlink(local).catch((error) => {
      throw failureOf(local, error)
    })
    yield* batch.push(encodeTarHeader({ ...common, name, type: "symlink", size: 0, linkname }))
  } else if (stat.isFile()) {
    yield* batch.push(encodeTarHeader({ ...common, name, type: "file", size: stat.size }))
    yield* fileData(local, stat.size, batch)
  } else {
    throw new PackFailure(local, "EINVAL", `${local}: not a file, directory or symlink`)
  }
}

async function* packSources(sources: ReadonlyArray<PackSource>): AsyncGenerator<Uint8Array> {
  const batch = new Batcher()
  for (const source of sources) {
    const name = source.name ?? ("path" in source ? path.basename(path.resolve(source.path)) : "")
    const segments = segmentsOf(name.replaceAll("\\", "/"))
    if (segments === undefined || segments.length === 0) {
      throw new ArchiveError({
        reason: "BadName",
        path: name,
        message: `"${name}" is not a relative path inside the archive`
      })
    }
    const clean = segments.join("/")
    if ("content" in source) {
      const content = typeof source.content === "string" ? Buffer.from(source.content) : source.content
      const mtime = mtimeOf((source.mtime ?? new Date()).getTime())
      yield* batch.push(
        encodeTarHeader({ name: clean, type: "file", size: content.length, mode: source.mode ?? 0o644, mtime })
      )
      yield* batch.push(content)
      yield* batch.zeros(padding(content.length))
    } else {
      yield* packPath(source.path, clean, batch)
    }
  }
  yield* endOfArchive(batch)
}

/**
 * A tar archive of `sources` as a byte stream, produced as it is read. Modes and mtimes are kept,
 * owners are root (`0:0`; `putArchive` with `copyUIDGID` gives them to the container user),
 * symlinks stay symlinks. A path that cannot be read fails the stream with `ArchiveError` (`Io`).
 *
 * @example
 * ```ts
 * import { Containers, packTar } from "effect-docker"
 *
 * const tar = packTar([
 *   { name: "app/config.json", content: JSON.stringify({ debug: true }) }, // from memory
 *   { path: "./README.md", name: "app/README.md" } // from disk
 * ])
 * yield* (yield* Containers).putArchive("web", "/srv", tar) // /srv/app/… in the container
 * ```
 */
export const packTar = (sources: ReadonlyArray<PackSource>): Stream.Stream<Uint8Array, ArchiveError> =>
  Stream.fromAsyncIterable({ [Symbol.asyncIterator]: () => packSources(sources) }, (error) => {
    if (error instanceof ArchiveError) return error
    const failure = failureOf("packTar", error)
    return new ArchiveError({
      reason: "Io",
      path: failure.path,
      message: `packTar: ${failure.path}: ${failure.reason}`,
      cause: error
    })
  })
