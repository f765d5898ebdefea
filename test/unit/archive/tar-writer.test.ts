import { describe, expect, it } from "vitest"
import { encodeTarHeader } from "../../../src/archive/tar-writer.js"

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
