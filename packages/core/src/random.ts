/**
 * Randomness from the platform CSPRNG (Web Crypto `getRandomValues`). Code that needs randomness
 * takes a {@link RandomSource} argument defaulting to {@link randomBytes}, so tests can inject a
 * deterministic source (style rule 8).
 *
 * @module
 */
import { assertInteger } from './assert.js'
import { SafeguardsError } from './errors.js'

/** A source of random bytes: `(length) => bytes`. Inject it; default to {@link randomBytes}. */
export type RandomSource = (length: number) => Uint8Array

const MAX_CHUNK = 65536 // getRandomValues refuses more than 64 KiB per call

/**
 * Returns `length` cryptographically secure random bytes from `crypto.getRandomValues`.
 *
 * @param length - number of bytes, 0 to 2^31-1.
 * @throws {TypeError} when `length` is not an integer.
 * @throws {RangeError} when it is negative or too large.
 * @throws {SafeguardsError} (code `ERR_UNSUPPORTED_RUNTIME`) when the runtime has no Web Crypto.
 * @example
 * ```ts
 * const token = randomBytes(32) // 256 bits
 * ```
 */
export function randomBytes(length: number): Uint8Array {
  assertInteger(length, 'length', 0, 2 ** 31 - 1)
  const c = (globalThis as { crypto?: Crypto }).crypto
  if (c === undefined || typeof c.getRandomValues !== 'function') {
    throw new SafeguardsError('ERR_UNSUPPORTED_RUNTIME', 'crypto.getRandomValues is not available')
  }
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i += MAX_CHUNK)
    c.getRandomValues(out.subarray(i, Math.min(length, i + MAX_CHUNK)))
  return out
}
