/**
 * `unpackTar` against crafted archives: every classic way out of the target directory (`..`,
 * absolute names, PAX and GNU names, hard links, writes through links, a directory over a link)
 * and symlink chains that only escape once the links on disk are followed. Each case checks the
 * error and that nothing outside the target changed, and that no link left inside leads out.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join, relative } from "node:path"
import { unpackTar } from "../../../src/archive/unpack.js"
import { type Entry, gnuLongName, handmade, tarBytes, tempDir } from "../../support/crafted-tar.js"

/** Every path under `dir` with its content ("dir", "-> target" for links), `skip` left out. */
const snapshot = (dir: string, skip: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const visit = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name)
      if (path === skip) continue
      const stat = lstatSync(path)
      const key = relative(dir, path)
      if (stat.isSymbolicLink()) out[key] = `-> ${readlinkSync(path)}`
      else if (stat.isDirectory()) {
        out[key] = "dir"
        visit(path)
      } else out[key] = readFileSync(path, "utf8")
    }
  }
  visit(dir)
  return out
}

/** The links under `dir` whose target, followed, is outside it. */
const linksLeadingOut = (dir: string): Array<string> => {
  const root = realpathSync(dir)
  const out: Array<string> = []
  const visit = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const path = join(abs, name)
      const stat = lstatSync(path)
      if (stat.isSymbolicLink()) {
        let real: string | undefined
        try {
          real = realpathSync(path)
        } catch {
          real = undefined // dangling or a loop: leads nowhere
        }
        if (real !== undefined && relative(root, real).startsWith("..")) out.push(relative(dir, path))
      } else if (stat.isDirectory()) visit(path)
    }
  }
  visit(dir)
  return out
}

/** A parent holding a secret and a directory outside the target, and the target's path. */
const scene = Effect.map(tempDir, (parent) => {
  writeFileSync(join(parent, "secret"), "SECRET")
  mkdirSync(join(parent, "outside"))
  writeFileSync(join(parent, "outside/kept"), "kept")
  return { parent, target: join(parent, "target") }
})

