/**
 * Keyed-HMAC pseudonyms for identifiers (MRNs, user names, e-mail addresses), so audit records stay
 * searchable ("every access to this patient") without holding the identifier itself.
 *
 * `pseudonym(id) = "ps:" + keyId + ":" + base64url(HMAC-SHA-256(key, "safeguards.audit.pseudonym.v1\0" || id))`.
 * The same key always maps an identifier to the same pseudonym; without the key, a pseudonym cannot
 * be reversed or recomputed (unlike a plain hash, which a dictionary of MRNs inverts). The key id
 * names the key, so pseudonyms made under a rotated key are told apart. Keep the key in a KMS or
 * secret store, per tenant; destroying it makes old pseudonyms unlinkable (crypto-shredding).
 *
 * HIPAA: 164.514(b) de-identification support (identifiers replaced by codes not derived from
 * them without a key, 164.514(c) re-identification code), 164.502(b) minimum necessary.
 *
 * @module
 */
import { assertBytes, bytesToBase64url, bytesToHex, hmac, utf8Encode } from '@safeguards/core'

/** Maps identifiers to pseudonyms under one key. */
export interface Pseudonymizer {
  /** The key id embedded in every pseudonym. */
  readonly keyId: string
  /** The pseudonym of `identifier` (a token accepted by the record schema). */
  pseudonym(identifier: string): string
}

const DOMAIN = 'safeguards.audit.pseudonym.v1\0'

/**
 * Creates a pseudonymizer for a secret key of at least 32 bytes.
 *
 * HIPAA: 164.514(c) re-identification codes, 164.502(b) minimum necessary.
 *
 * @param key - at least 32 random bytes, kept secret.
 * @param options - `keyId`: 1-16 characters of `[A-Za-z0-9_-]` (default: derived from the key).
 * @hipaa 164.312(b) supports
 * @nist AU-3(3) 164.312(b): audit records carry keyed pseudonyms instead of patient and user identifiers
 * @appResponsibility Keep the pseudonym key secret and separate from the log; rotate it with a key id.
 * @verifiedBy packages/audit-log/test/record.test.ts
 * @throws {TypeError} when `key` is not a Uint8Array. @throws {RangeError} when it is shorter than 32
 *   bytes or `keyId` is malformed.
 * @example
 * ```ts
 * const ps = createPseudonymizer(key, { keyId: 'k2026' })
 * await log.append({ ...event, patient: ps.pseudonym('MRN-000123') }) // 'ps:k2026:…'
 * ```
 */
export function createPseudonymizer(key: Uint8Array, options?: { keyId?: string }): Pseudonymizer {
  assertBytes(key, 'key')
  if (key.length < 32) throw new RangeError('"key" expected at least 32 bytes')
  const k = key.slice()
  const keyId =
    options?.keyId ??
    bytesToHex(hmac('sha256', k, utf8Encode('safeguards.audit.pseudonym.key-id'))).slice(0, 8)
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(keyId))
    throw new RangeError('"keyId" expected 1-16 characters of [A-Za-z0-9_-]')
  return {
    keyId,
    pseudonym(identifier: string): string {
      if (typeof identifier !== 'string') throw new TypeError('"identifier" expected a string')
      if (identifier === '') throw new RangeError('"identifier" expected a non-empty string')
      return `ps:${keyId}:${bytesToBase64url(hmac('sha256', k, utf8Encode(DOMAIN + identifier)))}`
    },
  }
}
