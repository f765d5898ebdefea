/**
 * The examples users copy from run against this engine and print what they promise. Each example
 * removes what it creates (`remove: true`, `runScoped`); the test gives them the local test image.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { currentEngine } from "../support/engines.js"
import { TEST_IMAGE } from "../support/resources.js"

const target = currentEngine()

const runExample = async (file: string): Promise<string> => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", `examples/${file}`], {
    env: { ...process.env, DOCKER_HOST: target.host, DOCKER_API_VERSION: "", IMAGE: TEST_IMAGE },
    timeout: 60_000
  })
  return stdout
}

describe(`examples on engine ${target.id}`, () => {
  it("run-and-collect: exit code, stdout and stderr apart", async () => {
    expect(await runExample("run-and-collect.ts")).toBe("exit code 3\nstdout: to stdout\nstderr: to stderr\n")
  })

  it("follow-logs: follows until the ready line, then stops", async () => {
    expect(await runExample("follow-logs.ts")).toBe("log: starting\nlog: ready on 8080\nready after 2 lines\n")
  })

  it("exec: an argv's exit code and output; stdin reaches the process", async () => {
    expect(await runExample("exec.ts")).toBe("exit code 4, uid=0\nwc -l read 3 lines from stdin\n")
  })

  it("copy-in-out: a file put into the container comes back out", async () => {
    expect(await runExample("copy-in-out.ts")).toBe(
      "in the container: hello.txt, 20 bytes\ncopied back: hello from the host\n"
    )
  })

  it("events: the container's lifecycle as it happens", async () => {
    expect(await runExample("events.ts")).toBe("event: create\nevent: start\nevent: die\n")
  })
})
