/**
 * Build contexts: which files a directory's `.dockerignore` leaves out (the Docker CLI's rules,
 * tricky cases included), and the tar itself (read back with tar-stream).
 */
import { Effect, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Readable } from "node:stream"
import * as tar from "tar-stream"
import { afterAll, describe, expect, it } from "vitest"
import { directoryContext } from "../../../src/archive/build-context.js"
import { parseDockerignore } from "../../../src/archive/dockerignore.js"

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

/** A directory with `files` (path → content); `null` makes an empty directory. */
const tree = (files: Record<string, string | Buffer | null>): string => {
  const root = mkdtempSync(join(tmpdir(), "ed-ctx-"))
  roots.push(root)
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path)
    if (content === null) {
      mkdirSync(abs, { recursive: true })
    } else {
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, content)
    }
  }
  return root
}

interface Entry {
  readonly name: string
  readonly type: string
  readonly size: number
  readonly mode: number
  readonly uid: number
  readonly linkname: string | null | undefined
  readonly data: Buffer
}

/** Packs and reads the archive back. */
const unpack = async (bytes: Stream.Stream<Uint8Array, unknown>): Promise<Array<Entry>> => {
  const chunks = await Effect.runPromise(Stream.runCollect(bytes))
  const extract = tar.extract()
  const entries: Array<Entry> = []
  extract.on("entry", (header, stream, next) => {
    const data: Array<Buffer> = []
    stream.on("data", (d: unknown) => data.push(d as Buffer))
    stream.on("end", () => {
      entries.push({
        name: header.name,
        type: header.type ?? "file",
        size: header.size ?? 0,
        mode: header.mode ?? 0,
        uid: header.uid ?? -1,
        linkname: header.linkname,
        data: Buffer.concat(data)
      })
      next()
    })
  })
  await new Promise<void>((resolve, reject) => {
    extract.on("finish", resolve)
    extract.on("error", reject)
    Readable.from(chunks.map((c) => Buffer.from(c))).pipe(extract)
  })
  return entries
}

const filesOf = async (root: string, options: Parameters<typeof directoryContext>[1] = {}) => {
  const context = directoryContext(root, options)
  const entries = await unpack(context.tar)
  return {
    dockerfile: context.dockerfile,
    entries,
    files: entries.filter((e) => e.type === "file").map((e) => e.name).sort()
  }
}

