/** The error union: tags users can tell apart with `catchTag`. */
import { Cause, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type DockerError, OperationTimeoutError } from "../../../src/index.js"

const ours = new OperationTimeoutError({ operation: "SystemInfo", millis: 5, message: "SystemInfo: no answer in 5 ms" })

// A call bounded by the caller's own Effect.timeout can fail with either timeout; each catchTag
// must catch exactly its own.
const whichTimeout = (call: Effect.Effect<string, DockerError>) =>
  call.pipe(
    Effect.timeout("20 millis"),
    Effect.catchTag("TimeoutError", () => Effect.succeed("the caller's Effect.timeout")),
    Effect.catchTag("OperationTimeoutError", (e) => Effect.succeed(`the operation's own bound (${e.millis} ms)`))
  )

describe("OperationTimeoutError", () => {
  it("has a tag of its own, not Effect's Cause.TimeoutError's", () => {
    expect(ours._tag).toBe("OperationTimeoutError")
    expect(ours._tag).not.toBe(new Cause.TimeoutError()._tag)
  })

  it("catchTag tells it from the TimeoutError of Effect.timeout", async () => {
    expect(await Effect.runPromise(whichTimeout(Effect.fail(ours)))).toBe("the operation's own bound (5 ms)")
    expect(await Effect.runPromise(whichTimeout(Effect.never))).toBe("the caller's Effect.timeout")
  })
})
