/**
 * SHA-256 on node:crypto for the hot paths (leaf and node hashes). Uses the one-shot `crypto.hash`
 * (Node >= 20.12), which skips the Hash object per call, with a latin1 string output: asking it for
 * a Buffer allocates one outside the heap per call, which costs about as much as the hash of a
 * record; a 32-character string copied into a small Uint8Array (allocated on the heap) is about
 * twice as fast. Outputs are plain Uint8Arrays, never Buffer instances.
 */
import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'binary') => string

const oneShot: OneShot =
  (crypto as unknown as { hash?: OneShot }).hash ??
  ((algorithm, data, outputEncoding) => crypto.createHash(algorithm).update(data).digest(outputEncoding))

/** The bytes of a hash held as a latin1 string. */
function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k)
  return out
}

/** SHA-256 of `data`, as a plain Uint8Array. */
export function sha256Fast(data: Uint8Array): Uint8Array {
  return bytesOf(oneShot('sha256', data, 'binary'))
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

/** RFC 6962 node hash of `left` = `slots[at..at+32)` and `right`, for hot loops. */
export function nodeHashAt(slots: Uint8Array, at: number, right: Uint8Array): Uint8Array {
  const s = nodeScratch
  s[0] = 1
  for (let i = 0; i < 32; i++) {
    s[1 + i] = slots[at + i]!
    s[33 + i] = right[i]!
  }
  return sha256Fast(s)
}

/** A streaming SHA-256 hasher. */
export function sha256Stream(): crypto.Hash {
  return crypto.createHash('sha256')
}
