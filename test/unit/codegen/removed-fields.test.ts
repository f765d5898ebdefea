/** The removed-fields policy: spec/removed-fields.yaml → the descriptors' `whenRemoved` → the executor. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { CodegenError } from "../../../codegen/load.js"
import { loadRemovedFields, removedFieldPolicies } from "../../../codegen/removed-fields.js"
import type { OperationDescriptor } from "../../../src/core/descriptor.js"
import { buildRequest } from "../../../src/engine/executor.js"
import * as Ops from "../../../src/generated/operations/index.js"
import { ApiVersionError } from "../../../src/index.js"

const descriptors = (Object.values(Ops) as ReadonlyArray<unknown>).filter((d): d is OperationDescriptor =>
  typeof d === "object" && d !== null && "operationId" in d
)

const loadText = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), "removed-fields-"))
  try {
    writeFileSync(join(dir, "removed.yaml"), text)
    return loadRemovedFields(join(dir, "removed.yaml"))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe("spec/removed-fields.yaml", () => {
  it("decides every removed request parameter and body field of the generated descriptors", () => {
    const removed: Array<string> = []
    for (const d of descriptors) {
      for (const p of d.params) {
        if (p.until !== undefined) removed.push(`${d.operationId} ${p.in}.${p.name} ${p.whenRemoved}`)
      }
      for (const [path, a] of Object.entries(d.fields ?? {})) {
        if (path.startsWith("body.") && a.until !== undefined) removed.push(`${d.operationId} ${path} ${a.whenRemoved}`)
      }
    }
    expect(removed.sort()).toEqual([
      "BuildPrune query.keep-storage refuse",
      "ContainerCreate body.HostConfig.KernelMemory refuse",
      "ContainerCreate body.HostConfig.KernelMemoryTCP refuse",
      "ContainerCreate body.MacAddress refuse",
      "ContainerUpdate body.KernelMemory refuse",
      "ContainerUpdate body.KernelMemoryTCP refuse",
      "ImageCommit body.MacAddress refuse",
      "NetworkCreate body.CheckDuplicate drop",
      "SystemAuth body.email drop"
    ])
  })

  it("every entry has a policy and a reason, and keys name where the field lives", () => {
    expect(() => loadText("NetworkCreate:\n  body.CheckDuplicate:\n    policy: ignore\n    reason: r\n")).toThrow(
      /NetworkCreate\.body\.CheckDuplicate: policy must be drop or refuse, not "ignore"/
    )
    expect(() => loadText("NetworkCreate:\n  body.CheckDuplicate:\n    policy: drop\n")).toThrow(/a reason is required/)
    expect(() => loadText("NetworkCreate:\n  CheckDuplicate:\n    policy: drop\n    reason: r\n")).toThrow(
      /must start with body\., query\. or header\./
    )
  })

  it("an undecided removed field, or an entry naming nothing, stops the generator", () => {
    const policies = removedFieldPolicies(
      loadText("NetworkCreate:\n  body.CheckDuplicate:\n    policy: drop\n    reason: always checked\n")
    )
    expect(() => policies.checkAllUsed()).toThrow(/NetworkCreate\.body\.CheckDuplicate names no removed parameter/)
    expect(policies.policyOf("NetworkCreate", "body.CheckDuplicate", "1.45")).toBe("drop")
    expect(() => policies.checkAllUsed()).not.toThrow()
    expect(() => policies.policyOf("SystemAuth", "body.email", "1.51")).toThrow(CodegenError)
    expect(() => policies.policyOf("SystemAuth", "body.email", "1.51")).toThrow(
      /SystemAuth: body\.email was removed after API 1\.51: decide in spec\/removed-fields\.yaml/
    )
  })
})

describe("the generated descriptors, as the executor applies them", () => {
  it("drops CheckDuplicate after 1.45 and sends it up to 1.45", () => {
    const body = { Name: "n", CheckDuplicate: true, Labels: { a: "b" } }
    const at146 = buildRequest(Ops.NetworkCreate, { body }, "1.46")
    expect(at146).toMatchObject({
      body: "{\"Name\":\"n\",\"Labels\":{\"a\":\"b\"}}",
      dropped: ["field \"CheckDuplicate\""]
    })
    expect(buildRequest(Ops.NetworkCreate, { body }, "1.45")).toMatchObject({
      body: "{\"Name\":\"n\",\"CheckDuplicate\":true,\"Labels\":{\"a\":\"b\"}}"
    })
  })

  it("drops SystemAuth's email after 1.51", () => {
    expect(buildRequest(Ops.SystemAuth, { body: { username: "u", email: "e@x" } }, "1.52")).toMatchObject({
      body: "{\"username\":\"u\"}"
    })
  })

  it("refuses what the daemon would no longer do", () => {
    const kernel = buildRequest(Ops.ContainerCreate, { body: { Image: "x", HostConfig: { KernelMemory: 1 } } }, "1.42")
    expect((kernel as ApiVersionError)._tag).toBe("ApiVersionError")
    expect((kernel as ApiVersionError).message).toBe(
      "ContainerCreate: field \"HostConfig.KernelMemory\" was removed after API 1.41, but requests use API 1.42"
    )
    const prune = buildRequest(Ops.BuildPrune, { keepStorage: 1 }, "1.52")
    expect(prune).toBeInstanceOf(ApiVersionError)
    expect((prune as ApiVersionError).required).toBe("1.51")
  })
})
