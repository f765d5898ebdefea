import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

// The README's program is examples/quickstart.ts verbatim, which `npm run typecheck` compiles:
// the first thing a newcomer copies cannot silently stop compiling.
describe("README", () => {
  it("shows examples/quickstart.ts verbatim", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const quickstart = readFileSync(new URL("../../examples/quickstart.ts", import.meta.url), "utf8")
    expect(readme).toContain("```ts\n" + quickstart + "```")
    expect(quickstart.split("\n").filter((line) => line.trim() !== "").length).toBeLessThanOrEqual(15)
  })

  it("has exactly two set-up commands", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const setup = readme.split("## Set-up")[1]!.split("```sh\n")[1]!.split("```")[0]!
    expect(setup.trim().split("\n").map((line) => line.split("#")[0]!.trim())).toEqual([
      "bash scripts/tour.sh",
      "bash scripts/test.sh"
    ])
  })
})
