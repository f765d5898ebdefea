import { describe, expect, it } from "vitest"
import {
  compareApiVersions,
  isSupportedApiVersion,
  MAX_API_VERSION,
  negotiateApiVersion,
  normalizeApiVersion,
  parseVersionRefusal
} from "../../../src/index.js"

describe("API versions", () => {
  it("compares numerically, not as strings", () => {
    expect(compareApiVersions("1.9", "1.10")).toBeLessThan(0)
    expect(compareApiVersions("1.41", "1.41")).toBe(0)
    expect(compareApiVersions("1.51", "1.41")).toBeGreaterThan(0)
    expect(compareApiVersions("2.0", "1.99")).toBeGreaterThan(0)
  })

  it("normalises what users and daemons write", () => {
    expect(normalizeApiVersion("v1.41")).toBe("1.41")
    expect(normalizeApiVersion(" 1.51 ")).toBe("1.51")
    expect(normalizeApiVersion("1")).toBeUndefined()
    expect(normalizeApiVersion("latest")).toBeUndefined()
  })

  it("negotiates min(ours, the daemon's) like the Docker CLI", () => {
    expect(negotiateApiVersion("1.41")).toBe("1.41")
    expect(negotiateApiVersion("1.51")).toBe("1.51")
    expect(negotiateApiVersion("1.99")).toBe(MAX_API_VERSION)
    expect(negotiateApiVersion(undefined)).toBeUndefined()
    expect(negotiateApiVersion("garbage")).toBeUndefined()
  })

  it("knows the supported range", () => {
    expect(isSupportedApiVersion("1.41")).toBe(true)
    expect(isSupportedApiVersion(MAX_API_VERSION)).toBe(true)
    expect(isSupportedApiVersion("1.40")).toBe(false)
    expect(isSupportedApiVersion("1.57")).toBe(false)
  })

  it("recognises the daemon's refusal of a version", () => {
    expect(parseVersionRefusal(
      "client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version"
    )).toEqual({ required: "1.44" })
    expect(parseVersionRefusal("client version 1.56 is too new. Maximum supported API version is 1.41"))
      .toEqual({ required: "1.41" })
    expect(parseVersionRefusal("No such container: x")).toBeUndefined()
  })
})
