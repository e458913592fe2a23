/**
 * Typed errors of `@safeguards/envelope`.
 *
 * The contract (style rules 1 and 3):
 * - every cryptographic failure (wrong key, wrong context, a changed byte anywhere, a truncated,
 *   reordered, spliced or extended stream, a failed key commitment) throws the single
 *   {@link EnvelopeDecryptionError} with the single message `decryption failed`: no oracle;
 * - policy failures are distinct and are decided before any cryptography: the key is unavailable
 *   ({@link KeyUnavailableError}, naming the key reference, which is not secret), the input is not
 *   an envelope or is malformed ({@link EnvelopeFormatError}), a version or suite is unknown
 *   ({@link UnsupportedFormatError}), a bound is exceeded ({@link EnvelopeLimitError});
 * - keyring misuse and keyring-file problems have their own codes.
 *
 * HIPAA: 164.312(b) audit controls (stable codes can be logged as is; messages carry key
 * references and counts, never keys, plaintext or context values) and 164.312(c)(2) integrity
 * (tampering is reported, uniformly).
 *
 * @module
 */
import {
  CodedError,
  type ErrorCategory,
  SafeguardsError,
  type SafeguardsErrorOptions,
} from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_ENVELOPE_DECRYPTION_FAILED: 'integrity',
  ERR_ENVELOPE_KEY_UNAVAILABLE: 'key-unavailable',
  ERR_ENVELOPE_FORMAT: 'invalid-input',
  ERR_ENVELOPE_UNSUPPORTED: 'invalid-input',
  ERR_ENVELOPE_LIMIT: 'limit',
  ERR_ENVELOPE_CONTEXT: 'invalid-argument',
  ERR_ENVELOPE_USAGE_LIMIT: 'limit',
  ERR_KEK_PROVIDER: 'unavailable',
  ERR_KEYRING_STATE: 'conflict',
  ERR_KEYRING_SEALED: 'key-unavailable',
  ERR_RECIPIENT_KEY: 'invalid-input',
  ERR_SUBJECT_SHREDDED: 'key-unavailable',
  ERR_SUBJECT_KEY_STORE: 'io',
} as const

/** Every code `@safeguards/envelope` raises. Stable: adding a code is minor, removing one is major. */
export type EnvelopeErrorCode = keyof typeof categories | 'ERR_KEYRING_FILE'

/**
 * The base of this package's coded errors (not exported): it holds the {@link ErrorCategory} of
 * each code, so that each class declares its code only.
 *
 * @internal
 */
class EnvelopeCodedError<C extends EnvelopeErrorCode> extends CodedError<C> {
  static override readonly categories: typeof categories = categories
}

/**
 * Decryption failed. One error, one message, for every cryptographic failure: a wrong KEK, a wrong
 * encryption context, a failed key commitment, a bad header tag or frame tag, truncation,
 * reordering, splicing, extension. KEK providers throw it from `unwrap` when the wrapped key does
 * not authenticate.
 *
 * HIPAA: 164.312(c)(2) mechanism to authenticate ePHI; 164.312(a)(2)(iv) decryption.
 *
 * @example
 * ```ts
 * try {
 *   await envelope.decrypt(ciphertext, { patient: 'p-1' })
 * } catch (e) {
 *   if (e instanceof EnvelopeDecryptionError) return reject(e.code) // ERR_ENVELOPE_DECRYPTION_FAILED
 *   throw e
 * }
 * ```
 */
export class EnvelopeDecryptionError extends EnvelopeCodedError<'ERR_ENVELOPE_DECRYPTION_FAILED'> {
  static override readonly code = 'ERR_ENVELOPE_DECRYPTION_FAILED'
  /** The message is always `decryption failed`; `cause` is never set, so nothing distinguishes failures. */
  constructor() {
    super('decryption failed')
  }
}

/** Why a key is unavailable. */
export type KeyUnavailableReason =
  | 'unknown'
  | 'disabled'
  | 'destroyed'
  | 'retired'
  | 'no-provider'
  | 'no-primary'
  | 'unreachable'

