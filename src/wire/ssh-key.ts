/**
 * SSH private keys for an in-memory ssh-agent: read from their text (OpenSSH's own format,
 * `-----BEGIN OPENSSH PRIVATE KEY-----`, or PEM: PKCS#1, PKCS#8, SEC1, encrypted or not), held as
 * `node:crypto` `KeyObject`s, answering with the public blob an agent lists and the signature blob
 * it returns (RFC 4253 §6.6, RFC 8332 for rsa-sha2-256/512, RFC 8709 for Ed25519, RFC 5656 for
 * ECDSA). Ed25519, RSA and ECDSA (P-256/384/521); DSA and security keys (`sk-*`) are refused.
 *
 * Written on `node:crypto` rather than taken from `ssh2` (whose key parser loads its SSH
 * implementation, a native binding built at install and `cpu-features`): the format is a few
 * length-prefixed fields, and signing is `crypto.sign`. The one piece `node:crypto` lacks, the
 * bcrypt KDF of an encrypted OpenSSH key, is given by the caller (`bcrypt-pbkdf`, loaded only
 * for such a key).
 *
 * A key's bytes and its passphrase are never part of an error: `SshKeyParseError` says what was
 * wrong with the key, in words.
 */
import * as crypto from "node:crypto"
import { SignFlags, SshReader, SshWriter } from "./ssh-agent.js"

/** Why a key cannot be used. */
export type SshKeyProblem = "NotAKey" | "Encrypted" | "WrongPassphrase" | "Unsupported"

export class SshKeyParseError extends Error {
  constructor(readonly problem: SshKeyProblem, message: string) {
    super(message)
  }
}

/** A private key an agent can list and sign with. */
export interface SshPrivateKey {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`… */
  readonly type: string
  /** The public key blob (what `IDENTITIES_ANSWER` lists and a `SIGN_REQUEST` names). */
  readonly blob: Uint8Array
  readonly comment: string
  /** The signature blob of `data` (`string algorithm, string signature`); `flags` pick RSA's hash. */
  readonly sign: (data: Uint8Array, flags: number) => Uint8Array
}

/** `bcrypt_pbkdf` (OpenBSD), the KDF of an encrypted OpenSSH key. */
export type BcryptPbkdf = (passphrase: Uint8Array, salt: Uint8Array, rounds: number, length: number) => Uint8Array

const OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
const OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----"
const OPENSSH_MAGIC = "openssh-key-v1\0"

const CURVES: Readonly<Record<string, { jwk: string; hash: string; size: number }>> = {
  nistp256: { jwk: "P-256", hash: "sha256", size: 32 },
  nistp384: { jwk: "P-384", hash: "sha384", size: 48 },
  nistp521: { jwk: "P-521", hash: "sha512", size: 66 }
}
const CURVE_OF_JWK: Readonly<Record<string, string>> = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" }

/** The ciphers `ssh-keygen` encrypts keys with: node:crypto name, key and IV length. */
const CIPHERS: Readonly<Record<string, { name: string; key: number; iv: number; tag?: number }>> = {
  "aes128-ctr": { name: "aes-128-ctr", key: 16, iv: 16 },
  "aes192-ctr": { name: "aes-192-ctr", key: 24, iv: 16 },
  "aes256-ctr": { name: "aes-256-ctr", key: 32, iv: 16 },
  "aes128-cbc": { name: "aes-128-cbc", key: 16, iv: 16 },
  "aes192-cbc": { name: "aes-192-cbc", key: 24, iv: 16 },
  "aes256-cbc": { name: "aes-256-cbc", key: 32, iv: 16 },
  "aes128-gcm@openssh.com": { name: "aes-128-gcm", key: 16, iv: 12, tag: 16 },
  "aes256-gcm@openssh.com": { name: "aes-256-gcm", key: 32, iv: 12, tag: 16 }
}

const utf8 = new TextDecoder()
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")
const fromB64url = (text: string) => new Uint8Array(Buffer.from(text, "base64url"))
const unsigned = (mpint: Uint8Array) => {
  let start = 0
  while (start < mpint.length - 1 && mpint[start] === 0) start++
  return mpint.subarray(start)
}
const toBig = (bytes: Uint8Array) => bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`)
const fromBig = (value: bigint) => {
  const hex = value.toString(16)
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex"))
}
const leftPad = (bytes: Uint8Array, size: number) => {
  if (bytes.length >= size) return bytes.subarray(bytes.length - size)
  const out = new Uint8Array(size)
  out.set(bytes, size - bytes.length)
  return out
}

/** Whether `text` is an OpenSSH-format key encrypted with a passphrase (so needs the bcrypt KDF). */
export const isEncryptedOpenSshKey = (text: string): boolean => {
  try {
    const envelope = openSshEnvelope(text)
    return envelope !== undefined && envelope.cipher !== "none"
  } catch {
    return false
  }
}

