import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { PackFailure } from "../../../src/archive/pack-failure.js"
import { Batcher, encodeTarHeader, fileData } from "../../../src/archive/tar-writer.js"

describe("tar headers", () => {
  it("a ustar header has a valid checksum and octal fields", () => {
    const block = encodeTarHeader({ name: "a/b", type: "file", size: 1234, mode: 0o644, mtime: 1_700_000_000 })
    expect(block.length).toBe(512)
    const text = Buffer.from(block)
    const stored = parseInt(text.subarray(148, 154).toString(), 8)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!
    expect(stored).toBe(sum)
    expect(parseInt(text.subarray(124, 135).toString(), 8)).toBe(1234)
    expect(text.subarray(257, 262).toString()).toBe("ustar")
  })
})

describe("file data", () => {
  const dir = mkdtempSync(join(tmpdir(), "ed-tar-writer-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const drain = async (path: string, size: number) => {
    const chunks: Array<Uint8Array> = []
    for await (const chunk of fileData(path, size, new Batcher())) chunks.push(chunk)
    return chunks
  }

  // A file listed as regular and swapped before it is read: the swap fails the archive, it is
  // never read through (the link's target would be sent under the file's name).
  it("is never read through a symbolic link (small and big files)", async () => {
    writeFileSync(join(dir, "secret"), Buffer.alloc(300_000, 0x53))
    symlinkSync(join(dir, "secret"), join(dir, "swapped"))
    for (const size of [6, 300_000]) {
      const error = await drain(join(dir, "swapped"), size).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PackFailure)
      expect(error).toMatchObject({ code: "ELOOP", path: join(dir, "swapped") })
    }
  })

  it("is never read from a FIFO (which would block until a writer came)", async () => {
    execFileSync("mkfifo", [join(dir, "fifo")])
    const error = await drain(join(dir, "fifo"), 10).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: "EINVAL", reason: "a FIFO, not a regular file" })
  })
})