describe("directoryContext: the archive", () => {
  it("honours .dockerignore: ignored files absent, re-included ones present, Dockerfile and .dockerignore sent", async () => {
    const root = tree({
      "Dockerfile": "FROM scratch\n",
      ".dockerignore": "# test\n*.log\n!keep.log\n**/*.tmp\n/secret\nvendor\n!vendor/keep\nDockerfile\n.dockerignore\n",
      "a.log": "x",
      "keep.log": "keep",
      "sub/a.log": "nested logs are not matched by *.log",
      "sub/deep/x.tmp": "tmp",
      "top.tmp": "tmp",
      "secret": "s",
      "sub/secret": "not at the root",
      "vendor/lib.js": "v",
      "vendor/keep": "k",
      "empty": null
    })
    const { entries, files } = await filesOf(root)
    expect(files).toEqual([
      ".dockerignore",
      "Dockerfile",
      "keep.log",
      "sub/a.log",
      "sub/secret",
      "vendor/keep"
    ])
    // Directories come as entries (an empty one too), except excluded ones walked for re-includes.
    const dirs = entries.filter((e) => e.type === "directory").map((e) => e.name).sort()
    expect(dirs).toEqual(["empty/", "sub/", "sub/deep/"])
    // Owned by root, as the CLI sends them.
    expect(entries.every((e) => e.uid === 0)).toBe(true)
  })

  it("a custom Dockerfile inside an ignored directory is still sent", async () => {
    const root = tree({ "ci/Dockerfile.test": "FROM scratch\n", "ci/other": "o", ".dockerignore": "ci\n", "app": "a" })
    const { dockerfile, files } = await filesOf(root, { dockerfile: "ci/Dockerfile.test" })
    expect(dockerfile).toBe("ci/Dockerfile.test")
    expect(files).toEqual([".dockerignore", "app", "ci/Dockerfile.test"])
  })

  it("a Dockerfile outside the context is added under a random name that the sent .dockerignore lists", async () => {
    const outside = tree({ "Dockerfile.outside": "FROM scratch\nCOPY . /\n" })
    const root = tree({ "app": "a", ".dockerignore": "*.log\n" })
    const { dockerfile, entries, files } = await filesOf(root, { dockerfile: join(outside, "Dockerfile.outside") })
    expect(dockerfile).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/)
    expect(files).toEqual([".dockerignore", dockerfile, "app"].sort())
    expect(entries.find((e) => e.name === dockerfile)!.data.toString()).toBe("FROM scratch\nCOPY . /\n")
    const ignore = entries.find((e) => e.name === ".dockerignore")!.data.toString()
    expect(parseDockerignore(ignore)).toEqual(["*.log", dockerfile])
  })

  it("`ignore` replaces the directory's .dockerignore", async () => {
    const root = tree({ "a": "a", "b": "b", ".dockerignore": "a\n" })
    expect((await filesOf(root, { ignore: ["b"] })).files).toEqual([".dockerignore", "a"])
  })

  it("keeps content, modes, symlinks, long and non-ASCII names, and big files exactly", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff
    const longName = `${"d".repeat(60)}/${"e".repeat(70)}/${"f".repeat(90)}.txt`
    const root = tree({ "big.bin": big, "run.sh": "#!/bin/sh\n", [longName]: "long", "naïve-名前.txt": "utf8" })
    chmodSync(join(root, "run.sh"), 0o755)
    symlinkSync("run.sh", join(root, "link"))
    const { entries } = await filesOf(root)
    const byName = new Map(entries.map((e) => [e.name, e]))
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex")
    expect(sha(byName.get("big.bin")!.data)).toBe(sha(big))
    expect(byName.get("run.sh")!.mode & 0o777).toBe(0o755)
    expect(byName.get("link")).toMatchObject({ type: "symlink", linkname: "run.sh" })
    expect(byName.get(longName)!.data.toString()).toBe("long")
    expect(byName.get("naïve-名前.txt")!.data.toString()).toBe("utf8")
  })

  it("a file that cannot be read fails the stream with BuildContextError", async () => {
    const root = tree({ "Dockerfile": "FROM scratch\n" })
    rmSync(root, { recursive: true })
    const exit = await Effect.runPromiseExit(Stream.runDrain(directoryContext(root).tar))
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("BuildContextError")
    expect(JSON.stringify(exit)).toContain("ENOENT")
  })
})

/** The error packing fails with (it must fail, and must not hang: a FIFO opened for reading would). */
const packError = (root: string, options: Parameters<typeof directoryContext>[1] = {}) =>
  Effect.runPromise(Effect.flip(Stream.runDrain(directoryContext(root, options).tar)).pipe(Effect.timeout("5 seconds")))

const SECRET = "SECRET-7f3a9c"
/** Whether any entry carries the secret (in its data or its name). */
const leaks = (entries: ReadonlyArray<Entry>) =>
  entries.some((e) => e.data.includes(SECRET) || e.name.includes(SECRET) || (e.linkname ?? "").includes(SECRET))

