/**
 * `unpackTar`: a tar byte `Stream` (`Containers.getArchive`, `export`, `Images.save`) written into
 * a directory, refusing every entry that would land outside it. Read with `tar-stream`'s parser
 * (pax headers, long names, streaming).
 *
 * What `unpackTar` refuses (the whole extraction fails with `ArchiveError`, reason `"UnsafeEntry"`):
 * - a name or hard-link target that is absolute or has a `..` segment (PAX and GNU long names are
 *   the names checked: the parser has applied them);
 * - a symbolic link whose target is absolute, or leads outside the directory when followed on
 *   disk, links on the way included, or would make a link extracted earlier lead outside
 *   (`link-guard.ts`);
 * - any entry whose path goes **through** a symbolic link (one from the archive or one already on
 *   disk), so a link can never redirect a later write; an existing symlink at the exact path of a
 *   file entry is replaced, not written through;
 * - a non-directory entry where a directory exists.
 * Device nodes and FIFOs are skipped (and listed); set-uid/set-gid bits are dropped. An archive that
 * ends inside an entry's data fails with `"Corrupt"`, and the partial file is removed.
 */
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import { constants as fsConstants } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { withBodyStream } from "../wire/body-stream.js"
import { ArchiveError, segmentsOf, unsafe } from "./archive-error.js"
import { LinkGuard } from "./link-guard.js"

/** What `unpackTar` wrote. */
export interface UnpackResult {
  /** The regular files, as archive paths. */
  readonly files: ReadonlyArray<string>
  /** The directories. */
  readonly directories: ReadonlyArray<string>
  /** The symbolic links. */
  readonly symlinks: ReadonlyArray<string>
  /** Device nodes, FIFOs and other entries that were not extracted. */
  readonly skipped: ReadonlyArray<string>
}

const lstatOrUndefined = async (p: string) => {
  try {
    return await fs.lstat(p)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error
  }
}

