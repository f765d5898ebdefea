/** The BuildKit renderer on recorded traces of both engines: plain lines as `--progress=plain` prints them, and a TTY view. */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { buildKitProgress } from "../../../src/services/buildkit-renderer.js"
import { buildKitEvents } from "../../../src/wire/buildkit-status.js"

const FIXTURES = join(import.meta.dirname, "../../fixtures/buildkit")
const eventsOf = (name: string) =>
  readFileSync(join(FIXTURES, name), "utf8").split("\n").filter(Boolean).flatMap((l) => buildKitEvents(JSON.parse(l)))

const render = (name: string, mode: "plain" | "tty", isTTY = false) => {
  const output = Object.assign(new PassThrough(), { isTTY, columns: 100 })
  let text = ""
  output.on("data", (c: Buffer) => (text += c.toString()))
  const sink = buildKitProgress({ output, mode })
  for (const event of eventsOf(name)) Effect.runSync(sink(event))
  return text
}

describe("buildKitProgress", () => {
  for (const engine of ["docker-20.10", "docker-latest"]) {
    it(`plain lines for a failing build (${engine}): the step, its output, its error`, () => {
      const text = render(`${engine}-failing.jsonl`, "plain")
      const step = /^#(\d+) \[2\/2\] RUN echo about-to-fail.*$/m.exec(text)
      expect(step).not.toBeNull()
      const n = step![1]
      expect(text).toMatch(new RegExp(`^#${n} \\d+\\.\\d{3} about-to-fail$`, "m"))
      expect(text).toMatch(new RegExp(`^#${n} \\d+\\.\\d{3} oops$`, "m"))
      expect(text).toMatch(new RegExp(`^#${n} ERROR: .*exit code: 7`, "m"))
      expect(text).not.toContain("\x1b[")
    })

    it(`plain lines for a successful build (${engine}): DONE with durations, the image`, () => {
      const text = render(`${engine}-multi-stage.jsonl`, "plain")
      expect(text).toMatch(/^#\d+ DONE \d+\.\ds$/m)
      expect(text).toMatch(/^writing image sha256:[0-9a-f]{64}$/m)
    })
  }

  it("auto mode writes plain lines to a non-TTY and redraws on a TTY", () => {
    const plain = render("docker-latest-warnings.jsonl", "plain")
    expect(plain).toMatch(/^WARNING: FromAsCasing/m)
    const auto = (() => {
      const output = Object.assign(new PassThrough(), { isTTY: true, columns: 100 })
      let text = ""
      output.on("data", (c: Buffer) => (text += c.toString()))
      const sink = buildKitProgress({ output })
      for (const event of eventsOf("docker-latest-warnings.jsonl")) Effect.runSync(sink(event))
      return text
    })()
    expect(auto).toContain("\x1b[")
    expect(auto).toMatch(/\[\+\] Building \d+\.\ds \(\d+\/\d+\)/)
    expect(auto).toContain(" => [2/2] RUN echo warned")
  })
})
