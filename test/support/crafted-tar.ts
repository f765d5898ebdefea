/**
 * Tars built by hand, as a hostile archive would be: tar-stream's packer for ordinary entries and
 * PAX records, raw blocks for what it cannot write (GNU long names, truncated data).
 */
import { Effect, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tar from "tar-stream"

/** A temporary directory, removed with the test's scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ed-archive-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

export type Entry =
  | {
    readonly name: string
    readonly type?: "file" | "directory" | "symlink" | "link"
    readonly content?: string
    readonly linkname?: string
    /** PAX records: tar-stream writes `path` (and `linkpath`) from name and linkname, then these. */
    readonly pax?: Record<string, string>
  }
  /** Raw bytes, spliced in as they are. */
  | { readonly raw: Uint8Array }

const BLOCK = 512

/** A GNU long-name record (typeflag `L`) naming the entry that follows it. */
export const gnuLongName = (name: string): Uint8Array => {
  const data = Buffer.from(`${name}\0`)
  const header = Buffer.alloc(BLOCK)
  header.write("././@LongLink", 0)
  header.write("0000644\0", 100)
  header.write("0000000\0", 108)
  header.write("0000000\0", 116)
  header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124)
  header.write("00000000000\0", 136)
  header.fill(0x20, 148, 156)
  header.write("L", 156)
  header.write("ustar  \0", 257)
  let sum = 0
  for (const byte of header) sum += byte
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148)
  const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK)
  data.copy(padded)
  return Buffer.concat([header, padded])
}

/** One entry as tar-stream writes it, without the end-of-archive blocks its packer adds. */
const packed = async (e: Exclude<Entry, { readonly raw: Uint8Array }>): Promise<Buffer> => {
  const pack = tar.pack()
  const type = e.type ?? "file"
  const common = { name: e.name, ...(e.pax ? { pax: e.pax } : {}) }
  if (type === "file") pack.entry({ ...common, mode: 0o644 }, e.content ?? "x")
  else pack.entry({ ...common, type, linkname: e.linkname ?? "", mode: 0o755 })
  pack.finalize()
  const chunks: Array<Buffer> = []
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk)
  const all = Buffer.concat(chunks)
  return all.subarray(0, all.length - 2 * BLOCK)
}

/** The archive's bytes, end-of-archive blocks included. */
export const tarBytes = (entries: ReadonlyArray<Entry>): Effect.Effect<Buffer> =>
  Effect.promise(async () => {
    const parts: Array<Buffer> = []
    for (const e of entries) parts.push("raw" in e ? Buffer.from(e.raw) : await packed(e))
    return Buffer.concat([...parts, Buffer.alloc(2 * BLOCK)])
  })

export const handmade = (entries: ReadonlyArray<Entry>): Stream.Stream<Uint8Array> =>
  Stream.fromEffect(tarBytes(entries))
