import * as Undici from "undici"
import { describe, expect, it } from "vitest"
import { buildConnector, Pool } from "../../../src/engine/undici.js"

// src/engine/undici.ts imports these from undici's own files (start-up cost): they must be the
// very objects the package root exports, in the undici release installed.
describe("undici parts", () => {
  it("are the package root's Pool and buildConnector", () => {
    expect(Pool).toBe(Undici.Pool)
    expect(buildConnector).toBe(Undici.buildConnector)
  })
})