const extractAll = async (
  source: AsyncIterable<Uint8Array>,
  directory: string,
  signal: AbortSignal
): Promise<UnpackResult> => {
  // tar-stream (and streamx…) loaded by the first extraction, not by `import "effect-docker"`
  const tar = await import("tar-stream")
  await fs.mkdir(directory, { recursive: true })
  const root = await fs.realpath(directory)
  const result = { files: [] as Array<string>, directories: [] as Array<string>, symlinks: [] as Array<string> }
  const skipped: Array<string> = []
  /** Directories (relative, "" = root) known to be real directories inside root. */
  const safeDirs = new Set<string>([""])
  const dirModes: Array<[string, number, Date | undefined]> = []

  /** Makes sure every parent of `segments` is a real directory inside root (creating what is missing). */
  const ensureParents = async (name: string, segments: ReadonlyArray<string>) => {
    let relative = ""
    for (const segment of segments.slice(0, -1)) {
      relative = relative === "" ? segment : `${relative}/${segment}`
      if (safeDirs.has(relative)) continue
      const full = path.join(root, relative)
      const stat = await lstatOrUndefined(full)
      if (stat === undefined) await fs.mkdir(full, { mode: 0o755 })
      else if (stat.isSymbolicLink()) throw unsafe(name, `its parent "${relative}" is a symbolic link`)
      else if (!stat.isDirectory()) throw unsafe(name, `its parent "${relative}" is not a directory`)
      safeDirs.add(relative)
    }
  }

  const links = new LinkGuard(root)
  const extract = tar.extract()
  const onAbort = () => extract.destroy(new Error("interrupted"))
  signal.addEventListener("abort", onAbort, { once: true })
  /** Set once the source has given all its bytes: an entry cut short after that is the archive's fault. */
  let sourceEnded = false
  // Feed the parser with backpressure; a failure of the source fails the entry loop below.
  const feeding = (async () => {
    for await (const chunk of source) {
      if (!extract.write(chunk)) await new Promise<void>((drained) => extract.once("drain", () => drained()))
    }
    sourceEnded = true
    extract.end(undefined)
  })().catch((error: unknown) => {
    extract.destroy(error as Error)
  })
  for await (const entry of extract) {
    const header = entry.header
    const name = header.name
    const segments = segmentsOf(name)
    if (segments === undefined) {
      entry.resume()
      throw unsafe(name, "absolute path or \"..\" segment")
    }
    const relative = segments.join("/")
    const target = path.join(root, relative)
    if (segments.length === 0) {
      entry.resume() // "./" itself
      continue
    }
    await ensureParents(name, segments)
    const existing = await lstatOrUndefined(target)
    const type = header.type ?? "file"
    if (type === "directory") {
      entry.resume()
      if (existing?.isSymbolicLink()) throw unsafe(name, "a symbolic link is in the way of this directory")
      if (existing !== undefined && !existing.isDirectory()) {
        throw unsafe(name, "a file is in the way of this directory")
      }
      if (existing === undefined) await fs.mkdir(target, { mode: 0o755 })
      safeDirs.add(relative)
      dirModes.push([target, (header.mode ?? 0o755) & 0o1777, header.mtime])
      result.directories.push(relative)
      continue
    }
    if (existing?.isDirectory()) {
      entry.resume()
      throw unsafe(name, "a directory is in the way of this entry")
    }
    if (type === "file" || type === "contiguous-file") {
      if (existing !== undefined) await fs.unlink(target) // never write through an existing link
      const file = await fs.open(
        target,
        fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
        0o600
      )
      let writing = false
      try {
        for await (const chunk of entry) {
          writing = true
          await file.write(chunk as Uint8Array)
          writing = false
        }
      } catch (error) {
        await file.close()
        await fs.unlink(target) // no partial file
        // The parser cuts an entry short when its bytes run out; other failures keep their cause
        // (a failing source, an interruption, the local disk).
        if (writing || !sourceEnded) throw error
        throw new ArchiveError({
          reason: "Corrupt",
          path: name,
          message: `unpackTar: the archive ends inside "${name}" (its header says ${header.size ?? 0} bytes)`,
          cause: error
        })
      }
      await file.close()
      await fs.chmod(target, (header.mode ?? 0o644) & 0o777)
      if (header.mtime) await fs.utimes(target, header.mtime, header.mtime)
      result.files.push(relative)
    } else if (type === "symlink") {
      entry.resume()
      const link = header.linkname ?? ""
      if (link === "" || path.isAbsolute(link)) throw unsafe(name, `symbolic link to the absolute path "${link}"`)
      const refusal = await links.refusal(segments, link)
      if (refusal !== undefined) throw unsafe(name, refusal)
      if (existing !== undefined) await fs.unlink(target)
      await fs.symlink(link, target)
      result.symlinks.push(relative)
    } else if (type === "link") {
      entry.resume()
      const linkSegments = segmentsOf(header.linkname ?? "")
      if (linkSegments === undefined || linkSegments.length === 0) {
        throw unsafe(name, `hard link to "${header.linkname}" outside the directory`)
      }
      await ensureParents(name, linkSegments)
      const source = path.join(root, ...linkSegments)
      const sourceStat = await lstatOrUndefined(source)
      if (sourceStat === undefined || !sourceStat.isFile()) {
        throw unsafe(name, `hard link to "${header.linkname}", which is not a file extracted here`)
      }
      if (existing !== undefined) await fs.unlink(target)
      await fs.link(source, target)
      result.files.push(relative)
    } else {
      entry.resume()
      skipped.push(relative)
    }
  }
  await feeding
  signal.removeEventListener("abort", onAbort)
  // Directory modes last (a read-only directory must still receive its contents), deepest first.
  for (const [dir, mode, mtime] of dirModes.reverse()) {
    await fs.chmod(dir, mode)
    if (mtime) await fs.utimes(dir, mtime, mtime)
  }
  return { ...result, skipped }
}

/**
 * Extracts a tar byte stream into `directory` (created if missing), refusing any entry that would
 * escape it (see the module doc): the first unsafe entry fails the whole extraction with
 * `ArchiveError` (`"UnsafeEntry"`), leaving what was extracted before it. A failure of `tar`
 * itself fails with that error.
 *
 * @example
 * ```ts
 * import { Containers, unpackTar } from "effect-docker"
 *
 * const copied = yield* Effect.scoped(Effect.gen(function*() {
 *   const download = yield* (yield* Containers).getArchive("web", "/etc/hostname")
 *   return yield* unpackTar(download.tar, "./out") // ./out/hostname
 * }))
 * yield* Console.log(copied.files)
 * ```
 */
export const unpackTar = <E>(
  tarBytes: Stream.Stream<Uint8Array, E>,
  directory: string
): Effect.Effect<UnpackResult, ArchiveError | E> =>
  withBodyStream(tarBytes, (iterable) =>
    Effect.tryPromise({
      try: (signal) => extractAll(iterable, directory, signal),
      catch: (error) =>
        error instanceof ArchiveError ? error : new ArchiveError({
          reason: /invalid|unexpected end|header/i.test(String((error as Error | undefined)?.message)) ?
            "Corrupt" :
            "Io",
          path: directory,
          message: `unpackTar into ${directory}: ${error instanceof Error ? error.message : String(error)}`,
          cause: error
        })
    }))
