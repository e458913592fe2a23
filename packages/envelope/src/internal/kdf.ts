/**
 * HKDF (RFC 5869) with SHA-256 or SHA-512: node:crypto `hkdfSync` where available, @noble/hashes
 * elsewhere. Both give identical bytes (Wycheproof vectors run through both in the tests).
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { assertBytes, assertInteger } from '@safeguards/core'
import { nodeCrypto } from './native.js'

/** Which HKDF implementation runs. */
export type KdfBackendName = 'node' | 'noble'

/** The default KDF backend on this runtime. */
export const defaultKdfBackend: KdfBackendName = nodeCrypto ? 'node' : 'noble'

/**
 * HKDF-Extract-then-Expand.
 *
 * @throws {TypeError} for non-byte arguments or an unknown hash.
 * @throws {RangeError} when `length` is not in 1..255×HashLen.
 */
export function hkdf(
  hashName: 'sha256' | 'sha512',
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
  backend: KdfBackendName = defaultKdfBackend,
): Uint8Array {
  assertBytes(ikm, 'ikm')
  assertBytes(salt, 'salt')
  assertBytes(info, 'info')
  if (hashName !== 'sha256' && hashName !== 'sha512') throw new TypeError('"hash" expected sha256 or sha512')
  assertInteger(length, 'length', 1, 255 * (hashName === 'sha256' ? 32 : 64))
  if (backend === 'node' && nodeCrypto) {
    return new Uint8Array(nodeCrypto.hkdfSync(hashName, ikm, salt, info, length))
  }
  return nobleHkdf(hashName === 'sha256' ? sha256 : sha512, ikm, salt, info, length)
}