const openSshEnvelope = (text: string) => {
  const begin = text.indexOf(OPENSSH_BEGIN)
  if (begin < 0) return undefined
  const end = text.indexOf(OPENSSH_END, begin)
  if (end < 0) throw new SshKeyParseError("NotAKey", "an OpenSSH private key without its END line")
  const bytes = new Uint8Array(Buffer.from(text.slice(begin + OPENSSH_BEGIN.length, end).replace(/\s+/g, ""), "base64"))
  if (utf8.decode(bytes.subarray(0, OPENSSH_MAGIC.length)) !== OPENSSH_MAGIC) {
    throw new SshKeyParseError("NotAKey", "not an openssh-key-v1 key")
  }
  const reader = new SshReader(bytes.subarray(OPENSSH_MAGIC.length))
  const cipher = reader.text()
  const kdf = reader.text()
  const kdfOptions = reader.string()
  const count = reader.uint32()
  if (count !== 1) throw new SshKeyParseError("Unsupported", `an OpenSSH key file with ${count} keys (one is read)`)
  reader.string() // the public key, derived again from the private one
  const encrypted = reader.string()
  // An AEAD cipher's tag follows the encrypted section, outside its string.
  return { cipher, kdf, kdfOptions, encrypted, tail: reader.rest() }
}

const decryptOpenSsh = (
  envelope: NonNullable<ReturnType<typeof openSshEnvelope>>,
  passphrase: Uint8Array | undefined,
  bcrypt: BcryptPbkdf | undefined
): Uint8Array => {
  if (envelope.cipher === "none") return envelope.encrypted
  const cipher = CIPHERS[envelope.cipher]
  if (cipher === undefined) throw new SshKeyParseError("Unsupported", `keys encrypted with ${envelope.cipher}`)
  if (envelope.kdf !== "bcrypt") throw new SshKeyParseError("Unsupported", `the key derivation ${envelope.kdf}`)
  if (passphrase === undefined) {
    throw new SshKeyParseError("Encrypted", "the key is encrypted and no passphrase was given")
  }
  if (bcrypt === undefined) throw new SshKeyParseError("Unsupported", "no bcrypt KDF to decrypt the key with")
  const options = new SshReader(envelope.kdfOptions)
  const salt = options.string()
  const rounds = options.uint32()
  const derived = bcrypt(passphrase, salt, rounds, cipher.key + cipher.iv)
  const key = derived.subarray(0, cipher.key)
  const iv = derived.subarray(cipher.key)
  const body = envelope.encrypted
  try {
    if (cipher.tag !== undefined) {
      const decipher = crypto.createDecipheriv(cipher.name, key, iv) as crypto.DecipherGCM
      decipher.setAuthTag(envelope.tail.subarray(0, cipher.tag))
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
    }
    const decipher = crypto.createDecipheriv(cipher.name, key, iv)
    decipher.setAutoPadding(false)
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))
  } catch {
    throw new SshKeyParseError("WrongPassphrase", "the passphrase does not decrypt the key")
  }
}

/** The private section of an OpenSSH key: a `KeyObject` and the comment. */
const openSshPrivate = (section: Uint8Array): { key: crypto.KeyObject; comment: string } => {
  const reader = new SshReader(section)
  const check1 = reader.uint32()
  const check2 = reader.uint32()
  if (check1 !== check2) throw new SshKeyParseError("WrongPassphrase", "the passphrase does not decrypt the key")
  const type = reader.text()
  let jwk: crypto.JsonWebKey
  if (type === "ssh-ed25519") {
    const pub = reader.string()
    const priv = reader.string()
    jwk = { kty: "OKP", crv: "Ed25519", x: b64url(pub), d: b64url(priv.subarray(0, 32)) }
  } else if (type === "ssh-rsa") {
    const n = unsigned(reader.string())
    const e = unsigned(reader.string())
    const d = unsigned(reader.string())
    const qi = unsigned(reader.string())
    const p = unsigned(reader.string())
    const q = unsigned(reader.string())
    const dBig = toBig(d)
    jwk = {
      kty: "RSA",
      n: b64url(n),
      e: b64url(e),
      d: b64url(d),
      p: b64url(p),
      q: b64url(q),
      dp: b64url(fromBig(dBig % (toBig(p) - 1n))),
      dq: b64url(fromBig(dBig % (toBig(q) - 1n))),
      qi: b64url(qi)
    }
  } else if (type.startsWith("ecdsa-sha2-")) {
    const curveName = reader.text()
    const curve = CURVES[curveName]
    if (curve === undefined) throw new SshKeyParseError("Unsupported", `the curve ${curveName}`)
    const point = reader.string()
    if (point[0] !== 4 || point.length !== 1 + 2 * curve.size) {
      throw new SshKeyParseError("NotAKey", "an ECDSA public point that is not uncompressed")
    }
    const d = leftPad(unsigned(reader.string()), curve.size)
    jwk = {
      kty: "EC",
      crv: curve.jwk,
      x: b64url(point.subarray(1, 1 + curve.size)),
      y: b64url(point.subarray(1 + curve.size)),
      d: b64url(d)
    }
  } else {
    throw new SshKeyParseError("Unsupported", `${type} keys (Ed25519, RSA and ECDSA are)`)
  }
  const comment = reader.text()
  try {
    return { key: crypto.createPrivateKey({ key: jwk, format: "jwk" }), comment }
  } catch {
    throw new SshKeyParseError("NotAKey", `the ${type} key's numbers do not make a key`)
  }
}

