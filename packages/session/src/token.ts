/**
 * Session tokens: 32 bytes (256 bits) from a CSPRNG, base64url without padding (43 characters).
 * The store is keyed by SHA-256 of the token, so a copy of the store cannot be replayed as
 * tokens (OWASP Session Management Cheat Sheet, "Session ID Entropy"; ASVS 5.0 V7.2.3 requires at
 * least 128 bits of entropy; we use 256).
 *
 * @module
 */
import { bytesToBase64url, type RandomSource, sha256Hex } from '@safeguards/core'

/** Bytes of randomness in a session token. */
export const TOKEN_BYTES = 32

// 43 base64url characters; the last carries only 4 bits (the other 2 must be 0), so only one
// string encodes each 32-byte value: no two spellings of one token.
const TOKEN_RE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

/**
 * Generates a new session token from `random` (default: the platform CSPRNG).
 *
 * HIPAA: 164.312(d) person or entity authentication (an unguessable bearer credential).
 *
 * @param random - the randomness source (core's `randomBytes` in production); inject others only in tests.
 * @throws {RangeError} when `random` returns fewer than 32 bytes.
 * @example
 * ```ts
 * const token = generateToken(randomBytes) // 'Qm9y…' (43 characters)
 * ```
 */
export function generateToken(random: RandomSource): string {
  const bytes = random(TOKEN_BYTES)
  if (!(bytes instanceof Uint8Array) || bytes.length !== TOKEN_BYTES) {
    throw new RangeError(`"random" must return ${TOKEN_BYTES} bytes`)
  }
  return bytesToBase64url(bytes)
}

/**
 * The store id of a token: the hex SHA-256 of its text, or `null` when `token` is not a
 * well-formed token (wrong type, length or alphabet). Never throws, never touches a store.
 *
 * The id is safe to log and to put in audit records: it cannot be turned back into the token,
 * and presenting it as a token fails.
 *
 * HIPAA: 164.312(b) audit controls (a session reference without the secret).
 *
 * @throws never: any input that is not a well-formed token gives `null`.
 * @example
 * ```ts
 * sessionIdOf(token) // '5f3c…' (64 hex characters)
 * sessionIdOf('nope') // null
 * ```
 */
export function sessionIdOf(token: unknown): string | null {
  if (typeof token !== 'string' || token.length !== 43 || !TOKEN_RE.test(token)) return null
  return sha256Hex(token)
}
