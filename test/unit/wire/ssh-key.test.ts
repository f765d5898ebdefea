/**
 * Private keys as `ssh-keygen` writes them (OpenSSH format, plain and encrypted with each cipher
 * it offers; PEM PKCS#1/SEC1/PKCS#8, plain and encrypted): the public blob is the one in the
 * `.pub` file, the comment is kept, and signatures verify with the public key as `ssh-keygen`
 * exports it (Ed25519 from the `.pub` blob) — rsa-sha2-256/512 and ssh-rsa by the flags. A key
 * that is encrypted without a passphrase, with a wrong one, or is no key at all is a typed
 * `SshKeyParseError` whose message holds neither key nor passphrase.
 */
import { pbkdf } from "bcrypt-pbkdf"
import { execFileSync } from "node:child_process"
import * as crypto from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { SshReader } from "../../../src/wire/ssh-agent.js"
import {
  type BcryptPbkdf,
  isEncryptedOpenSshKey,
  parseSshPrivateKey,
  SshKeyParseError,
  type SshKeyProblem
} from "../../../src/wire/ssh-key.js"

const dir = mkdtempSync(join(tmpdir(), "ed-sshkey-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PASSPHRASE = "correct horse battery"
const bcrypt: BcryptPbkdf = (pass, salt, rounds, length) => {
  const out = new Uint8Array(length)
  expect(pbkdf(pass, pass.length, salt, salt.length, out, length, rounds)).toBe(0)
  return out
}
const pass = new TextEncoder().encode(PASSPHRASE)

let counter = 0
/** A fresh key from `ssh-keygen` with `args`: its private text, `.pub` blob and comment. */
const keygen = (args: Array<string>, passphrase = "") => {
  const path = join(dir, `k${counter++}`)
  const comment = `comment-${counter}`
  execFileSync("ssh-keygen", ["-q", "-N", passphrase, "-C", comment, "-f", path, ...args])
  const pub = readFileSync(`${path}.pub`, "utf8").trim().split(" ")
  return { path, text: readFileSync(path, "utf8"), blob: new Uint8Array(Buffer.from(pub[1]!, "base64")), comment }
}

/** The public key to verify with, independent of the parser: ssh-keygen's export, or the Ed25519 blob. */
const publicKey = (key: { path: string; blob: Uint8Array }): crypto.KeyObject => {
  const reader = new SshReader(key.blob)
  if (new TextDecoder().decode(reader.string()) === "ssh-ed25519") {
    const x = Buffer.from(reader.string()).toString("base64url")
    return crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" })
  }
  return crypto.createPublicKey(execFileSync("ssh-keygen", ["-e", "-m", "PKCS8", "-f", `${key.path}.pub`]))
}

/** The signature blob's algorithm and bytes. */
const signature = (blob: Uint8Array) => {
  const reader = new SshReader(blob)
  const algorithm = new TextDecoder().decode(reader.string())
  const bytes = reader.string()
  expect(reader.done).toBe(true)
  return { algorithm, bytes }
}

/** An ECDSA signature's (mpint r, mpint s) as DER, for `crypto.verify`. */
const ecdsaDer = (inner: Uint8Array) => {
  const reader = new SshReader(inner)
  const int = (bytes: Uint8Array) => Buffer.concat([Buffer.of(0x02, bytes.length), bytes])
  const body = Buffer.concat([int(reader.string()), int(reader.string())])
  return body.length < 128
    ? Buffer.concat([Buffer.of(0x30, body.length), body])
    : Buffer.concat([Buffer.of(0x30, 0x81, body.length), body])
}

const problemOf = (run: () => unknown): SshKeyProblem | "none" => {
  try {
    run()
    return "none"
  } catch (error) {
    expect(error).toBeInstanceOf(SshKeyParseError)
    expect((error as Error).message).not.toContain(PASSPHRASE)
    expect((error as Error).message).not.toMatch(/[A-Za-z0-9+/]{40}/) // no key bytes in base64
    return (error as SshKeyParseError).problem
  }
}

const challenge = crypto.randomBytes(48)

describe("OpenSSH-format keys", () => {
  it("Ed25519: blob, comment, a signature that verifies", () => {
    const key = keygen(["-t", "ed25519"])
    expect(isEncryptedOpenSshKey(key.text)).toBe(false)
    const parsed = parseSshPrivateKey(key.text)
    expect(parsed.type).toBe("ssh-ed25519")
    expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
    expect(parsed.comment).toBe(key.comment)
    const sig = signature(parsed.sign(challenge, 0))
    expect(sig.algorithm).toBe("ssh-ed25519")
    expect(crypto.verify(null, challenge, publicKey(key), sig.bytes)).toBe(true)
  })

  it("RSA: rsa-sha2-512, rsa-sha2-256 and ssh-rsa by the request's flags", () => {
    const key = keygen(["-t", "rsa", "-b", "2048"])
    const parsed = parseSshPrivateKey(key.text)
    expect(parsed.type).toBe("ssh-rsa")
    expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
    expect(parsed.comment).toBe(key.comment)
    const pub = publicKey(key)
    for (
      const [flags, algorithm, hash] of [[4, "rsa-sha2-512", "sha512"], [2, "rsa-sha2-256", "sha256"], [
        0,
        "ssh-rsa",
        "sha1"
      ]] as const
    ) {
      const sig = signature(parsed.sign(challenge, flags))
      expect(sig.algorithm).toBe(algorithm)
      expect(crypto.verify(hash, challenge, pub, sig.bytes)).toBe(true)
    }
  })

  it.each([256, 384, 521])("ECDSA P-%i", (bits) => {
    const key = keygen(["-t", "ecdsa", "-b", String(bits)])
    const parsed = parseSshPrivateKey(key.text)
    expect(parsed.type).toBe(`ecdsa-sha2-nistp${bits}`)
    expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
    const sig = signature(parsed.sign(challenge, 0))
    expect(sig.algorithm).toBe(`ecdsa-sha2-nistp${bits}`)
    const hash = bits === 256 ? "sha256" : bits === 384 ? "sha384" : "sha512"
    expect(crypto.verify(hash, challenge, publicKey(key), ecdsaDer(sig.bytes))).toBe(true)
  })

  it.each(["aes256-ctr", "aes128-cbc", "aes256-gcm@openssh.com"])(
    "encrypted (%s): needs the passphrase; a wrong one is refused",
    (cipher) => {
      const key = keygen(["-t", "ed25519", "-Z", cipher, "-a", "4"], PASSPHRASE)
      expect(isEncryptedOpenSshKey(key.text)).toBe(true)
      expect(problemOf(() => parseSshPrivateKey(key.text, { bcrypt }))).toBe("Encrypted")
      const wrong = new TextEncoder().encode("not the passphrase")
      expect(problemOf(() => parseSshPrivateKey(key.text, { passphrase: wrong, bcrypt }))).toBe("WrongPassphrase")
      const parsed = parseSshPrivateKey(key.text, { passphrase: pass, bcrypt })
      expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
      expect(parsed.comment).toBe(key.comment)
      expect(crypto.verify(null, challenge, publicKey(key), signature(parsed.sign(challenge, 0)).bytes)).toBe(true)
    }
  )

  it("an encrypted RSA key decrypts and signs", () => {
    const key = keygen(["-t", "rsa", "-b", "2048", "-a", "4"], PASSPHRASE)
    const parsed = parseSshPrivateKey(key.text, { passphrase: pass, bcrypt })
    const sig = signature(parsed.sign(challenge, 2))
    expect(crypto.verify("sha256", challenge, publicKey(key), sig.bytes)).toBe(true)
  })
})

describe("PEM keys", () => {
  it("PKCS#1 RSA (no comment in the file: the caller's)", () => {
    const key = keygen(["-t", "rsa", "-b", "2048", "-m", "PEM"])
    expect(key.text).toContain("BEGIN RSA PRIVATE KEY")
    const parsed = parseSshPrivateKey(key.text, { comment: key.path })
    expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
    expect(parsed.comment).toBe(key.path)
    expect(crypto.verify("sha512", challenge, publicKey(key), signature(parsed.sign(challenge, 4)).bytes)).toBe(true)
  })

  it("SEC1 and PKCS#8 ECDSA", () => {
    for (const format of ["PEM", "PKCS8"]) {
      const key = keygen(["-t", "ecdsa", "-m", format])
      const parsed = parseSshPrivateKey(key.text)
      expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
      expect(crypto.verify("sha256", challenge, publicKey(key), ecdsaDer(signature(parsed.sign(challenge, 0)).bytes)))
        .toBe(true)
    }
  })

  it("encrypted PEM (PKCS#1 Proc-Type and PKCS#8): the passphrase or a typed error", () => {
    for (const format of ["PEM", "PKCS8"]) {
      const key = keygen(["-t", "rsa", "-b", "2048", "-m", format], PASSPHRASE)
      expect(key.text).toMatch(/ENCRYPTED/)
      expect(problemOf(() => parseSshPrivateKey(key.text))).toBe("Encrypted")
      const wrong = new TextEncoder().encode("not the passphrase")
      expect(problemOf(() => parseSshPrivateKey(key.text, { passphrase: wrong }))).toBe("WrongPassphrase")
      const parsed = parseSshPrivateKey(key.text, { passphrase: pass })
      expect(Buffer.from(parsed.blob).equals(Buffer.from(key.blob))).toBe(true)
    }
  })
})

describe("what is not a usable key", () => {
  it("text, a public key, a truncated key, a key file with garbage inside", () => {
    const key = keygen(["-t", "ed25519"])
    expect(problemOf(() => parseSshPrivateKey("hello"))).toBe("NotAKey")
    expect(problemOf(() => parseSshPrivateKey(readFileSync(`${key.path}.pub`, "utf8")))).toBe("NotAKey")
    const lines = key.text.trim().split("\n")
    const truncated = [...lines.slice(0, 3), lines.at(-1)!].join("\n")
    expect(problemOf(() => parseSshPrivateKey(truncated))).toBe("NotAKey")
    expect(problemOf(() => parseSshPrivateKey(key.text.replace(/-----END[^\n]*/, "")))).toBe("NotAKey")
    const garbage = "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n"
    expect(problemOf(() => parseSshPrivateKey(garbage))).toBe("NotAKey")
  })
})
