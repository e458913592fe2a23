/**
 * Password text handling shared by hashing and the policy: NFKC normalisation (NIST SP 800-63B
 * rev 4 §3.1.1.2 asks verifiers to apply NFKC or NFKD before hashing, so the same password typed
 * on two keyboards verifies) and a byte cap enforced before any expensive work.
 *
 * @module
 */
import { hasLoneSurrogate, utf8Encode } from '@safeguards/core'
import { PasswordInvalidTextError, PasswordTooLargeError } from './errors.js'

/**
 * The default cap on a password's size: 1 KiB of UTF-8 after normalisation.
 *
 * @example
 * ```ts
 * if (body.password.length > DEFAULT_MAX_PASSWORD_BYTES) return reply.code(413).send()
 * ```
 */
export const DEFAULT_MAX_PASSWORD_BYTES = 1024

/**
 * Normalises a password to NFKC and encodes it as UTF-8, refusing oversized or malformed text.
 * The size is checked on the raw string first (cheap), then again after normalisation (NFKC can
 * expand a string).
 *
 * HIPAA: 164.308(a)(5)(ii)(D) password management.
 *
 * @param password - the password as typed.
 * @param maxBytes - the byte cap (default 1024).
 * @throws {TypeError} when `password` is not a string.
 * @throws {PasswordTooLargeError} (code `ERR_PASSWORD_TOO_LARGE`) above the cap.
 * @throws {PasswordInvalidTextError} (code `ERR_PASSWORD_INVALID_TEXT`) on a lone surrogate.
 * @example
 * ```ts
 * normalizePassword('ｐａｓｓ') // the bytes of 'pass'
 * ```
 */
export function normalizePassword(
  password: string,
  maxBytes: number = DEFAULT_MAX_PASSWORD_BYTES,
): Uint8Array {
  if (typeof password !== 'string') throw new TypeError('"password" expected a string')
  // Every UTF-16 code unit is at least one UTF-8 byte, so this bound is exact enough to refuse early.
  if (password.length > maxBytes) throw new PasswordTooLargeError(maxBytes)
  if (hasLoneSurrogate(password)) throw new PasswordInvalidTextError()
  const bytes = utf8Encode(password.normalize('NFKC'))
  if (bytes.length > maxBytes) throw new PasswordTooLargeError(maxBytes)
  return bytes
}
