/**
 * SHA-256 on node:crypto for the hot paths (leaf and node hashes). Uses the one-shot
 * `crypto.hash` where the runtime has it (Node >= 20.12), which skips the Hash object per call.
 * Outputs are plain Uint8Array views, never Buffer instances.
 */
import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array

const oneShot: OneShot | undefined = (crypto as unknown as { hash?: OneShot }).hash

function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** SHA-256 of `data`, as a plain Uint8Array. */
export function sha256Fast(data: Uint8Array): Uint8Array {
  if (oneShot !== undefined) return plain(oneShot('sha256', data, 'buffer'))
  return plain(crypto.createHash('sha256').update(data).digest())
}

let scratch = new Uint8Array(4096)

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHashOf(data: Uint8Array): Uint8Array {
  const n = data.length + 1
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2))
  scratch[0] = 0
  scratch.set(data, 1)
  return sha256Fast(scratch.subarray(0, n))
}

const nodeScratch = new Uint8Array(65)

/** RFC 6962 node hash: SHA-256(0x01 || left || right). */
export function nodeHashOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch[0] = 1
  nodeScratch.set(left, 1)
  nodeScratch.set(right, 33)
  return sha256Fast(nodeScratch)
}

/**
 * RFC 6962 node hash of `left` = `slots[at..at+32)` and `right`, for hot loops: the result is the
 * runtime's own output (not re-wrapped) and must not leave the package without a copy.
 */
export function nodeHashAt(slots: Uint8Array, at: number, right: Uint8Array): Uint8Array {
  const s = nodeScratch
  s[0] = 1
  for (let i = 0; i < 32; i++) {
    s[1 + i] = slots[at + i]!
    s[33 + i] = right[i]!
  }
  return oneShot !== undefined
    ? oneShot('sha256', s, 'buffer')
    : crypto.createHash('sha256').update(s).digest()
}

/**
 * RFC 6962 leaf hash for hot loops where the hash stays inside the package (verifier, catch-up):
 * like {@link leafHashOf} without re-wrapping the runtime's output.
 */
export function leafHashRaw(data: Uint8Array): Uint8Array {
  const n = data.length + 1
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2))
  scratch[0] = 0
  scratch.set(data, 1)
  const input = scratch.subarray(0, n)
  return oneShot !== undefined
    ? oneShot('sha256', input, 'buffer')
    : crypto.createHash('sha256').update(input).digest()
}

/** A streaming SHA-256 hasher. */
export function sha256Stream(): crypto.Hash {
  return crypto.createHash('sha256')
}