describe("directoryContext: nothing outside the context is sent", () => {
  it(".dockerignore linked to an outside file, Dockerfile outside: its patterns apply, its text is not sent", async () => {
    const outside = tree({ "ignore": `*.log\n# ${SECRET}\n`, "Dockerfile": "FROM scratch\n" })
    const root = tree({ "app": "a", "debug.log": "l" })
    symlinkSync(join(outside, "ignore"), join(root, ".dockerignore"))
    const { dockerfile, entries, files } = await filesOf(root, { dockerfile: join(outside, "Dockerfile") })
    expect(leaks(entries)).toBe(false)
    expect(files).toEqual([".dockerignore", dockerfile, "app"].sort()) // *.log applied, as the CLI reads it
    const sent = entries.find((e) => e.name === ".dockerignore")!
    expect(sent.type).toBe("file")
    expect(parseDockerignore(sent.data.toString())).toEqual([dockerfile])
  })

  it(".dockerignore linked to a file inside the context, Dockerfile outside: that text is sent", async () => {
    const outside = tree({ "Dockerfile": "FROM scratch\n" })
    const root = tree({ "conf/ignore": "*.log\n", "app": "a", "x.log": "l" })
    symlinkSync("conf/ignore", join(root, ".dockerignore"))
    const { dockerfile, entries } = await filesOf(root, { dockerfile: join(outside, "Dockerfile") })
    const sent = entries.find((e) => e.name === ".dockerignore")!
    expect(parseDockerignore(sent.data.toString())).toEqual(["*.log", dockerfile])
  })

  it(".dockerignore linked outside, Dockerfile inside: sent as the link it is, patterns applied", async () => {
    const outside = tree({ "ignore": `*.log\n# ${SECRET}\n` })
    const root = tree({ "Dockerfile": "FROM scratch\n", "app": "a", "x.log": "l" })
    symlinkSync(join(outside, "ignore"), join(root, ".dockerignore"))
    const { entries, files } = await filesOf(root)
    expect(files).toEqual(["Dockerfile", "app"])
    expect(entries.find((e) => e.name === ".dockerignore")).toMatchObject({ type: "symlink", size: 0 })
    expect(entries.every((e) => !e.data.includes(SECRET))).toBe(true)
  })

  it("links inside the context are sent as links: never followed, a linked directory not walked", async () => {
    const outside = tree({ "secret.txt": SECRET, "dir/inner.txt": SECRET })
    const root = tree({ "Dockerfile": "FROM scratch\n" })
    symlinkSync(join(outside, "secret.txt"), join(root, "file-link"))
    symlinkSync(join(outside, "dir"), join(root, "dir-link"))
    const { entries } = await filesOf(root)
    expect(entries.map((e) => [e.name, e.type, e.data.length])).toEqual([
      ["Dockerfile", "file", 13],
      ["dir-link", "symlink", 0],
      ["file-link", "symlink", 0]
    ])
    expect(entries.every((e) => !e.data.includes(SECRET))).toBe(true)
  })

  it("a context directory reached through a link is packed from its target (the CLI's EvalSymlinks)", async () => {
    const real = tree({ "Dockerfile": "FROM scratch\n", "app": "a" })
    const holder = tree({})
    symlinkSync(real, join(holder, "ctx"))
    const { dockerfile, files } = await filesOf(join(holder, "ctx"))
    expect(dockerfile).toBe("Dockerfile")
    expect(files).toEqual(["Dockerfile", "app"])
  })

  it("a Dockerfile named inside the context that leads outside through a link fails: OutsideContext", async () => {
    const outside = tree({ "Dockerfile": `FROM scratch\n# ${SECRET}\n`, "d/Dockerfile": "FROM scratch\n" })
    const root = tree({ "app": "a" })
    symlinkSync(join(outside, "Dockerfile"), join(root, "Dockerfile"))
    symlinkSync(join(outside, "d"), join(root, "sub"))
    for (const options of [{}, { dockerfile: "Dockerfile" }, { dockerfile: join(root, "sub/Dockerfile") }]) {
      const error = await packError(root, options)
      expect(error).toMatchObject({ _tag: "BuildContextError", code: "OutsideContext" })
      expect(error.message).toContain("the Dockerfile leads outside the context through a symbolic link")
    }
  })

  it("a Dockerfile linked to another file inside the context is sent as that link", async () => {
    const root = tree({ "docker/Dockerfile.prod": "FROM scratch\n" })
    symlinkSync("docker/Dockerfile.prod", join(root, "Dockerfile"))
    const { entries } = await filesOf(root)
    expect(entries.find((e) => e.name === "Dockerfile")).toMatchObject({
      type: "symlink",
      linkname: "docker/Dockerfile.prod"
    })
  })

  it("a .dockerignore that is a directory, a FIFO or a link to a FIFO fails at once (BuildContextError)", async () => {
    const dir = tree({ "Dockerfile": "FROM scratch\n", ".dockerignore/x": "x" })
    expect(await packError(dir)).toMatchObject({ _tag: "BuildContextError", code: "EISDIR" })
    const fifo = tree({ "Dockerfile": "FROM scratch\n" })
    execFileSync("mkfifo", [join(fifo, ".dockerignore")])
    const error = await packError(fifo)
    expect(error).toMatchObject({ _tag: "BuildContextError", code: "EINVAL" })
    expect(error.message).toContain(".dockerignore: a FIFO, not a regular file")
    const linked = tree({ "Dockerfile": "FROM scratch\n" })
    symlinkSync(join(fifo, ".dockerignore"), join(linked, ".dockerignore"))
    expect(await packError(linked)).toMatchObject({ _tag: "BuildContextError", code: "EINVAL" })
  })

  it("an outside Dockerfile that is a FIFO fails at once", async () => {
    const outside = tree({})
    execFileSync("mkfifo", [join(outside, "Dockerfile")])
    const root = tree({ "app": "a" })
    const error = await packError(root, { dockerfile: join(outside, "Dockerfile") })
    expect(error).toMatchObject({ _tag: "BuildContextError", code: "EINVAL" })
  })
})
