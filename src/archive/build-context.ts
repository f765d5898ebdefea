/**
 * Build contexts: a directory packed as a tar `Stream`, honouring `.dockerignore` exactly as the
 * Docker CLI does (`docker build` with the classic builder):
 *
 * - patterns are read and matched by `@balena/dockerignore`, a port of moby's `fileutils` /
 *   `patternmatcher` (case-sensitive here, as on Linux: its default ignores case);
 * - a path is excluded when the last matching pattern excludes it, where a pattern also matches
 *   every path below a directory it matches; `!` re-includes;
 * - an excluded directory is not walked unless a `!` pattern starts with its path (the CLI's
 *   literal-prefix rule: `!dir/keep` re-includes `dir/keep`, `!**‍/keep` does not reach into `dir`);
 * - the Dockerfile and `.dockerignore` are always sent (the CLI appends `!<dockerfile>` and
 *   `!.dockerignore` when they would be excluded), and a Dockerfile outside the context is added
 *   under `.dockerfile.<random>` and listed in the sent `.dockerignore` (so `COPY . .` skips it).
 *
 * Entries are packed lazily while the request body is read: directories are listed and files read
 * only as the daemon takes bytes, in 64 KiB batches, so the context is never held in memory.
 * Owners are 0:0 and modes and mtimes are kept (as the CLI's `ChownOpts{0,0}`); sockets and
 * devices are skipped; symlinks are sent as links.
 */
import dockerignore from "@balena/dockerignore"
import { Data, Stream } from "effect"
import { randomBytes } from "node:crypto"
import { lstat, open, readdir, readFile, readlink } from "node:fs/promises"
import { isAbsolute, join, posix, relative, resolve, sep } from "node:path"

/** A file of the context could not be read while packing. */
export class BuildContextError extends Data.TaggedError("BuildContextError")<{
  /** The file or directory (absolute). */
  readonly path: string
  /** The system error code (`ENOENT`, `EACCES`…), or a short reason. */
  readonly code: string
  readonly message: string
}> {}

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

// ---------------------------------------------------------------------------------------------
// .dockerignore

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

// ---------------------------------------------------------------------------------------------
// tar headers (ustar, with a PAX record for long or non-ASCII names, long links and big sizes)

const BLOCK = 512
const encoder = new TextEncoder()

type EntryType = "file" | "directory" | "symlink"

interface EntryHeader {
  readonly name: string
  readonly type: EntryType
  readonly size: number
  readonly mode: number
  readonly mtime: number
  readonly linkname?: string | undefined
}

const writeString = (block: Uint8Array, offset: number, length: number, value: string) => {
  const bytes = encoder.encode(value)
  block.set(bytes.subarray(0, length), offset)
}

const writeOctal = (block: Uint8Array, offset: number, length: number, value: number) => {
  writeString(block, offset, length, `${Math.floor(value).toString(8).padStart(length - 1, "0")}\0`)
}

const isAscii = (value: string) => /^[\x20-\x7e]*$/.test(value)
const MAX_OCTAL_SIZE = 0o77777777777

const ustarBlock = (header: EntryHeader, name: string, prefix: string, typeflag: string): Uint8Array => {
  const block = new Uint8Array(BLOCK)
  writeString(block, 0, 100, name)
  writeOctal(block, 100, 8, header.mode & 0o7777)
  writeOctal(block, 108, 8, 0)
  writeOctal(block, 116, 8, 0)
  writeOctal(block, 124, 12, header.size > MAX_OCTAL_SIZE ? 0 : header.size)
  writeOctal(block, 136, 12, header.mtime)
  block.fill(0x20, 148, 156)
  writeString(block, 156, 1, typeflag)
  if (header.linkname !== undefined && encoder.encode(header.linkname).length <= 100) {
    writeString(block, 157, 100, header.linkname)
  }
  writeString(block, 257, 6, "ustar\0")
  writeString(block, 263, 2, "00")
  writeString(block, 345, 155, prefix)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += block[i]!
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `)
  return block
}

const paxRecord = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`
  const bodyBytes = encoder.encode(body).length
  // The record's length counts its own digits: settle on a length that includes itself.
  let length = bodyBytes + 1
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes
  return `${length}${body}`
}

