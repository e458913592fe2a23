/**
 * node:crypto found at run time (core's `builtinModule`), so the package stays loadable in browsers
 * and edge runtimes, where Web Crypto or the portable noble backend runs instead. Only the slice of
 * the API used here is typed.
 */
import { builtinModule } from '@safeguards/core'

/** A node:crypto GCM cipher. */
export interface NodeGcmCipher {
  setAAD(aad: Uint8Array): NodeGcmCipher
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
  getAuthTag(): Uint8Array
}

/** A node:crypto GCM decipher. */
export interface NodeGcmDecipher {
  setAAD(aad: Uint8Array): NodeGcmDecipher
  setAuthTag(tag: Uint8Array): NodeGcmDecipher
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}

/** node:crypto's one-shot `hash`, with the two output forms used here. */
export interface OneShotHash {
  (algorithm: string, data: Uint8Array, outputEncoding: 'buffer'): Uint8Array
  (algorithm: string, data: Uint8Array, outputEncoding: 'latin1'): string
}

/** The part of node:crypto used by the envelope backends. */
export interface NodeCrypto {
  createCipheriv(alg: string, key: unknown, iv: Uint8Array, opts?: { authTagLength: number }): NodeGcmCipher
  createDecipheriv(
    alg: string,
    key: unknown,
    iv: Uint8Array,
    opts?: { authTagLength: number },
  ): NodeGcmDecipher
  createSecretKey(key: Uint8Array): unknown
  hkdfSync(digest: string, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, len: number): ArrayBuffer
  /** One-shot digest (Node ≥ 20.12); absent on older runtimes and some Node-compatible ones. */
  hash?: OneShotHash
}

/** node:crypto when the runtime has it, otherwise undefined. Resolved once. */
export const nodeCrypto: NodeCrypto | undefined = builtinModule<NodeCrypto>('node:crypto', [
  'createCipheriv',
  'createDecipheriv',
  'createSecretKey',
  'hkdfSync',
])

/** Web Crypto's SubtleCrypto when the runtime has it. */
export const subtle: SubtleCrypto | undefined = (globalThis as { crypto?: Crypto }).crypto?.subtle
