/**
 * Progress: what pull/push/build/load/import streams amount to, the CLI-like board, and the
 * terminal renderer's silence when the output is not a TTY.
 */
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { decodeBuildInfo } from "../../../src/generated/decoders/BuildInfo.js"
import { BuildInfo } from "../../../src/generated/schemas/BuildInfo.js"
import { terminalProgress } from "../../../src/services/progress-renderer.js"
import { decodeMessages, jsonValues } from "../../../src/wire/json-messages.js"
import {
  buildResult,
  emptyBuildFold,
  foldBuild,
  foldImport,
  foldLoad,
  foldPull,
  foldPush,
  progressBar,
  ProgressBoard,
  pullResult
} from "../../../src/wire/progress.js"

const ID = `sha256:${"ab".repeat(32)}`

describe("results", () => {
  it("build: the classic builder's aux ID, tags, output; noise between messages is ignored", async () => {
    const wire = [
      `{"stream":"Step 1/2 : FROM busybox:local\\n"}`,
      `not json at all`,
      `{"stream":" ---\\u003e 7f1ed0217710\\n"}`,
      `{"aux":{"ID":"${ID}"}}`,
      `{"stream":"Successfully built abababababab\\n"}`,
      `{"stream":"Successfully tagged t:1\\n"}`,
      ""
    ].join("\n")
    const messages = await Effect.runPromise(
      Stream.make(new TextEncoder().encode(wire)).pipe(
        jsonValues,
        decodeMessages("ImageBuild", async () => BuildInfo, decodeBuildInfo),
        Stream.runFold(() => emptyBuildFold, foldBuild)
      )
    )
    expect(buildResult(messages)).toEqual({
      imageId: ID,
      tags: ["t:1"],
      output:
        "Step 1/2 : FROM busybox:local\n ---> 7f1ed0217710\nSuccessfully built abababababab\nSuccessfully tagged t:1\n"
    })
  })

  it("build: `Successfully built` is the fallback when no aux came; nothing means no result", () => {
    const state = foldBuild(emptyBuildFold, { stream: "Successfully built 0123456789ab\n" })
    expect(buildResult(state)?.imageId).toBe("0123456789ab")
    expect(buildResult(foldBuild(emptyBuildFold, { stream: "Step 1/1 : FROM x\n" }))).toBeUndefined()
  })

  it("push: the digest from aux (or the older status line)", () => {
    const digest = `sha256:${"cd".repeat(32)}`
    expect(foldPush(undefined, { status: "Pushed", id: "abc" })).toBeUndefined()
    expect(foldPush(undefined, { aux: { Tag: "1", Digest: digest, Size: 527 } })).toEqual({
      tag: "1",
      digest,
      size: 527
    })
    expect(foldPush(undefined, { status: `1: digest: ${digest} size: 527` })).toEqual({ tag: "1", digest, size: 527 })
  })

  it("pull: digest and final status; a stream without `Status:` has no result", () => {
    let state = { digest: undefined, status: undefined } as Parameters<typeof foldPull>[0]
    for (
      const message of [
        { status: "Pulling from r/x", id: "1" },
        { status: "Pull complete", id: "abc", progressDetail: {} },
        { status: "Digest: sha256:ef" },
        { status: "Status: Downloaded newer image for 127.0.0.1:5000/r/x:1" }
      ]
    ) state = foldPull(state, message)
    expect(pullResult(state)).toEqual({
      digest: "sha256:ef",
      status: "Downloaded newer image for 127.0.0.1:5000/r/x:1"
    })
    expect(pullResult(foldPull({ digest: undefined, status: undefined }, { status: "Digest: sha256:ef" })))
      .toBeUndefined()
  })

  it("load and import", () => {
    const loaded = [{ stream: "Loaded image: a:1\n" }, { stream: `Loaded image ID: ${ID}\n` }].reduce(foldLoad, {
      names: [],
      ids: []
    })
    expect(loaded).toEqual({ names: ["a:1"], ids: [ID] })
    // Podman names every image of the archive in one line (podman 4.3.1's answer, no newline).
    expect(foldLoad({ names: [], ids: [] }, { stream: "Loaded image: docker.io/library/a:1,docker.io/library/b:1" }))
      .toEqual({ names: ["docker.io/library/a:1", "docker.io/library/b:1"], ids: [] })
    expect(foldImport(undefined, { status: `${ID}\n` })).toBe(ID)
    expect(foldImport(ID, { status: "Importing", progressDetail: {} })).toBe(ID)
  })
})

describe("the terminal board", () => {
  it("keeps one line per layer, in first-seen order, with the CLI's bar", () => {
    const board = new ProgressBoard()
    expect(board.apply({ status: "Pulling from r/x", id: "1" })).toBeUndefined()
    board.apply({ status: "Downloading", id: "aaa", progressDetail: { current: 500_000, total: 2_000_000 } })
    board.apply({ status: "Waiting", id: "bbb" })
    board.apply({ status: "Download complete", id: "aaa" })
    expect(board.apply({ status: "Digest: sha256:ef" })).toBe("Digest: sha256:ef\n")
    expect(board.apply({ stream: "Step 1/2\n" })).toBe("Step 1/2\n")
    expect(board.render()).toEqual(["1: Pulling from r/x", "aaa: Download complete", "bbb: Waiting"])
    expect(progressBar(1, 4, 8)).toBe("[==>     ]")
    expect(progressBar(4, 4, 8)).toBe("[========]")
  })

  it("writes nothing when the output is not a TTY, and redraws in place when it is", async () => {
    const written: Array<string> = []
    const pipe = { isTTY: false, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream
    await Effect.runPromise(terminalProgress({ output: pipe })({ status: "x", id: "a" }))
    expect(written).toEqual([])
    const tty = {
      isTTY: true,
      columns: 80,
      write: (s: string) => (written.push(s), true)
    } as unknown as NodeJS.WriteStream
    const sink = terminalProgress({ output: tty })
    await Effect.runPromise(sink({ status: "Downloading", id: "a", progressDetail: { current: 1, total: 2 } }))
    await Effect.runPromise(sink({ status: "Pull complete", id: "a" }))
    expect(written[0]).toContain("a: Downloading [====================>")
    expect(written[1]).toBe("\x1b[1A\x1b[Ja: Pull complete\n")
  })
})
