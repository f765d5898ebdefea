/**
 * Build contexts: a directory packed as a tar `Stream`, honouring `.dockerignore` exactly as the
 * Docker CLI does (`dockerignore.ts`). The Dockerfile and `.dockerignore` are always sent, and a
 * Dockerfile outside the context is added under `.dockerfile.<random>` and listed in the sent
 * `.dockerignore` (so `COPY . .` skips it).
 *
 * Entries are packed lazily while the request body is read: directories are listed and files read
 * only as the daemon takes bytes, in 64 KiB batches, so the context is never held in memory.
 * Owners are 0:0 and modes and mtimes are kept (as the CLI's `ChownOpts{0,0}`); sockets and
 * devices are skipped; symlinks are sent as links.
 *
 * Nothing outside the context is sent, except a Dockerfile named outside it (the CLI's rules, read
 * from docker/cli `cli/command/image/build/context.go` and `dockerignore.go`, where they are safe;
 * stricter where the CLI would leak):
 * - the context directory is resolved through links first (the CLI's `EvalSymlinks`);
 * - links inside the context are sent as links, never followed, and a file is opened without
 *   following links, so one swapped for a link while packing fails instead of sending its target;
 * - `.dockerignore` is read through a link, as the CLI reads it, but only to decide what is left
 *   out; it must be a regular file (a directory fails, as in the CLI; a FIFO fails at once where
 *   the CLI would block forever). When the rewritten `.dockerignore` of an outside Dockerfile is
 *   sent, its text is the link target's only when that is inside the context (the CLI keeps the
 *   link's header, which cannot hold the data, and would fail);
 * - a Dockerfile inside the context (the default, or a path inside it) that leads outside through a
 *   link fails with `BuildContextError` (code `OutsideContext`): the CLI would send the target's
 *   content (a path given with `-f`) or fail (the default). Name an outside Dockerfile by its
 *   own path to send one on purpose; it must be a regular file.
 */
import * as Data from "effect/Data"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { lstat, readdir, readlink, realpath } from "node:fs/promises"
import { isAbsolute, join, relative, resolve, sep } from "node:path"
import { type ContextMatcher, contextMatcher, parseDockerignore } from "./dockerignore.js"
import { failureOf, PackFailure } from "./pack-failure.js"
import { readRegularFile } from "./regular-file.js"
import { Batcher, encoder, encodeTarHeader, endOfArchive, fileData, mtimeOf, padding } from "./tar-writer.js"

/** A file of the context could not be read while packing. */
export class BuildContextError extends Data.TaggedError("BuildContextError")<{
  /** The file or directory (absolute). */
  readonly path: string
  /**
   * The system error code (`ENOENT`, `EACCES`, `EISDIR`, `EINVAL` for a FIFO or device where a
   * regular file must be, `ELOOP` for a file that became a link while packing…), or
   * `OutsideContext` for a Dockerfile named inside the context that links outside it.
   */
  readonly code: string
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** Options of `directoryContext`. */
export interface DirectoryContextOptions {
  /**
   * The Dockerfile: a path relative to the context directory (default `Dockerfile`), or an
   * absolute path (inside the context, or outside it: then it is added to the archive).
   */
  readonly dockerfile?: string | undefined
  /** Patterns to use instead of the context's `.dockerignore`. */
  readonly ignore?: ReadonlyArray<string> | undefined
}

/** A packed context and the `dockerfile` parameter the build must send with it. */
export interface DirectoryContext {
  /** The tar archive, produced as it is read. */
  readonly tar: Stream.Stream<Uint8Array, BuildContextError>
  /** The Dockerfile's path inside the archive (slash-separated). */
  readonly dockerfile: string
}

interface PackPlan {
  /** The context directory, links resolved. */
  readonly root: string
  readonly matcher: ContextMatcher
  /** A Dockerfile from outside the context, added under `name`. */
  readonly extraDockerfile?: { readonly name: string; readonly path: string } | undefined
  /** What the rewritten `.dockerignore` starts with (with `extraDockerfile`). */
  readonly sentIgnoreText: string
}

/** Whether `path` is `root` or below it (both absolute, links resolved by the caller). */
const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path)
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)
}

async function* walk(plan: PackPlan, dirAbs: string, dirRel: string, batch: Batcher): AsyncGenerator<Uint8Array> {
  const names = await readdir(dirAbs).catch((error) => {
    throw failureOf(dirAbs, error)
  })
  names.sort()
  for (const name of names) {
    const rel = dirRel === "" ? name : `${dirRel}/${name}`
    const abs = join(dirAbs, name)
    if (plan.extraDockerfile !== undefined && rel === ".dockerignore") continue // rewritten at the end
    const stat = await lstat(abs).catch((error) => {
      throw failureOf(abs, error)
    })
    if (plan.matcher.excludes(rel)) {
      if (stat.isDirectory() && plan.matcher.mayReinclude(rel)) yield* walk(plan, abs, rel, batch)
      continue
    }
    const mtime = mtimeOf(stat.mtimeMs)
    if (stat.isDirectory()) {
      yield* batch.push(encodeTarHeader({ name: rel, type: "directory", size: 0, mode: stat.mode, mtime }))
      yield* walk(plan, abs, rel, batch)
    } else if (stat.isFile()) {
      yield* batch.push(encodeTarHeader({ name: rel, type: "file", size: stat.size, mode: stat.mode, mtime }))
      yield* fileData(abs, stat.size, batch)
    } else if (stat.isSymbolicLink()) {
      const linkname = await readlink(abs).catch((error) => {
        throw failureOf(abs, error)
      })
      yield* batch.push(encodeTarHeader({ name: rel, type: "symlink", size: 0, mode: stat.mode, mtime, linkname }))
    }
    // Sockets, FIFOs and devices have no place in a build context.
  }
}