/**
 * The key that an envelope names (or that an operation needs) cannot be used: it is unknown to
 * the provider, disabled, destroyed, below the decrypt floor (retired), served by no registered
 * provider, or the provider cannot be reached. Decided before any cryptography. The key
 * reference is an identifier, not a secret, and is named in the message.
 *
 * HIPAA: 164.312(a)(2)(iv) (a destroyed or disabled key makes its data unreadable, on purpose).
 *
 * @example
 * ```ts
 * throw new KeyUnavailableError('local:default@v3', 'disabled')
 * // message: 'key local:default@v3 is unavailable (disabled)'
 * ```
 */
export class KeyUnavailableError extends EnvelopeCodedError<'ERR_ENVELOPE_KEY_UNAVAILABLE'> {
  static override readonly code = 'ERR_ENVELOPE_KEY_UNAVAILABLE'
  /** The key reference, for example `local:default@v3`. */
  readonly keyRef: string
  /** Why it is unavailable. */
  readonly reason: KeyUnavailableReason

  /**
   * @param keyRef - the key reference (not secret).
   * @param reason - why it cannot be used.
   * @param options - the cause.
   */
  constructor(keyRef: string, reason: KeyUnavailableReason, options?: SafeguardsErrorOptions) {
    super(`key ${keyRef} is unavailable (${reason})`, { cause: options?.cause })
    this.keyRef = keyRef
    this.reason = reason
  }
}

/**
 * The input is not a well-formed envelope header: wrong magic, a length that runs past the end of
 * the input, a zero or out-of-range field, trailing garbage in a header-only value. Reported
 * before any cryptography (header fields are public).
 *
 * @example
 * ```ts
 * inspectEnvelope(new Uint8Array([1, 2, 3])) // throws EnvelopeFormatError (ERR_ENVELOPE_FORMAT)
 * ```
 */
export class EnvelopeFormatError extends EnvelopeCodedError<'ERR_ENVELOPE_FORMAT'> {
  static override readonly code = 'ERR_ENVELOPE_FORMAT'
}

/**
 * The envelope declares a format version or suite this library does not implement. There is no
 * fallback and no "try every key" mode.
 *
 * @example
 * ```ts
 * // an envelope with formatVersion 2 -> UnsupportedFormatError (ERR_ENVELOPE_UNSUPPORTED)
 * ```
 */
export class UnsupportedFormatError extends EnvelopeCodedError<'ERR_ENVELOPE_UNSUPPORTED'> {
  static override readonly code = 'ERR_ENVELOPE_UNSUPPORTED'
}

/**
 * A configured bound was exceeded: too many wrapped keys, a wrapped key or key reference too long,
 * a frame length outside 4 KiB..16 MiB, a message with 2^32 frames, a context over 64 KiB.
 *
 * @example
 * ```ts
 * // an envelope listing 9 wrapped keys when maxEdks is 4 -> EnvelopeLimitError (ERR_ENVELOPE_LIMIT)
 * ```
 */
export class EnvelopeLimitError extends EnvelopeCodedError<'ERR_ENVELOPE_LIMIT'> {
  static override readonly code = 'ERR_ENVELOPE_LIMIT'
}

/**
 * The encryption context is not acceptable: a non-string value, a lone surrogate, an empty key,
 * a key with the reserved `hge:` prefix, or a stored key that is not in the context. Names the
 * problem, never the value (context values may be PHI identifiers).
 *
 * @example
 * ```ts
 * await envelope.encrypt(data, { 'hge:x': '1' }) // throws InvalidContextError (ERR_ENVELOPE_CONTEXT)
 * ```
 */
export class InvalidContextError extends EnvelopeCodedError<'ERR_ENVELOPE_CONTEXT'> {
  static override readonly code = 'ERR_ENVELOPE_CONTEXT'
}

