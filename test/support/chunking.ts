/** For property tests of byte-stream codecs: any way a socket may cut bytes into chunks. */

/** Cuts `bytes` at the given offsets (taken modulo length + 1, deduplicated). */
export const chunked = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, p))
    start = p
  }
  return chunks
}