async function* packDirectory(plan: PackPlan): AsyncGenerator<Uint8Array> {
  const batch = new Batcher()
  yield* walk(plan, plan.root, "", batch)
  if (plan.extraDockerfile !== undefined) {
    const { name, path } = plan.extraDockerfile
    const content = await readRegularFile(path, { followLinks: true })
    const now = mtimeOf(Date.now())
    yield* batch.push(encodeTarHeader({ name, type: "file", size: content.length, mode: 0o600, mtime: now }))
    yield* batch.push(content)
    yield* batch.zeros(padding(content.length))
    const ignoreFile = encoder.encode(`${plan.sentIgnoreText}\n${name}\n`)
    yield* batch.push(
      encodeTarHeader({ name: ".dockerignore", type: "file", size: ignoreFile.length, mode: 0o644, mtime: now })
    )
    yield* batch.push(ignoreFile)
    yield* batch.zeros(padding(ignoreFile.length))
  }
  yield* endOfArchive(batch)
}

/** The context's `.dockerignore` read through a link (as the CLI does), and whether it lies inside. */
const readIgnoreFile = async (
  root: string
): Promise<{ readonly text: string; readonly inside: boolean } | undefined> => {
  const path = join(root, ".dockerignore")
  try {
    const text = (await readRegularFile(path, { followLinks: true })).toString("utf8")
    return { text, inside: isInside(root, await realpath(path)) }
  } catch (error) {
    const failure = failureOf(path, error)
    if (failure.code === "ENOENT") return undefined // none, or a dangling link: no patterns, as in the CLI
    throw failure
  }
}

/** Fails when the Dockerfile at `path` (named inside the context) leads outside `root` through a link. */
const refuseDockerfileOutside = async (root: string, path: string): Promise<void> => {
  const real = await realpath(path).catch((error) => {
    const failure = failureOf(path, error)
    if (failure.code === "ENOENT") return undefined // the daemon says it cannot find it
    throw failure
  })
  if (real !== undefined && !isInside(root, real)) {
    throw new PackFailure(
      path,
      "OutsideContext",
      `the Dockerfile leads outside the context through a symbolic link (to ${real}); ` +
        "name a Dockerfile outside the context by its own path to send it"
    )
  }
}

/**
 * The build context of `directory` as a tar stream, with the `dockerfile` value to send. Nothing
 * is read until the stream runs; a file that cannot be read fails it with `BuildContextError`.
 *
 * @example
 * ```ts
 * import { directoryContext, Images } from "effect-docker"
 *
 * const context = directoryContext("./app") // honours ./app/.dockerignore
 * const built = yield* (yield* Images).build({ tar: context.tar, dockerfile: context.dockerfile }, { t: ["app:dev"] })
 * ```
 */
export const directoryContext = (directory: string, options: DirectoryContextOptions = {}): DirectoryContext => {
  const root = resolve(directory)
  let dockerfile = "Dockerfile"
  let extraDockerfile: PackPlan["extraDockerfile"]
  if (options.dockerfile !== undefined) {
    const absolute = isAbsolute(options.dockerfile) ? options.dockerfile : join(root, options.dockerfile)
    if (absolute !== root && isInside(root, absolute)) {
      dockerfile = relative(root, absolute).split(sep).join("/")
    } else {
      dockerfile = `.dockerfile.${randomBytes(10).toString("hex")}`
      extraDockerfile = { name: dockerfile, path: absolute }
    }
  }
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let inner: AsyncGenerator<Uint8Array> | undefined
      const start = async () => {
        const real = await realpath(root).catch((error) => {
          throw failureOf(root, error)
        })
        if (extraDockerfile === undefined) await refuseDockerfileOutside(real, join(root, dockerfile))
        const ignore = await readIgnoreFile(real)
        const patterns = options.ignore ?? (ignore === undefined ? [] : parseDockerignore(ignore.text))
        return packDirectory({
          root: real,
          matcher: contextMatcher(patterns, dockerfile),
          extraDockerfile,
          sentIgnoreText: ignore?.inside === true ? ignore.text : ""
        })
      }
      return {
        next: async () => (inner ??= await start()).next(),
        return: async () => inner ? inner.return(undefined) : { done: true, value: undefined }
      }
    }
  }
  return {
    dockerfile,
    tar: Stream.fromAsyncIterable(iterable, (error) => {
      const failure = failureOf(root, error)
      return new BuildContextError({
        path: failure.path,
        code: failure.code,
        message: `cannot pack the build context: ${failure.path}: ${failure.reason}`
      })
    })
  }
}