/**
 * A KEK version has reached the hard usage cap (by default 2^32 wraps with random IVs, NIST SP
 * 800-38D §8.3) and the budget policy is `throw`. Rotate the key (add, promote) and retry.
 *
 * HIPAA: 164.312(a)(2)(iv) (keeps AES-GCM within its proven security bound).
 *
 * @example
 * ```ts
 * // policy 'throw', limit reached -> UsageLimitError (ERR_ENVELOPE_USAGE_LIMIT), keyRef set
 * ```
 */
export class UsageLimitError extends EnvelopeCodedError<'ERR_ENVELOPE_USAGE_LIMIT'> {
  static override readonly code = 'ERR_ENVELOPE_USAGE_LIMIT'
  /** The exhausted key reference. */
  readonly keyRef: string

  /** @param keyRef - the exhausted key; @param limit - the cap that was reached. */
  constructor(keyRef: string, limit: bigint | number) {
    super(`key ${keyRef} reached its usage limit of ${limit}`)
    this.keyRef = keyRef
  }
}

/**
 * A KEK provider failed for a reason that is neither "decryption failed" nor "key unavailable":
 * a misconfiguration or an unexpected response. Provider implementations (PKCS#11, cloud KMS)
 * wrap their native errors in it; the native error goes into `cause`, never into the message.
 *
 * @example
 * ```ts
 * throw new KekProviderError('pkcs11', 'C_WrapKey failed (CKR_DEVICE_ERROR)', { cause: e })
 * ```
 */
export class KekProviderError extends EnvelopeCodedError<'ERR_KEK_PROVIDER'> {
  static override readonly code = 'ERR_KEK_PROVIDER'
  /** The provider id, for example `local` or `pkcs11`. */
  readonly providerId: string

  /** @param providerId - the provider; @param message - safe detail (codes, not secrets); @param options - the cause. */
  constructor(providerId: string, message: string, options?: SafeguardsErrorOptions) {
    super(`${providerId}: ${message}`, { cause: options?.cause })
    this.providerId = providerId
  }
}

/**
 * A keyring lifecycle operation is not allowed: promoting a disabled key, disabling or destroying
 * the primary, destroying without `allowDestroy`, an unknown version.
 *
 * @example
 * ```ts
 * await keyring.destroy(1) // throws KeyringStateError unless { allowDestroy: true }
 * ```
 */
export class KeyringStateError extends EnvelopeCodedError<'ERR_KEYRING_STATE'> {
  static override readonly code = 'ERR_KEYRING_STATE'
}

/**
 * The keyring file cannot be used: missing, already exists on create, readable by group or
 * others, malformed, or locked by another writer for too long.
 *
 * @example
 * ```ts
 * await LocalKeyring.open('/etc/app/keyring.json') // mode 0644 -> KeyringFileError
 * ```
 */
export class KeyringFileError extends SafeguardsError<'ERR_KEYRING_FILE'> {
  // Not a CodedError: the category is per instance (`io`, `invalid-input`, `conflict`,
  // `key-unavailable`), which CodedError's static category cannot express.
  static readonly code = 'ERR_KEYRING_FILE'
  /**
   * @param message - names the path and what was attempted (the path is the caller's, not a secret).
   * @param options - the cause; `category` is `io` (default: the file cannot be read, written or
   * locked) or `invalid-input` (the file's contents are malformed or its permissions unsafe).
   */
  constructor(message: string, options?: SafeguardsErrorOptions) {
    super('ERR_KEYRING_FILE', message, { category: 'io', ...options })
  }
}

/**
 * The keyring is sealed and the master secret (environment variable or passphrase) is missing
 * or wrong. One message for both, so the file is not an oracle for the passphrase.
 *
 * @example
 * ```ts
 * await LocalKeyring.open(path, { passphrase: Secret.of('wrong') }) // throws KeyringSealedError
 * ```
 */
export class KeyringSealedError extends EnvelopeCodedError<'ERR_KEYRING_SEALED'> {
  static override readonly code = 'ERR_KEYRING_SEALED'
  /** @param message - defaults to a generic message. */
  constructor(message = 'keyring is sealed: the master secret is missing or wrong') {
    super(message)
  }
}

