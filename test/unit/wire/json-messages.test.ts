import { Effect, Exit, Schema, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeMessages, inStreamFailure, jsonValues } from "../../../src/wire/json-messages.js"
import { chunked } from "../../support/chunking.js"

const encoder = new TextEncoder()

const values = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.runSync(Stream.runCollect(jsonValues(Stream.fromIterable(chunks))))

describe("jsonValues", () => {
  it("any chunking of newline-separated JSON gives the same values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        (docs, cuts, trailingNewline) => {
          const text = docs.map((d) => JSON.stringify(d)).join("\n") + (trailingNewline ? "\n" : "")
          const got = values(chunked(encoder.encode(text), cuts))
          // JSON.stringify normalises -0 to 0, so compare against the round trip.
          expect(got).toEqual(docs.map((d) => JSON.parse(JSON.stringify(d))))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("multi-byte characters split across chunks survive", () => {
    const text = encoder.encode("{\"status\":\"héllo ✓ 日本\"}\n")
    for (let cut = 1; cut < text.length; cut++) {
      expect(values([text.slice(0, cut), text.slice(cut)])).toEqual([{ status: "héllo ✓ 日本" }])
    }
  })

  it("drops blank lines and plain-text noise, accepts CRLF and RFC 7464 record separators", () => {
    const text = "\n{\"a\":1}\r\nnot json at all\n\u001e{\"b\":2}\n   \n{\"c\":3}"
    expect(values([encoder.encode(text)])).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }])
  })
})

describe("decodeMessages", () => {
  const Progress = Schema.Struct({ status: Schema.optionalKey(Schema.String), id: Schema.optionalKey(Schema.String) })
  const run = (lines: ReadonlyArray<unknown>) =>
    // no fast decoder: every message goes through the Schema, loaded on the first one
    Effect.runPromiseExit(
      Stream.runCollect(decodeMessages("ImageCreate", async () => Progress)(Stream.fromIterable(lines)))
    )

  it("decodes messages until the daemon reports an error (1.41 form: error + errorDetail)", async () => {
    const exit = await run([
      { status: "Pulling from library/x", id: "latest" },
      { error: "manifest unknown", errorDetail: { message: "manifest unknown: manifest unknown" } },
      { status: "never reached" }
    ])
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
    expect(error && "error" in error ? error.error : undefined).toMatchObject({
      _tag: "InStreamError",
      operation: "ImageCreate",
      daemonMessage: "manifest unknown: manifest unknown",
      message: "ImageCreate: manifest unknown: manifest unknown"
    })
  })

  it("recognises the 1.52+ form (errorDetail only) and the legacy form (error only)", () => {
    expect(inStreamFailure("Op", { errorDetail: { message: "boom", code: 1 } })).toMatchObject({
      daemonMessage: "boom",
      code: 1
    })
    expect(inStreamFailure("Op", { error: "bad" })).toMatchObject({ daemonMessage: "bad", code: undefined })
    expect(inStreamFailure("Op", { status: "ok" })).toBeUndefined()
    expect(inStreamFailure("Op", "text")).toBeUndefined()
  })

  it("passes ordinary messages through, extra fields stripped", async () => {
    const exit = await run([{ status: "Downloading", id: "abc", progressDetail: { current: 1 } }])
    expect(exit).toEqual(Exit.succeed([{ status: "Downloading", id: "abc" }]))
  })
})
