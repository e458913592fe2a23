/**
 * The truncated HMAC-SHA-256 of a blind index (RFC 2104), as lowercase hex of `ceil(bits / 8)`
 * bytes with the unused low bits zero. On Node it is composed over node:crypto's one-shot `hash`
 * with the key's padded blocks computed once per index: two native calls per value, against a
 * `createHmac` object (key set-up, update, digest) per value, which measured about 2-3× slower
 * for SSN-sized inputs, and an index build or a bulk import computes one per row. Elsewhere it
 * is core's `hmac` (node:crypto's createHmac or @noble/hashes). Same bytes on every path (the
 * tests check the vectors, and random inputs against createHmac).
 *
 * The message (a normalised PHI value) is written into a scratch block that is zeroised after
 * each call; the inner digest comes back as a latin1 string, which cannot be zeroised (it is a
 * keyed hash, not the value, and stays in the young heap generation until collected), as in
 * `kdf.ts`.
 */
import { bytesToHex, hmac } from '@safeguards/core'
import { nodeCrypto } from './native.js'

const BLOCK = 64

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1' | 'hex') => string

/** Computes the index value of a message; `destroy` zeroises the key material it holds. */
export interface TruncatedHmac {
  (message: Uint8Array): string
  destroy(): void
}

/** Masks the last of `length` hex-encoded bytes to its top `bits % 8` bits. */
function truncateHex(hex: string, length: number, mask: number): string {
  const head = hex.slice(0, 2 * length)
  if (mask === 0xff) return head
  const last = Number.parseInt(head.slice(-2), 16) & mask
  return head.slice(0, -2) + (last < 16 ? '0' : '') + last.toString(16)
}

/**
 * A truncated HMAC-SHA-256 under `key` (32 bytes, taken over: zeroised by `destroy`).
 * `bits` in 1..32 (checked by the caller). `backend: 'hmac'` forces core's `hmac` (the path of
 * runtimes without the one-shot hash; the tests cross-check the two).
 */
export function truncatedHmac(
  key: Uint8Array,
  bits: number,
  backend: 'one-shot' | 'hmac' = 'one-shot',
): TruncatedHmac {
  const length = Math.ceil(bits / 8)
  const mask = bits % 8 === 0 ? 0xff : (0xff << (8 - (bits % 8))) & 0xff
  const oneShot = backend === 'one-shot' ? (nodeCrypto?.hash as OneShot | undefined) : undefined
  if (typeof oneShot !== 'function') {
    const f = ((message: Uint8Array): string => {
      const tag = hmac('sha256', key, message).subarray(0, length)
      tag[length - 1] = (tag[length - 1] as number) & mask
      return bytesToHex(tag)
    }) as TruncatedHmac
    f.destroy = (): void => {
      key.fill(0)
    }
    return f
  }
  // inner = (K ⊕ ipad) ‖ message; outer = (K ⊕ opad) ‖ inner digest (RFC 2104 §2; K < 64 bytes is zero-padded)
  let inner = new Uint8Array(BLOCK + 256)
  const outer = new Uint8Array(BLOCK + 32)
  const ipad = new Uint8Array(BLOCK).fill(0x36)
  for (let i = 0; i < key.length; i++) {
    ipad[i] = (key[i] as number) ^ 0x36
    outer[i] = (key[i] as number) ^ 0x5c
  }
  outer.fill(0x5c, key.length, BLOCK)
  inner.set(ipad)
  key.fill(0)
  const f = ((message: Uint8Array): string => {
    const need = BLOCK + message.length
    if (inner.length < need) {
      const next = new Uint8Array(need)
      next.set(ipad)
      inner.fill(0)
      inner = next
    }
    inner.set(message, BLOCK)
    let digest: string
    try {
      digest = oneShot('sha256', inner.subarray(0, need), 'latin1')
    } finally {
      inner.fill(0, BLOCK, need)
    }
    for (let i = 0; i < 32; i++) outer[BLOCK + i] = digest.charCodeAt(i)
    return truncateHex(oneShot('sha256', outer, 'hex'), length, mask)
  }) as TruncatedHmac
  f.destroy = (): void => {
    inner.fill(0)
    outer.fill(0)
    ipad.fill(0)
  }
  return f
}