const refused: ReadonlyArray<readonly [string, ReadonlyArray<Entry>]> = [
  ["a .. segment", [{ name: "../escaped.txt" }]],
  ["a nested .. segment", [{ name: "ok/../../escaped.txt" }]],
  ["an absolute path", [{ name: "/tmp/ed-escaped.txt" }]],
  ["a PAX path with ..", [{ name: "innocent", pax: { path: "../escaped.txt" } }]],
  ["an absolute PAX path", [{ name: "innocent", pax: { path: "/tmp/ed-escaped.txt" } }]],
  ["a GNU long name with ..", [{ raw: gnuLongName("../escaped.txt") }, { name: "innocent" }]],
  ["a symlink to an absolute path", [{ name: "link", type: "symlink", linkname: "/etc" }]],
  ["a symlink that climbs out", [{ name: "link", type: "symlink", linkname: "../secret" }]],
  ["a PAX linkpath that is absolute", [{ name: "link", type: "symlink", linkname: "x", pax: { linkpath: "/etc" } }]],
  ["a hard link to outside", [{ name: "hard", type: "link", linkname: "../secret" }]],
  ["an absolute hard link", [{ name: "hard", type: "link", linkname: "/etc/passwd" }]],
  [
    "a hard link through a symlink",
    [{ name: "d", type: "directory" }, { name: "d/f" }, { name: "l", type: "symlink", linkname: "d" }, {
      name: "hard",
      type: "link",
      linkname: "l/f"
    }]
  ],
  [
    "a hard link to a symlink",
    [{ name: "f" }, { name: "l", type: "symlink", linkname: "f" }, { name: "hard", type: "link", linkname: "l" }]
  ],
  [
    "a write through a symlink from the same archive",
    [{ name: "d", type: "directory" }, { name: "inner", type: "symlink", linkname: "d" }, { name: "inner/x" }]
  ],
  [
    "a directory over a symlink",
    [{ name: "d", type: "directory" }, { name: "l", type: "symlink", linkname: "d" }, {
      name: "l",
      type: "directory"
    }]
  ],
  // Chains: each link alone reads as inside; followed on disk they leave.
  ["s -> . then t -> s/..", [{ name: "s", type: "symlink", linkname: "." }, {
    name: "t",
    type: "symlink",
    linkname: "s/.."
  }]],
  [
    "s -> . then u -> s/../secret",
    [{ name: "s", type: "symlink", linkname: "." }, { name: "u", type: "symlink", linkname: "s/../secret" }]
  ],
  [
    "d/s -> .. then d/t -> s/../..",
    [{ name: "d", type: "directory" }, { name: "d/s", type: "symlink", linkname: ".." }, {
      name: "d/t",
      type: "symlink",
      linkname: "s/../.."
    }]
  ],
  [
    "a chain of two links: a -> ., b -> a, c -> b/../secret",
    [{ name: "a", type: "symlink", linkname: "." }, { name: "b", type: "symlink", linkname: "a" }, {
      name: "c",
      type: "symlink",
      linkname: "b/../secret"
    }]
  ],
  // A later link that would turn an earlier, harmless one into a way out.
  [
    "t -> x/.. (x missing) then x -> .",
    [{ name: "t", type: "symlink", linkname: "x/.." }, { name: "x", type: "symlink", linkname: "." }]
  ],
  [
    "t -> s/.. with s -> a/b, then s replaced by s -> .",
    [
      { name: "a/b", type: "directory" },
      { name: "s", type: "symlink", linkname: "a/b" },
      { name: "t", type: "symlink", linkname: "s/.." },
      { name: "s", type: "symlink", linkname: "." }
    ]
  ],
  [
    "t -> x/y/../.. then x/ and x/y -> ..",
    [
      { name: "t", type: "symlink", linkname: "x/y/../.." },
      { name: "x", type: "directory" },
      { name: "x/y", type: "symlink", linkname: ".." }
    ]
  ],
  ["a link loop", [{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "a" }]]
]

