/**
 * TOTP shared secrets: generation (at least 160 bits, RFC 4226 §4 R6 recommends 160) and the
 * RFC 4648 base32 text that authenticator apps accept for manual entry.
 *
 * @module
 */
import { assertInteger, type RandomSource, randomBytes } from '@safeguards/core'
import { ScureBase32Plugin } from 'otplib'

const base32 = new ScureBase32Plugin()

/**
 * Generates a TOTP secret of `bytes` random bytes (default 20 = 160 bits, at least 20).
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {RangeError} when `bytes` is below 20 or above 64.
 * @example
 * ```ts
 * const secret = generateTotpSecret() // Uint8Array(20)
 * ```
 */
export function generateTotpSecret(bytes = 20, random: RandomSource = randomBytes): Uint8Array {
  assertInteger(bytes, 'bytes', 20, 64)
  const out = random(bytes)
  if (!(out instanceof Uint8Array) || out.length !== bytes)
    throw new TypeError('"random" returned the wrong length')
  return out
}

/**
 * Encodes a secret as unpadded RFC 4648 base32, the form `otpauth://` URIs and manual entry use.
 *
 * HIPAA: 164.312(d) person or entity authentication (enrollment).
 *
 * @throws {TypeError} when `secret` is not a Uint8Array.
 * @example
 * ```ts
 * secretToBase32(utf8Encode('12345678901234567890')) // 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
 * ```
 */
export function secretToBase32(secret: Uint8Array): string {
  if (!(secret instanceof Uint8Array)) throw new TypeError('"secret" expected Uint8Array')
  return base32.encode(secret).replace(/=+$/, '')
}

/**
 * Decodes an RFC 4648 base32 secret (upper case, padding optional), for importing secrets that
 * were provisioned elsewhere or for acting as the authenticator in tests and demos.
 *
 * HIPAA: 164.312(d) person or entity authentication.
 *
 * @throws {TypeError} when `text` is not a string.
 * @throws {RangeError} when it is not valid base32 or decodes to fewer than 16 bytes.
 * @example
 * ```ts
 * secretFromBase32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') // utf8Encode('12345678901234567890')
 * ```
 */
export function secretFromBase32(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string')
  if (text.length > 256 || !/^[A-Z2-7]+=*$/.test(text)) throw new RangeError('"text" is not RFC 4648 base32')
  let out: Uint8Array
  try {
    out = base32.decode(text.replace(/=+$/, ''))
  } catch {
    throw new RangeError('"text" is not RFC 4648 base32')
  }
  if (out.length < 16) throw new RangeError('"text" decodes to fewer than 16 bytes')
  return out
}