/** Splits a name into ustar `prefix` / `name`; `undefined` when it does not fit. */
const splitUstarName = (path: string): { readonly name: string; readonly prefix: string } | undefined => {
  if (!isAscii(path)) return undefined
  if (path.length <= 100) return { name: path, prefix: "" }
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { name: path.slice(i + 1), prefix: path.slice(0, i) }
    }
  }
  return undefined
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK

/** The header block(s) of an entry: a PAX record first when ustar cannot say it. */
export const encodeTarHeader = (header: EntryHeader): Uint8Array => {
  const path = header.type === "directory" && !header.name.endsWith("/") ? `${header.name}/` : header.name
  const typeflag = header.type === "file" ? "0" : header.type === "directory" ? "5" : "2"
  const split = splitUstarName(path)
  const longLink = header.linkname !== undefined &&
    (!isAscii(header.linkname) || encoder.encode(header.linkname).length > 100)
  const bigSize = header.size > MAX_OCTAL_SIZE
  if (split !== undefined && !longLink && !bigSize) return ustarBlock(header, split.name, split.prefix, typeflag)
  let records = ""
  if (split === undefined) records += paxRecord("path", path)
  if (longLink) records += paxRecord("linkpath", header.linkname!)
  if (bigSize) records += paxRecord("size", String(header.size))
  const data = encoder.encode(records)
  const shortName = `PaxHeaders/${path.replace(/[^\x20-\x7e]/g, "_").slice(-80)}`
  const pax = ustarBlock({ ...header, size: data.length, linkname: undefined }, shortName, "", "x")
  const fallback = split ?? { name: path.replace(/[^\x20-\x7e]/g, "_").slice(-100), prefix: "" }
  const out = new Uint8Array(BLOCK + data.length + padding(data.length) + BLOCK)
  out.set(pax, 0)
  out.set(data, BLOCK)
  out.set(ustarBlock(header, fallback.name, fallback.prefix, typeflag), BLOCK + data.length + padding(data.length))
  return out
}

// ---------------------------------------------------------------------------------------------
// packing

const BATCH = 64 * 1024
/** Files up to this size are read in one call; bigger ones in BATCH-sized reads. */
const SMALL_FILE = 256 * 1024

/** Accumulates small pieces into BATCH-sized chunks, so 10,000 small files are not 30,000 chunks. */
class Batcher {
  private buffer = new Uint8Array(BATCH)
  private used = 0
  /** Appends `bytes`; returns the chunks that became full. */
  push(bytes: Uint8Array): Array<Uint8Array> {
    const full: Array<Uint8Array> = []
    let offset = 0
    while (offset < bytes.length) {
      const n = Math.min(BATCH - this.used, bytes.length - offset)
      this.buffer.set(bytes.subarray(offset, offset + n), this.used)
      this.used += n
      offset += n
      if (this.used === BATCH) {
        full.push(this.buffer)
        this.buffer = new Uint8Array(BATCH)
        this.used = 0
      }
    }
    return full
  }
  zeros(count: number): Array<Uint8Array> {
    return count === 0 ? [] : this.push(new Uint8Array(count))
  }
  flush(): Array<Uint8Array> {
    if (this.used === 0) return []
    const out = this.buffer.subarray(0, this.used)
    this.buffer = new Uint8Array(BATCH)
    this.used = 0
    return [out]
  }
}

class PackFailure {
  constructor(readonly path: string, readonly code: string, readonly reason: string) {}
}

const failureOf = (path: string, error: unknown): PackFailure => {
  if (error instanceof PackFailure) return error
  const code = (error as { code?: unknown } | null)?.code
  return new PackFailure(
    path,
    typeof code === "string" ? code : "EIO",
    error instanceof Error ? error.message : String(error)
  )
}

const mtimeOf = (ms: number) => Math.floor(ms / 1000)

