/**
 * The ssh-agent codec: messages split by any chunking come out whole, requests parse (a sign
 * request with and without flags, a truncated one and unknown types as unsupported), answers are
 * the bytes draft-miller-ssh-agent specifies, and a length past OpenSSH's limit is refused.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  agentFailure,
  agentFrame,
  AgentMessageReader,
  agentRequest,
  identitiesAnswer,
  MAX_AGENT_MESSAGE,
  signResponse,
  SshReader,
  SshWireError,
  SshWriter
} from "../../../src/wire/ssh-agent.js"
import { chunked } from "../../support/chunking.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

describe("AgentMessageReader", () => {
  it("any chunking of framed messages gives the same message bodies", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { maxLength: 8 }),
        fc.array(fc.nat()),
        (bodies, cuts) => {
          const bytes = Buffer.concat(bodies.map((b) => agentFrame(b)))
          const reader = new AgentMessageReader()
          const out = chunked(bytes, cuts).flatMap((chunk) => reader.push(chunk))
          expect(out.map(hex)).toEqual(bodies.map(hex))
          expect(reader.buffered).toBe(0)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("keeps a partial message until the rest arrives", () => {
    const reader = new AgentMessageReader()
    const frame = agentFrame(Uint8Array.of(11))
    expect(reader.push(frame.subarray(0, 3))).toEqual([])
    expect(reader.push(frame.subarray(3, 4))).toEqual([])
    expect(reader.buffered).toBe(4)
    expect(reader.push(frame.subarray(4)).map(hex)).toEqual(["0b"])
  })

  it("refuses a length above 256 KiB or of 0 (the stream is unusable then)", () => {
    const big = new SshWriter().uint32(MAX_AGENT_MESSAGE + 1).finish()
    expect(() => new AgentMessageReader().push(big)).toThrow(SshWireError)
    expect(() => new AgentMessageReader().push(Uint8Array.of(0, 0, 0, 0))).toThrow(SshWireError)
    // the limit itself is accepted (waits for the bytes)
    expect(new AgentMessageReader().push(new SshWriter().uint32(MAX_AGENT_MESSAGE).finish())).toEqual([])
  })
})

describe("agentRequest", () => {
  const key = Uint8Array.of(1, 2, 3)
  const data = Uint8Array.of(9, 8)

  it("reads identity and sign requests", () => {
    expect(agentRequest(Uint8Array.of(11))).toEqual({ _tag: "RequestIdentities" })
    const sign = new SshWriter().byte(13).string(key).string(data).uint32(4).finish()
    expect(agentRequest(sign)).toEqual({ _tag: "SignRequest", key, data, flags: 4 })
    // flags are optional in old clients
    const noFlags = new SshWriter().byte(13).string(key).string(data).finish()
    expect(agentRequest(noFlags)).toEqual({ _tag: "SignRequest", key, data, flags: 0 })
  })

  it("anything else, or a truncated sign request, is unsupported", () => {
    expect(agentRequest(Uint8Array.of(17))).toEqual({ _tag: "Unsupported", type: 17 }) // ADD_IDENTITY
    const extension = new SshWriter().byte(27).string("session-bind@openssh.com").finish()
    expect(agentRequest(extension)).toEqual({ _tag: "Unsupported", type: 27 })
    const truncated = new SshWriter().byte(13).uint32(50).finish()
    expect(agentRequest(truncated)).toEqual({ _tag: "Unsupported", type: 13 })
  })
})

describe("answers", () => {
  it("IDENTITIES_ANSWER, SIGN_RESPONSE and FAILURE as framed bytes", () => {
    expect(hex(agentFailure())).toBe("0000000105")
    expect(hex(identitiesAnswer([]))).toBe("000000050c00000000")
    const answer = identitiesAnswer([{ blob: Uint8Array.of(0xaa, 0xbb), comment: "me" }])
    expect(hex(answer)).toBe("00000011" + "0c" + "00000001" + "00000002aabb" + "000000026d65")
    expect(hex(signResponse(Uint8Array.of(7)))).toBe("00000006" + "0e" + "0000000107")
  })

  it("mpint: no leading zeros, a zero byte before a set top bit", () => {
    const mp = (bytes: Array<number>) => hex(new SshWriter().mpint(Uint8Array.from(bytes)).finish())
    expect(mp([0, 0, 0x12])).toBe("0000000112")
    expect(mp([0x80, 1])).toBe("00000003008001")
    expect(mp([0, 0])).toBe("00000000")
  })

  it("SshReader refuses a string past the end", () => {
    const reader = new SshReader(Uint8Array.of(0, 0, 0, 9, 1))
    expect(() => reader.string()).toThrow(SshWireError)
  })
})