const pemPrivate = (text: string, passphrase: Uint8Array | undefined): crypto.KeyObject => {
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,\s*ENCRYPTED/.test(text)
  if (encrypted && passphrase === undefined) {
    throw new SshKeyParseError("Encrypted", "the key is encrypted and no passphrase was given")
  }
  try {
    return crypto.createPrivateKey({
      key: text,
      format: "pem",
      ...(encrypted && passphrase !== undefined ? { passphrase: Buffer.from(passphrase) } : {})
    })
  } catch {
    throw encrypted
      ? new SshKeyParseError("WrongPassphrase", "the passphrase does not decrypt the key")
      : new SshKeyParseError("NotAKey", "not an OpenSSH or PEM private key")
  }
}

/** What an agent answers with for `key`. */
const agentKey = (key: crypto.KeyObject, comment: string): SshPrivateKey => {
  const jwk = key.export({ format: "jwk" })
  if (key.asymmetricKeyType === "ed25519") {
    const blob = new SshWriter().string("ssh-ed25519").string(fromB64url(jwk.x!)).finish()
    return {
      type: "ssh-ed25519",
      blob,
      comment,
      sign: (data) => new SshWriter().string("ssh-ed25519").string(crypto.sign(null, data, key)).finish()
    }
  }
  if (key.asymmetricKeyType === "rsa") {
    const blob = new SshWriter().string("ssh-rsa").mpint(fromB64url(jwk.e!)).mpint(fromB64url(jwk.n!)).finish()
    return {
      type: "ssh-rsa",
      blob,
      comment,
      sign: (data, flags) => {
        const [algorithm, hash] = flags & SignFlags.RSA_SHA2_512
          ? ["rsa-sha2-512", "sha512"]
          : flags & SignFlags.RSA_SHA2_256
          ? ["rsa-sha2-256", "sha256"]
          : ["ssh-rsa", "sha1"]
        return new SshWriter().string(algorithm).string(crypto.sign(hash, data, key)).finish()
      }
    }
  }
  const curveName = key.asymmetricKeyType === "ec" ? CURVE_OF_JWK[jwk.crv ?? ""] : undefined
  if (curveName === undefined) {
    throw new SshKeyParseError("Unsupported", `${key.asymmetricKeyType ?? "unknown"} keys (Ed25519, RSA and ECDSA are)`)
  }
  const curve = CURVES[curveName]!
  const type = `ecdsa-sha2-${curveName}`
  const point = new Uint8Array([
    4,
    ...leftPad(fromB64url(jwk.x!), curve.size),
    ...leftPad(fromB64url(jwk.y!), curve.size)
  ])
  const blob = new SshWriter().string(type).string(curveName).string(point).finish()
  return {
    type,
    blob,
    comment,
    sign: (data) => {
      const rs = crypto.sign(curve.hash, data, { key, dsaEncoding: "ieee-p1363" })
      const inner = new SshWriter().mpint(rs.subarray(0, curve.size)).mpint(rs.subarray(curve.size)).finish()
      return new SshWriter().string(type).string(inner).finish()
    }
  }
}

/**
 * Reads a private key from its text. `passphrase` decrypts an encrypted key (an OpenSSH one with
 * `bcrypt`); `comment` is what a PEM key (which carries none) is listed with.
 */
export const parseSshPrivateKey = (
  text: string,
  options: {
    readonly passphrase?: Uint8Array | undefined
    readonly comment?: string | undefined
    readonly bcrypt?: BcryptPbkdf | undefined
  } = {}
): SshPrivateKey => {
  try {
    const envelope = openSshEnvelope(text)
    if (envelope !== undefined) {
      const { comment, key } = openSshPrivate(decryptOpenSsh(envelope, options.passphrase, options.bcrypt))
      return agentKey(key, comment)
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw new SshKeyParseError("NotAKey", "not an OpenSSH or PEM private key")
    }
    return agentKey(pemPrivate(text, options.passphrase), options.comment ?? "")
  } catch (error) {
    if (error instanceof SshKeyParseError) throw error
    // A truncated field (SshWireError) or anything else: said without the key's bytes.
    throw new SshKeyParseError("NotAKey", "a malformed private key")
  }
}