/** Yields one file's data (then padding) through `batch`, checking it still has `size` bytes. */
async function* fileData(abs: string, size: number, batch: Batcher): AsyncGenerator<Uint8Array> {
  if (size <= SMALL_FILE) {
    const data = await readFile(abs).catch((error) => {
      throw failureOf(abs, error)
    })
    if (data.length < size) throw new PackFailure(abs, "ECHANGED", `${abs} shrank while the context was packed`)
    yield* batch.push(data.length === size ? data : data.subarray(0, size))
  } else {
    const handle = await open(abs, "r").catch((error) => {
      throw failureOf(abs, error)
    })
    try {
      let left = size
      // Flush what is batched, then hand over big reads directly (no copy into the batch).
      yield* batch.flush()
      while (left > 0) {
        const chunk = new Uint8Array(Math.min(BATCH * 4, left))
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, size - left).catch((error) => {
          throw failureOf(abs, error)
        })
        if (bytesRead === 0) throw new PackFailure(abs, "ECHANGED", `${abs} shrank while the context was packed`)
        left -= bytesRead
        yield bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead)
      }
    } finally {
      await handle.close()
    }
  }
  yield* batch.zeros(padding(size))
}

interface PackPlan {
  readonly root: string
  readonly matcher: ContextMatcher
  /** A Dockerfile from outside the context, added under `name`. */
  readonly extraDockerfile?: { readonly name: string; readonly path: string } | undefined
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

async function* packDirectory(plan: PackPlan, ignoreText: string | undefined): AsyncGenerator<Uint8Array> {
  const batch = new Batcher()
  yield* walk(plan, plan.root, "", batch)
  if (plan.extraDockerfile !== undefined) {
    const { name, path } = plan.extraDockerfile
    const content = await readFile(path).catch((error) => {
      throw failureOf(path, error)
    })
    const now = mtimeOf(Date.now())
    yield* batch.push(encodeTarHeader({ name, type: "file", size: content.length, mode: 0o600, mtime: now }))
    yield* batch.push(content)
    yield* batch.zeros(padding(content.length))
    const ignoreFile = encoder.encode(`${ignoreText ?? ""}\n${name}\n`)
    yield* batch.push(
      encodeTarHeader({ name: ".dockerignore", type: "file", size: ignoreFile.length, mode: 0o644, mtime: now })
    )
    yield* batch.push(ignoreFile)
    yield* batch.zeros(padding(ignoreFile.length))
  }
  yield* batch.zeros(2 * BLOCK)
  yield* batch.flush()
}

const readIgnoreFile = async (root: string): Promise<string | undefined> => {
  try {
    return await readFile(join(root, ".dockerignore"), "utf8")
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined
    throw failureOf(join(root, ".dockerignore"), error)
  }
}

/**
 * The build context of `directory` as a tar stream, with the `dockerfile` value to send. Nothing
 * is read until the stream runs; a file that cannot be read fails it with `BuildContextError`.
 */
export const directoryContext = (directory: string, options: DirectoryContextOptions = {}): DirectoryContext => {
  const root = resolve(directory)
  let dockerfile = "Dockerfile"
  let extraDockerfile: PackPlan["extraDockerfile"]
  if (options.dockerfile !== undefined) {
    const absolute = isAbsolute(options.dockerfile) ? options.dockerfile : join(root, options.dockerfile)
    const inside = relative(root, absolute)
    if (inside !== "" && !inside.startsWith("..") && !isAbsolute(inside)) {
      dockerfile = inside.split(sep).join("/")
    } else {
      dockerfile = `.dockerfile.${randomBytes(10).toString("hex")}`
      extraDockerfile = { name: dockerfile, path: absolute }
    }
  }
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let inner: AsyncGenerator<Uint8Array> | undefined
      const start = async () => {
        const text = await readIgnoreFile(root)
        const patterns = options.ignore ?? (text === undefined ? [] : parseDockerignore(text))
        return packDirectory({ root, matcher: contextMatcher(patterns, dockerfile), extraDockerfile }, text)
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
