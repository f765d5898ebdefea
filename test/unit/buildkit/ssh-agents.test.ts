/**
 * The session's in-memory agent for given keys, without a daemon: requests cut in any chunking get
 * the same answers (identities, a signature that verifies, failure for an unknown key and for
 * anything else), and the key sources (file, `Redacted` text, an agent socket id) load as agents.
 */
import { Effect, Redacted } from "effect"
import fc from "fast-check"
import { execFileSync } from "node:child_process"
import * as crypto from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { keyAgent, sshAgents } from "../../../src/buildkit/ssh-agents.js"
import { agentFrame, AgentMessageReader, SshReader, SshWriter } from "../../../src/wire/ssh-agent.js"
import { chunked } from "../../support/chunking.js"

const dir = mkdtempSync(join(tmpdir(), "ed-sshagent-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const keyPath = join(dir, "id_ed25519")
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "unit-key", "-f", keyPath])
const pubBlob = Buffer.from(readFileSync(`${keyPath}.pub`, "utf8").split(" ")[1]!, "base64")

const loaded = Effect.runSync(
  Effect.map(sshAgents({ default: { keys: [{ key: Redacted.make(readFileSync(keyPath, "utf8")) }] } }, {}), (m) => m)
)

describe("sshAgents", () => {
  it("keys become an agent holding them; a socket id keeps its path, $SSH_AUTH_SOCK by default", async () => {
    const agent = loaded.get("default")!
    expect(agent._tag).toBe("Keys")
    if (agent._tag !== "Keys") return
    expect(Buffer.from(agent.keys[0]!.blob).equals(pubBlob)).toBe(true)
    expect(agent.keys[0]!.comment).toBe("unit-key")
    const sockets = await Effect.runPromise(
      sshAgents({ a: {}, b: { socket: "/b.sock" } }, { SSH_AUTH_SOCK: "/a.sock" })
    )
    expect([...sockets]).toEqual([["a", { _tag: "Socket", path: "/a.sock" }], ["b", {
      _tag: "Socket",
      path: "/b.sock"
    }]])
    const byDefault = await Effect.runPromise(sshAgents(true, { SSH_AUTH_SOCK: "/c.sock" }))
    expect([...byDefault]).toEqual([["default", { _tag: "Socket", path: "/c.sock" }]])
  })
})

describe("keyAgent", () => {
  const agent = loaded.get("default")!
  const keys = agent._tag === "Keys" ? agent.keys : []
  const data = crypto.randomBytes(32)
  const requests = Buffer.concat([
    agentFrame(Uint8Array.of(11)),
    agentFrame(new SshWriter().byte(13).string(pubBlob).string(data).uint32(0).finish()),
    agentFrame(new SshWriter().byte(13).string(Uint8Array.of(1, 2)).string(data).uint32(0).finish()), // unknown key
    agentFrame(Uint8Array.of(17)) // ADD_IDENTITY
  ])
  const publicKey = crypto.createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: pubBlob.subarray(-32).toString("base64url") },
    format: "jwk"
  })

  it("any chunking of requests: identities, a verifying signature, failure, failure", () => {
    fc.assert(
      fc.property(fc.array(fc.nat()), (cuts) => {
        const serve = keyAgent(keys)
        const answers = chunked(requests, cuts).flatMap((chunk) => serve(chunk))
        const bodies = new AgentMessageReader().push(Buffer.concat(answers))
        expect(bodies.map((b) => b[0])).toEqual([12, 14, 5, 5])
        const identities = new SshReader(bodies[0]!.subarray(1))
        expect(identities.uint32()).toBe(1)
        expect(Buffer.from(identities.string()).equals(pubBlob)).toBe(true)
        expect(identities.text()).toBe("unit-key")
        const signature = new SshReader(new SshReader(bodies[1]!.subarray(1)).string())
        expect(signature.text()).toBe("ssh-ed25519")
        expect(crypto.verify(null, data, publicKey, signature.string())).toBe(true)
      }),
      { numRuns: 100 }
    )
  })

  it("a malformed length ends the stream (throws)", () => {
    expect(() => keyAgent(keys)(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow()
  })
})
