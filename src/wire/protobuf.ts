/**
 * The protobuf wire format, as far as BuildKit's messages need it (proto3: varints, 64-bit
 * integers, length-delimited strings, bytes and messages). Written here rather than taken from a
 * protobuf library: the handful of messages a build exchanges are decoded by hand from their
 * `.proto` definitions (see `buildkit-status.ts`, `../buildkit/messages.ts`), which costs nothing
 * at start-up and decodes a progress message faster than a reflective decoder (bench/buildkit.ts).
 */

/** A field as read from the wire: its number, wire type and value. */
export type ProtoField =
  | {
    /** The field number. */
    readonly field: number
    /** Varint. */
    readonly wire: 0
    /** Its value. */
    readonly value: number
  }
  | {
    /** The field number. */
    readonly field: number
    /** Fixed 64 or 32 bits. */
    readonly wire: 1 | 5
    /** Its bytes. */
    readonly value: Uint8Array
  }
  | {
    /** The field number. */
    readonly field: number
    /** Length-delimited. */
    readonly wire: 2
    /** Its bytes. */
    readonly value: Uint8Array
  }

/** A message that is not valid protobuf (truncated, a varint too long, a group, a bad wire type). */
export class ProtoDecodeError extends Error {}

const decoder = new TextDecoder("utf-8")

/**
 * Reads `bytes[at…]` as a varint: [value, next offset]. Up to 7 bytes (49 bits, every length and
 * most values) in plain arithmetic; longer ones as 64-bit two's complement (a negative int64 is
 * 10 bytes), converted to a number (above 2^53 precision is lost).
 */
const readVarint = (bytes: Uint8Array, at: number): [number, number] => {
  let value = 0
  let scale = 1
  for (let i = 0; i < 7; i++) {
    if (at + i >= bytes.length) throw new ProtoDecodeError("truncated varint")
    const byte = bytes[at + i]!
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return [value, at + i + 1]
    scale *= 128
  }
  let big = 0n
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) throw new ProtoDecodeError("truncated varint")
    const byte = bytes[at + i]!
    big |= BigInt(byte & 0x7f) << BigInt(7 * i)
    if (byte < 0x80) return [Number(BigInt.asIntN(64, big)), at + i + 1]
  }
  throw new ProtoDecodeError("varint longer than 10 bytes")
}

/** Every field of `bytes`, in wire order (repeated fields appear once per element). */
export const readFields = (bytes: Uint8Array): Array<ProtoField> => {
  const fields: Array<ProtoField> = []
  let at = 0
  while (at < bytes.length) {
    const [key, afterKey] = readVarint(bytes, at)
    const field = Math.floor(key / 8)
    const wire = key % 8
    at = afterKey
    if (field === 0) throw new ProtoDecodeError("field number 0")
    switch (wire) {
      case 0: {
        const [value, next] = readVarint(bytes, at)
        fields.push({ field, wire, value })
        at = next
        break
      }
      case 1:
      case 5: {
        const size = wire === 1 ? 8 : 4
        if (at + size > bytes.length) throw new ProtoDecodeError("truncated fixed-size field")
        fields.push({ field, wire, value: bytes.subarray(at, at + size) })
        at += size
        break
      }
      case 2: {
        const [length, next] = readVarint(bytes, at)
        if (next + length > bytes.length) throw new ProtoDecodeError("truncated length-delimited field")
        fields.push({ field, wire, value: bytes.subarray(next, next + length) })
        at = next + length
        break
      }
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wire}`)
    }
  }
  return fields
}

/** A length-delimited field's bytes as UTF-8 text. */
export const text = (bytes: Uint8Array): string => decoder.decode(bytes)

/** Builds a message field by field (proto3: default values are left out). */
export class ProtoWriter {
  private readonly parts: Array<Uint8Array> = []
  private length = 0

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes)
    this.length += bytes.length
    return this
  }

  private varint(value: number): this {
    const out: Array<number> = []
    // A negative int64 goes out as its 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(Math.trunc(value)))
    while (v >= 128n) {
      out.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    out.push(Number(v))
    return this.push(Uint8Array.from(out))
  }

  /** A varint field (int32/int64/uint/bool/enum); 0 is not written. */
  uint(field: number, value: number | boolean): this {
    const n = typeof value === "boolean" ? (value ? 1 : 0) : value
    return n === 0 ? this : this.varint(field * 8).varint(n)
  }

  /** A bytes, string or embedded message field; empty is not written unless `always`. */
  bytes(field: number, value: Uint8Array | string, always = false): this {
    const data = typeof value === "string" ? new TextEncoder().encode(value) : value
    if (data.length === 0 && !always) return this
    return this.varint(field * 8 + 2).varint(data.length).push(data)
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let at = 0
    for (const part of this.parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  }
}