/**
 * A recipient key (an X25519 public key or identity for sealing to recipients) cannot be
 * imported: not PEM (SPKI `PUBLIC KEY` or PKCS#8 `PRIVATE KEY`) or JWK (`OKP`, `X25519`), the
 * wrong algorithm or length, or a JWK whose `x` does not belong to its `d`. The message names the
 * problem, never key bytes.
 *
 * @example
 * ```ts
 * await RecipientPublicKey.import('not a key') // throws RecipientKeyError (ERR_RECIPIENT_KEY)
 * ```
 */
export class RecipientKeyError extends EnvelopeCodedError<'ERR_RECIPIENT_KEY'> {
  static override readonly code = 'ERR_RECIPIENT_KEY'
}

/** Codes of the blind-index API (issue 17 §2); also raised by `@safeguards/envelope`. */
export type BlindIndexErrorCode = 'ERR_BLIND_INDEX_INPUT'

/**
 * A blind-index normaliser refused a value: an SSN without exactly nine digits, a phone number
 * with letters or too few digits, an email without one `@`, a date that does not exist or is not
 * in a recognised form, an empty value, a compound value missing a field. Raised before any
 * hashing. The message names the normaliser and the rule, never the value (it is PHI).
 *
 * HIPAA: 164.312(a)(2)(iv) (a value is indexed only in its one canonical form, so a lookup finds it).
 *
 * @example
 * ```ts
 * normalizeSsn('12-345') // throws BlindIndexInputError (ERR_BLIND_INDEX_INPUT), normalizer 'ssn'
 * ```
 */
export class BlindIndexInputError extends CodedError<'ERR_BLIND_INDEX_INPUT'> {
  static override readonly code = 'ERR_BLIND_INDEX_INPUT'
  static override readonly category: ErrorCategory = 'invalid-input'
  /** The normaliser that refused the value: `ssn`, `phone`, `email`, `date`, `text`, `compound`, or `index`. */
  readonly normalizer: string

  /** @param normalizer - which normaliser; @param message - the rule broken (never the value). */
  constructor(normalizer: string, message: string) {
    super(`${normalizer}: ${message}`)
    this.normalizer = normalizer
  }
}

/**
 * The subject's key was destroyed by `shredSubject` (crypto-shredding): every message of that
 * subject is unreadable for good, and no new key can be created for the subject. Decided from the
 * subject-key store's tombstone before any cryptography, so it is distinct from tampering
 * ({@link EnvelopeDecryptionError}). The key reference is the subject's opaque reference (a keyed
 * hash), never the subject id.
 *
 * HIPAA: 164.310(d)(2)(i) disposal (the data of a disposed subject stays unreadable);
 * 164.312(a)(2)(iv) decryption.
 *
 * @example
 * ```ts
 * try {
 *   await subjectEnvelope.decrypt(ct, { table: 'patients', column: 'ssn' })
 * } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_SUBJECT_SHREDDED')) return gone() // the patient's data was erased
 *   throw e
 * }
 * ```
 */
export class SubjectShreddedError extends EnvelopeCodedError<'ERR_SUBJECT_SHREDDED'> {
  static override readonly code = 'ERR_SUBJECT_SHREDDED'
  /** The subject key's reference, for example `subject:3q2-7w…@v1` (opaque: no subject id). */
  readonly keyRef: string

  /** @param keyRef - the shredded subject key's reference (not secret, not the subject id). */
  constructor(keyRef: string) {
    super(`subject key ${keyRef} was shredded`)
    this.keyRef = keyRef
  }
}

/**
 * A subject-key store failed or holds something it should not: a file that cannot be read or is
 * malformed, a database error, a record that breaks the store's invariants. The native error is
 * the `cause`; the message names the operation, never key material or subject ids.
 *
 * @example
 * ```ts
 * // a subject-key file edited by hand into invalid JSON -> SubjectKeyStoreError (ERR_SUBJECT_KEY_STORE)
 * ```
 */
export class SubjectKeyStoreError extends EnvelopeCodedError<'ERR_SUBJECT_KEY_STORE'> {
  static override readonly code = 'ERR_SUBJECT_KEY_STORE'
}
