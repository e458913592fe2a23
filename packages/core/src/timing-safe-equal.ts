/**
 * Constant-time comparison of byte strings. Use it for every comparison of tags, MACs, hashes,
 * codes and token digests: `===` or an early-exit loop leaks, through timing, how many leading
 * bytes matched.
 *
 * @module
 */
import { assertBytes } from './assert.js'

/**
 * Compares two byte arrays in time that depends only on their lengths, never on their contents.
 * Arrays of different lengths are unequal (lengths are treated as public).
 *
 * HIPAA: supports 164.312(c)(1) integrity and 164.312(d) person or entity authentication
 * (comparing MACs, hashes and one-time codes without a timing side channel).
 *
 * @throws {TypeError} when either argument is not a Uint8Array.
 * @example
 * ```ts
 * if (!timingSafeEqual(expectedTag, tag)) throw new AuditChainError()
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a')
  assertBytes(b, 'b')
  const n = a.length
  let diff = n ^ b.length
  // Walk `a` fully even when lengths differ, so the time depends on a's length only.
  for (let i = 0; i < n; i++) diff |= (a[i] as number) ^ ((b[i % (b.length || 1)] ?? 0) as number)
  return diff === 0
}
