/**
 * Typed errors of `@safeguards/pkcs11`.
 *
 * Failures that belong to the KEK provider contract of `@safeguards/envelope` use that package's
 * errors, so an application (and the `safeguards` CLI) handles every provider the same way:
 * `KeyUnavailableError` (unknown, disabled, retired or destroyed key version, or an unreachable
 * token), `EnvelopeDecryptionError` (the wrapped key does not authenticate: one error, one message),
 * `UsageLimitError`, `KeyringStateError` (lifecycle misuse) and `KekProviderError` (any other
 * PKCS#11 failure, with the return-value name, never data, in the message).
 *
 * The errors below are raised while a provider is being opened or configured: the PKCS#11 library
 * cannot be loaded, the token is missing, the PIN is refused, the token lacks the mechanism, or a
 * key object in the token breaks the key policy (for example it is extractable).
 *
 * HIPAA: 164.312(b) audit controls (stable codes can be logged as is; messages carry PKCS#11
 * return-value names, token labels and key references, never PINs or key material).
 *
 * @module
 */
import { CodedError, type ErrorCategory, type SafeguardsErrorOptions } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_PKCS11_MODULE: 'key-unavailable',
  ERR_PKCS11_TOKEN_NOT_FOUND: 'key-unavailable',
  ERR_PKCS11_LOGIN: 'key-unavailable',
  ERR_PKCS11_MECHANISM: 'invalid-argument',
  ERR_PKCS11_KEY_POLICY: 'key-unavailable',
  ERR_PKCS11_CLOSED: 'conflict',
} as const

/** Every code `@safeguards/pkcs11` raises itself. Stable: adding a code is minor, removing one is major. */
export type Pkcs11ErrorCode = keyof typeof categories

/**
 * Base class of the errors this package raises itself (see {@link Pkcs11ErrorCode}).
 *
 * @example
 * ```ts
 * try {
 *   await Pkcs11KekProvider.open(options)
 * } catch (e) {
 *   if (e instanceof Pkcs11Error) log.error({ code: e.code }) // never log the options: they hold the PIN
 * }
 * ```
 */
export class Pkcs11Error<C extends Pkcs11ErrorCode = Pkcs11ErrorCode> extends CodedError<C> {
  /** The {@link ErrorCategory} of each code, read by every subclass (the type keeps it complete). */
  static override readonly categories: typeof categories = categories
}

/**
 * The PKCS#11 library (or the Node binding) cannot be loaded or initialised: a wrong path, a
 * library for another architecture, a failing `C_Initialize`.
 *
 * @example
 * ```ts
 * await Pkcs11KekProvider.open({ ...options, module: '/nope.so' }) // throws Pkcs11ModuleError
 * ```
 */
export class Pkcs11ModuleError extends Pkcs11Error<'ERR_PKCS11_MODULE'> {
  static override readonly code = 'ERR_PKCS11_MODULE'
}

/**
 * No token (or more than one) matches the requested label or serial number, or the token is not
 * initialised.
 *
 * @example
 * ```ts
 * await Pkcs11KekProvider.open({ ...options, token: { label: 'missing' } }) // throws Pkcs11TokenNotFoundError
 * ```
 */
export class Pkcs11TokenNotFoundError extends Pkcs11Error<'ERR_PKCS11_TOKEN_NOT_FOUND'> {
  static override readonly code = 'ERR_PKCS11_TOKEN_NOT_FOUND'
}

/** Why a login failed. */
export type Pkcs11LoginReason = 'pin-incorrect' | 'pin-locked' | 'pin-invalid' | 'pin-expired' | 'failed'

/**
 * The token refused the user PIN (incorrect, locked, expired, malformed), or a second provider in
 * this process presented a PIN that differs from the one the token session was opened with. The
 * message never contains the PIN.
 *
 * HIPAA: 164.312(a)(1) access control, 164.312(d) person or entity authentication (of the
 * application to the HSM).
 *
 * @example
 * ```ts
 * await Pkcs11KekProvider.open({ ...options, pin: Secret.of('0000') }) // throws Pkcs11LoginError
 * ```
 */
export class Pkcs11LoginError extends Pkcs11Error<'ERR_PKCS11_LOGIN'> {
  static override readonly code = 'ERR_PKCS11_LOGIN'
  /** Why the login failed. */
  readonly reason: Pkcs11LoginReason
  /** @param reason - why; @param message - names the token and the PKCS#11 return value. */
  constructor(reason: Pkcs11LoginReason, message: string, options?: SafeguardsErrorOptions) {
    super(message, { cause: options?.cause })
    this.reason = reason
  }
}

/**
 * The token does not offer the mechanism the provider needs (`CKM_AES_GCM` for encryption and
 * decryption, `CKM_AES_KEY_GEN` for new key versions).
 *
 * @example
 * ```ts
 * // a token without CKM_AES_GCM -> Pkcs11MechanismError (ERR_PKCS11_MECHANISM)
 * ```
 */
export class Pkcs11MechanismError extends Pkcs11Error<'ERR_PKCS11_MECHANISM'> {
  static override readonly code = 'ERR_PKCS11_MECHANISM'
}

/**
 * A key object in the token breaks the key policy: it is not an AES-256 secret key, it is
 * extractable or not sensitive (so its material may have left the token), it was once extractable
 * (unless imported keys are allowed), or two objects claim the same version.
 *
 * HIPAA: 164.312(a)(2)(iv) (a KEK whose material may exist outside the HSM is refused, not used).
 *
 * @example
 * ```ts
 * // a version created with CKA_EXTRACTABLE=true -> Pkcs11KeyPolicyError (ERR_PKCS11_KEY_POLICY)
 * ```
 */
export class Pkcs11KeyPolicyError extends Pkcs11Error<'ERR_PKCS11_KEY_POLICY'> {
  static override readonly code = 'ERR_PKCS11_KEY_POLICY'
  /** The key reference concerned. */
  readonly keyRef: string
  /** @param keyRef - the version concerned; @param message - names the attribute that fails. */
  constructor(keyRef: string, message: string) {
    super(`${keyRef}: ${message}`)
    this.keyRef = keyRef
  }
}

/**
 * The provider was closed; no further operation is possible. Operations waiting for a session
 * when `close()` is called fail with this error.
 *
 * @example
 * ```ts
 * await provider.close()
 * await provider.wrap(dek, aad) // throws Pkcs11ClosedError
 * ```
 */
export class Pkcs11ClosedError extends Pkcs11Error<'ERR_PKCS11_CLOSED'> {
  static override readonly code = 'ERR_PKCS11_CLOSED'
  /** The message is always `the PKCS#11 provider is closed`. */
  constructor() {
    super('the PKCS#11 provider is closed')
  }
}
