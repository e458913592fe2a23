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

/** A streaming SHA-256 hasher. */
export function sha256Stream(): crypto.Hash {
  return crypto.createHash('sha256')
}
