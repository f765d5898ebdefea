import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { currentEngine } from "../support/engines.js"

const target = currentEngine()

// The README's first command ends in `tsx examples/tour.ts`; run that program against this engine.
describe(`tour on engine ${target.id}`, () => {
  it("prints the engine, the negotiated API version and the counts", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/tour.ts"], {
      env: { ...process.env, DOCKER_HOST: target.host, DOCKER_API_VERSION: "" },
      timeout: 60_000
    })
    const api = target.id === "docker-20.10" ? "1.41" : target.api!
    expect(stdout).toContain(`daemon       ${target.host}`)
    expect(stdout).toMatch(
      new RegExp(`engine {7}Docker ${(target.version ?? "").replace(/[.+]/g, "\\$&")}.*API ${api}`)
    )
    expect(stdout).toContain(`negotiated   API ${api}`)
    expect(stdout).toMatch(/containers {3}\d+ \(\d+ running, \d+ paused, \d+ stopped\)/)
    expect(stdout).toMatch(/images {7}[1-9]\d*/)
    // It builds an image and runs a container, its output streamed with stdout and stderr apart.
    expect(stdout).toMatch(/built {8}sha256:[0-9a-f]{12}… \(\d+ layers in its history\)/)
    expect(stdout).toContain("run stdout   line 1\n  run stdout   line 2\n  run stdout   line 3\n")
    expect(stdout).toContain("run stderr   done\n")
    expect(stdout).toContain("exit code    3\n")
  })
})
