/**
 * Sealing TOTP secrets at rest. {@link SecretSealer} is a structural interface: the object
 * `@safeguards/envelope`'s `createEnvelope(...)` returns has exactly this shape, so it can be
 * passed as is; {@link createAesGcmSealer} is the built-in alternative (AES-256-GCM through Web
 * Crypto, key from the caller) so this package also works on its own.
 *
 * Secrets are always sealed with the context `{ purpose: 'totp', user, credential }`, bound into
 * the ciphertext as authenticated data: a sealed secret copied to another user's or credential's
 * record does not open.
 *
 * @module
 */
import { assertBytes, canonicalBytes, concatBytes, type RandomSource, randomBytes } from '@safeguards/core'
import { MfaConfigError, MfaSealError } from './errors.js'
import { checkOptions } from './internal/options.js'

/** Encrypts and decrypts small secrets bound to a context (authenticated, never stored in clear). */
export interface SecretSealer {
  /** Encrypts `plaintext`; `context` is authenticated but not stored secretly. */
  encrypt(plaintext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>
  /** Decrypts; throws when the ciphertext or the context differ from what was sealed. */
  decrypt(ciphertext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>
}

/**
 * The context TOTP secrets are sealed with: `{ purpose: 'totp', user, credential }`.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (the ciphertext is bound to its owner).
 *
 * @throws never.
 * @example
 * ```ts
 * await envelope.encrypt(secret, totpSealContext('u-1', credentialId))
 * ```
 */
export function totpSealContext(user: string, credential: string): Record<string, string> {
  return { purpose: 'totp', user, credential }
}

const VERSION = 1
const NONCE = 12

/** Options of {@link createAesGcmSealer}. */
export interface AesGcmSealerOptions {
  /** Nonce source (default the platform CSPRNG). */
  random?: RandomSource
}

/**
 * A {@link SecretSealer} using AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per
 * message and the RFC 8785 canonical JSON of the context as additional authenticated data.
 * Format: `0x01 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`. Random nonces keep the key safe for up to
 * 2^32 messages, far beyond the number of TOTP enrollments. Every failure to open is the same
 * {@link MfaSealError}.
 *
 * HIPAA: 164.312(a)(2)(iv) encryption and decryption (authenticator secrets encrypted at rest).
 *
 * @param key - 32 raw bytes (copied and imported as non-extractable), or a 256-bit AES-GCM
 *   `CryptoKey` usable for `encrypt` and `decrypt`.
 * @throws {MfaConfigError} (code `ERR_MFA_CONFIG`) when `key` is bytes of another length (a short or
 *   empty environment variable, say), an AES-GCM `CryptoKey` of another size or without both
 *   usages, or `options` has an unknown key. The message never contains key material.
 * @throws {TypeError} when `key` is neither a `Uint8Array` nor an AES-GCM `CryptoKey`.
 * @example
 * ```ts
 * const sealer = await createAesGcmSealer(kekFromKms)
 * const sealed = await sealer.encrypt(secret, { purpose: 'totp', user: 'u-1', credential: 'c-1' })
 * ```
 */
export async function createAesGcmSealer(
  key: Uint8Array | CryptoKey,
  options: AesGcmSealerOptions = {},
): Promise<SecretSealer> {
  checkOptions(options, ['random'] satisfies (keyof AesGcmSealerOptions)[])
  const subtle = globalThis.crypto.subtle
  let cryptoKey: CryptoKey
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new MfaConfigError(`"key" must be 32 bytes (AES-256), got ${key.length}`)
    cryptoKey = await subtle.importKey('raw', key.slice() as BufferSource, { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ])
  } else if (
    typeof CryptoKey !== 'undefined' &&
    key instanceof CryptoKey &&
    key.algorithm.name === 'AES-GCM'
  ) {
    const bits = (key.algorithm as AesKeyAlgorithm).length
    if (bits !== 256) throw new MfaConfigError(`"key" must be an AES-256-GCM key, got ${bits} bits`)
    if (!key.usages.includes('encrypt') || !key.usages.includes('decrypt'))
      throw new MfaConfigError('"key" must be usable for encrypt and decrypt')
    cryptoKey = key
  } else {
    throw new TypeError('"key" expected 32 bytes or an AES-GCM CryptoKey')
  }
  const random = options.random ?? randomBytes
  const aad = (context: Record<string, string>): Uint8Array => {
    if (typeof context !== 'object' || context === null) throw new TypeError('"context" expected an object')
    for (const v of Object.values(context))
      if (typeof v !== 'string') throw new TypeError('"context" values expected strings')
    return canonicalBytes(context)
  }
  return {
    async encrypt(plaintext: Uint8Array, context: Record<string, string>): Promise<Uint8Array> {
      assertBytes(plaintext, 'plaintext')
      const nonce = random(NONCE)
      assertBytes(nonce, 'random(12)', NONCE)
      const ct = await subtle.encrypt(
        { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad(context) as BufferSource },
        cryptoKey,
        plaintext as BufferSource,
      )
      return concatBytes(new Uint8Array([VERSION]), nonce, new Uint8Array(ct))
    },
    async decrypt(ciphertext: Uint8Array, context: Record<string, string>): Promise<Uint8Array> {
      assertBytes(ciphertext, 'ciphertext')
      const additionalData = aad(context)
      if (ciphertext.length < 1 + NONCE + 16 || ciphertext[0] !== VERSION) throw new MfaSealError()
      try {
        const pt = await subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: ciphertext.subarray(1, 1 + NONCE) as BufferSource,
            additionalData: additionalData as BufferSource,
          },
          cryptoKey,
          ciphertext.subarray(1 + NONCE) as BufferSource,
        )
        return new Uint8Array(pt)
      } catch (cause) {
        throw new MfaSealError({ cause })
      }
    },
  }
}
