/**
 * The ssh-agent protocol (draft-miller-ssh-agent), as far as an agent holding given keys needs it:
 * a client asks for the identities (`SSH_AGENTC_REQUEST_IDENTITIES`, 11 → `IDENTITIES_ANSWER`, 12)
 * and for signatures (`SSH_AGENTC_SIGN_REQUEST`, 13 → `SIGN_RESPONSE`, 14); anything else
 * (adding keys, locking, extensions such as OpenSSH's `session-bind@openssh.com`) is answered
 * `SSH_AGENT_FAILURE` (5), as an agent that does not support it would. Each message is a
 * big-endian uint32 length and that many bytes, the first one its type.
 *
 * Also the SSH wire encoding (RFC 4251 §5) the messages, keys and signatures use: `uint32`,
 * `string` (length-prefixed bytes) and `mpint`.
 */

export const AgentMessage = {
  FAILURE: 5,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14
} as const

/** `SSH_AGENT_RSA_SHA2_256` / `_512`: the flags of a sign request asking an RSA key for rsa-sha2-*. */
export const SignFlags = { RSA_SHA2_256: 2, RSA_SHA2_512: 4 } as const

/** OpenSSH's limit on one agent message (`AGENT_MAX_LEN`, 256 KiB). */
export const MAX_AGENT_MESSAGE = 256 * 1024

/** Bytes that are not what they claim to be (truncated, a length past the end). */
export class SshWireError extends Error {}

/** Reads the SSH wire encoding from `bytes`, front to back. */
export class SshReader {
  private at = 0
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length
  }

  uint32(): number {
    if (this.at + 4 > this.bytes.length) throw new SshWireError("truncated uint32")
    const b = this.bytes
    const value = ((b[this.at]! << 24) >>> 0) + (b[this.at + 1]! << 16) + (b[this.at + 2]! << 8) + b[this.at + 3]!
    this.at += 4
    return value
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new SshWireError("truncated byte")
    return this.bytes[this.at++]!
  }

  string(): Uint8Array {
    const length = this.uint32()
    if (this.at + length > this.bytes.length) throw new SshWireError("a string runs past the end")
    const value = this.bytes.subarray(this.at, this.at + length)
    this.at += length
    return value
  }

  text(): string {
    return new TextDecoder().decode(this.string())
  }

  /** Raw bytes (the rest of a padded block, a fixed-width field). */
  raw(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new SshWireError("truncated")
    const value = this.bytes.subarray(this.at, this.at + length)
    this.at += length
    return value
  }

  rest(): Uint8Array {
    const value = this.bytes.subarray(this.at)
    this.at = this.bytes.length
    return value
  }
}

/** Writes the SSH wire encoding. */
export class SshWriter {
  private readonly parts: Array<Uint8Array> = []

  uint32(value: number): this {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, value)
    this.parts.push(b)
    return this
  }

  byte(value: number): this {
    this.parts.push(Uint8Array.of(value))
    return this
  }

  string(value: Uint8Array | string): this {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value
    this.uint32(bytes.length)
    this.parts.push(bytes)
    return this
  }

  /** An unsigned big-endian magnitude as an `mpint`: no leading zeros, one 0 byte if the top bit is set. */
  mpint(magnitude: Uint8Array): this {
    let start = 0
    while (start < magnitude.length && magnitude[start] === 0) start++
    const trimmed = magnitude.subarray(start)
    return this.string(trimmed.length > 0 && trimmed[0]! & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed)
  }

  finish(): Uint8Array {
    return concat(this.parts)
  }
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** What a client asked the agent. */
export type AgentRequest =
  | { readonly _tag: "RequestIdentities" }
  | { readonly _tag: "SignRequest"; readonly key: Uint8Array; readonly data: Uint8Array; readonly flags: number }
  /** Anything else, or a request that does not parse: answered with a failure. */
  | { readonly _tag: "Unsupported"; readonly type: number }

/** A message's body (type byte first) as a request. */
export const agentRequest = (body: Uint8Array): AgentRequest => {
  const type = body[0] ?? 0
  if (type === AgentMessage.REQUEST_IDENTITIES) return { _tag: "RequestIdentities" }
  if (type === AgentMessage.SIGN_REQUEST) {
    try {
      const reader = new SshReader(body.subarray(1))
      const key = reader.string()
      const data = reader.string()
      const flags = reader.done ? 0 : reader.uint32()
      return { _tag: "SignRequest", key, data, flags }
    } catch {
      return { _tag: "Unsupported", type }
    }
  }
  return { _tag: "Unsupported", type }
}

/** A message as sent: its length, then `body`. */
export const agentFrame = (body: Uint8Array): Uint8Array => new SshWriter().string(body).finish()

/** `SSH_AGENT_IDENTITIES_ANSWER`: every key's public blob and comment. */
export const identitiesAnswer = (
  keys: ReadonlyArray<{ readonly blob: Uint8Array; readonly comment: string }>
): Uint8Array => {
  const writer = new SshWriter().byte(AgentMessage.IDENTITIES_ANSWER).uint32(keys.length)
  for (const key of keys) writer.string(key.blob).string(key.comment)
  return agentFrame(writer.finish())
}

/** `SSH_AGENT_SIGN_RESPONSE` with a signature blob (`string algorithm, string signature`). */
export const signResponse = (signature: Uint8Array): Uint8Array =>
  agentFrame(new SshWriter().byte(AgentMessage.SIGN_RESPONSE).string(signature).finish())

/** `SSH_AGENT_FAILURE`. */
export const agentFailure = (): Uint8Array => agentFrame(Uint8Array.of(AgentMessage.FAILURE))

/**
 * Splits the bytes a client sends into message bodies, whatever their chunking. A length above
 * `MAX_AGENT_MESSAGE` (or 0) throws `SshWireError`: the connection is then unusable.
 */
export class AgentMessageReader {
  private pending: Uint8Array = new Uint8Array(0)

  push(chunk: Uint8Array): Array<Uint8Array> {
    this.pending = this.pending.length === 0 ? chunk : concat([this.pending, chunk])
    const out: Array<Uint8Array> = []
    while (this.pending.length >= 4) {
      const length = new SshReader(this.pending).uint32()
      if (length === 0 || length > MAX_AGENT_MESSAGE) {
        throw new SshWireError(`an agent message of ${length} bytes (the limit is ${MAX_AGENT_MESSAGE})`)
      }
      if (this.pending.length < 4 + length) break
      out.push(this.pending.slice(4, 4 + length))
      this.pending = this.pending.subarray(4 + length)
    }
    return out
  }

  /** Bytes of a message not complete yet. */
  get buffered(): number {
    return this.pending.length
  }
}
