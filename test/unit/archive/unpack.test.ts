/**
 * The tar helpers without a daemon: pack → unpack round-trips bytes, modes, directories and
 * symlinks; links on disk are never written through; failures keep their cause. The ways out of
 * the target directory are in `unpack-escapes.test.ts`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { packTar } from "../../../src/archive/pack.js"
import { unpackTar } from "../../../src/archive/unpack.js"
import { handmade, tempDir } from "../../support/crafted-tar.js"

describe("archive helpers", () => {
  it.effect("pack a directory, unpack it: bytes, modes, nesting and symlinks survive", () =>
    Effect.gen(function*() {
      const src = yield* tempDir
      const dst = yield* tempDir
      mkdirSync(join(src, "tree/sub"), { recursive: true })
      const big = Buffer.alloc(300_000, 7)
      writeFileSync(join(src, "tree/run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o750 })
      writeFileSync(join(src, "tree/sub/big.bin"), big)
      symlinkSync("sub/big.bin", join(src, "tree/link"))
      const result = yield* unpackTar(
        packTar([{ path: join(src, "tree") }, { name: "extra/note.txt", content: "note", mode: 0o600 }]),
        dst
      )
      expect([...result.files].sort()).toEqual(["extra/note.txt", "tree/run.sh", "tree/sub/big.bin"])
      expect(result.symlinks).toEqual(["tree/link"])
      expect(readFileSync(join(dst, "tree/run.sh"), "utf8")).toBe("#!/bin/sh\necho hi\n")
      expect(statSync(join(dst, "tree/run.sh")).mode & 0o777).toBe(0o750)
      expect(Buffer.compare(readFileSync(join(dst, "tree/sub/big.bin")), big)).toBe(0)
      expect(readlinkSync(join(dst, "tree/link"))).toBe("sub/big.bin")
      expect(statSync(join(dst, "extra/note.txt")).mode & 0o777).toBe(0o600)
    }))

  it.effect("packTar refuses names that climb out of the archive", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runDrain(packTar([{ name: "../x", content: "x" }])))
      expect(error.reason).toBe("BadName")
    }))

  it.effect("unpackTar never writes through a symlink already on disk", () =>
    Effect.gen(function*() {
      const parent = yield* tempDir
      const dst = join(parent, "target")
      mkdirSync(join(parent, "outside"))
      mkdirSync(dst)
      symlinkSync(join(parent, "outside"), join(dst, "pre"))
      writeFileSync(join(parent, "victim"), "original")
      symlinkSync(join(parent, "victim"), join(dst, "file-link"))
      const error = yield* Effect.flip(unpackTar(handmade([{ name: "pre/x", content: "evil" }]), dst))
      expect(error._tag === "ArchiveError" && error.reason).toBe("UnsafeEntry")
      expect(existsSync(join(parent, "outside/x"))).toBe(false)
      // A file entry at a symlink's path replaces the link; the link's target is untouched.
      yield* unpackTar(handmade([{ name: "file-link", content: "new" }]), dst)
      expect(readFileSync(join(parent, "victim"), "utf8")).toBe("original")
      expect(lstatSync(join(dst, "file-link")).isFile()).toBe(true)
      expect(readFileSync(join(dst, "file-link"), "utf8")).toBe("new")
    }))

  it.effect("a failing source fails unpackTar with the source's own error", () =>
    Effect.gen(function*() {
      const dst = yield* tempDir
      const error = yield* Effect.flip(unpackTar(Stream.fail("source broke" as const), dst))
      expect(error).toBe("source broke")
    }))

  it.effect("garbage is a Corrupt or Io ArchiveError, not a crash", () =>
    Effect.gen(function*() {
      const dst = yield* tempDir
      const error = yield* Effect.flip(unpackTar(Stream.make(new Uint8Array(1024).fill(0x41)), dst))
      expect(error._tag).toBe("ArchiveError")
    }))
})