describe("unpackTar: no way out of the target directory", () => {
  for (const [what, entries] of refused) {
    it.effect(`refuses ${what}`, () =>
      Effect.gen(function*() {
        const { parent, target } = yield* scene
        const before = snapshot(parent, target)
        const error = yield* Effect.flip(unpackTar(handmade(entries), target))
        expect(error).toMatchObject({ _tag: "ArchiveError", reason: "UnsafeEntry" })
        expect(error.message).toMatch(/^refusing tar entry "/)
        expect(snapshot(parent, target)).toEqual(before)
        expect(existsSync("/tmp/ed-escaped.txt")).toBe(false)
        expect(linksLeadingOut(target)).toEqual([])
      }))
  }

  it.effect("the chain's error names the entry and why", () =>
    Effect.gen(function*() {
      const { target } = yield* scene
      const error = yield* Effect.flip(unpackTar(
        handmade([{ name: "s", type: "symlink", linkname: "." }, { name: "t", type: "symlink", linkname: "s/.." }]),
        target
      ))
      expect(error).toMatchObject({ reason: "UnsafeEntry", path: "t" })
      expect(error.message).toContain(`symbolic link "s/.." leads outside the directory`)
      // What came before the refused entry stays; the refused one was never created.
      expect(readlinkSync(join(target, "s"))).toBe(".")
      expect(existsSync(join(target, "t"))).toBe(false)
    }))

  it.effect("a later link that would re-aim an earlier one names that one, and is not created", () =>
    Effect.gen(function*() {
      const { target } = yield* scene
      const error = yield* Effect.flip(unpackTar(
        handmade([{ name: "t", type: "symlink", linkname: "x/.." }, { name: "x", type: "symlink", linkname: "." }]),
        target
      ))
      expect(error).toMatchObject({ reason: "UnsafeEntry", path: "x" })
      expect(error.message).toContain(`would make the symbolic link "t" lead outside the directory`)
      expect(existsSync(join(target, "x"))).toBe(false)
    }))

  it.effect("links already on disk are followed: one leading out makes a link through it refused", () =>
    Effect.gen(function*() {
      const { parent, target } = yield* scene
      mkdirSync(target)
      symlinkSync(join(parent, "outside"), join(target, "pre"))
      symlinkSync("..", join(target, "up"))
      for (const linkname of ["pre/kept", "up/secret", "pre"]) {
        const error = yield* Effect.flip(unpackTar(handmade([{ name: "l", type: "symlink", linkname }]), target))
        expect(error).toMatchObject({ reason: "UnsafeEntry", path: "l" })
        expect(existsSync(join(target, "l"))).toBe(false)
      }
    }))

  it.effect("links that stay inside are extracted, chains and dangling ones included", () =>
    Effect.gen(function*() {
      const { parent, target } = yield* scene
      const before = snapshot(parent, target)
      const result = yield* unpackTar(
        handmade([
          { name: "usr/bin/tool", content: "tool" },
          { name: "bin", type: "symlink", linkname: "usr/bin" },
          { name: "s", type: "symlink", linkname: "." },
          { name: "t", type: "symlink", linkname: "s/bin/tool" },
          { name: "d/s", type: "symlink", linkname: ".." },
          { name: "d/t", type: "symlink", linkname: "s/usr/../bin" },
          { name: "later", type: "symlink", linkname: "x/y" }, // dangling until x/y exists
          { name: "x/y", content: "y" },
          { name: "re", type: "symlink", linkname: "usr" },
          { name: "up", type: "symlink", linkname: "re/bin/.." },
          { name: "re", type: "symlink", linkname: "s/usr" } // re-aims up (re-checked): still usr
        ]),
        target
      )
      expect([...result.symlinks].sort()).toEqual(["bin", "d/s", "d/t", "later", "re", "re", "s", "t", "up"])
      expect(readFileSync(join(target, "t"), "utf8")).toBe("tool")
      expect(readFileSync(join(target, "d/t/tool"), "utf8")).toBe("tool")
      expect(readFileSync(join(target, "later"), "utf8")).toBe("y")
      expect(realpathSync(join(target, "up"))).toBe(realpathSync(join(target, "usr")))
      expect(linksLeadingOut(target)).toEqual([])
      expect(snapshot(parent, target)).toEqual(before)
    }))
})

describe("unpackTar: an archive that ends early", () => {
  it.effect("an entry whose header claims more bytes than follow is Corrupt and leaves no partial file", () =>
    Effect.gen(function*() {
      const { target } = yield* scene
      const whole = yield* tarBytes([{ name: "first", content: "complete" }, {
        name: "big",
        content: "B".repeat(5000)
      }])
      // first: header + one data block; big: header + 1000 of its 5000 bytes, then nothing.
      const cut = whole.subarray(0, 512 + 512 + 512 + 1000)
      const error = yield* Effect.flip(unpackTar(Stream.make(new Uint8Array(cut)), target))
      expect(error).toMatchObject({ _tag: "ArchiveError", reason: "Corrupt", path: "big" })
      expect(error.message).toBe(`unpackTar: the archive ends inside "big" (its header says 5000 bytes)`)
      expect(existsSync(join(target, "big"))).toBe(false)
      expect(readFileSync(join(target, "first"), "utf8")).toBe("complete")
    }))

  it.effect("an archive cut inside a header is Corrupt too", () =>
    Effect.gen(function*() {
      const { target } = yield* scene
      const whole = yield* tarBytes([{ name: "first", content: "complete" }, { name: "second" }])
      const error = yield* Effect.flip(unpackTar(Stream.make(new Uint8Array(whole.subarray(0, 1024 + 200))), target))
      expect(error).toMatchObject({ _tag: "ArchiveError", reason: "Corrupt" })
    }))
})
