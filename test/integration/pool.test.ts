import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { DEFAULT_CONNECTIONS } from "../../src/engine/transport.js"
import { currentEngine } from "../support/engines.js"

const target = currentEngine()
const ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const LOAD = fileURLToPath(new URL("../support/pool-load.ts", import.meta.url))
const CALLERS = 600
const CALLS = 5

interface Load {
  readonly succeeded: number
  readonly failures: Record<string, number>
  readonly peakSockets: number
}

/** `CALLERS` concurrent callers × `CALLS` calls in a child limited to 1024 file descriptors. */
const underLoad = async (connections: number | "default"): Promise<Load> => {
  const command = `ulimit -n 1024; exec "$0" --import tsx "$@"`
  const { stdout } = await promisify(execFile)(
    "bash",
    ["-c", command, process.execPath, LOAD, ENTRY, target.host, `${CALLERS}`, `${CALLS}`, `${connections}`],
    { timeout: 60_000 }
  )
  return JSON.parse(stdout.trim().split("\n").pop()!) as Load
}

// A pool that opened a socket whenever its callers came back faster than undici freed one ran
// out of file descriptors under `ulimit -n 1024` (EMFILE); here no call may fail.
describe(`connection pool on engine ${target.id}`, () => {
  it(`${CALLERS} concurrent callers × ${CALLS}: no failure, at most the default bound of sockets`, async () => {
    const load = await underLoad("default")
    expect(load.failures).toEqual({})
    expect(load.succeeded).toBe(CALLERS * CALLS)
    expect(load.peakSockets).toBeGreaterThan(0)
    expect(load.peakSockets).toBeLessThanOrEqual(DEFAULT_CONNECTIONS)
  })

  it("without a bound: no more sockets than concurrent calls", async () => {
    const load = await underLoad(Infinity)
    expect(load.failures).toEqual({})
    expect(load.succeeded).toBe(CALLERS * CALLS)
    expect(load.peakSockets).toBeLessThanOrEqual(CALLERS)
  })
})
