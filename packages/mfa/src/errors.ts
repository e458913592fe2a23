/**
 * Typed errors of `@safeguards/mfa`. A wrong, malformed, replayed or throttled code is not an
 * error: verification resolves to `{ valid: false, reason }`. These are misuse and tampering.
 *
 * HIPAA: 164.312(b) audit controls (stable codes that can be recorded without secrets) and
 * 164.312(c)(1) integrity (tampered records are reported, not used).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_MFA_SEAL: 'integrity',
  ERR_MFA_STORE: 'unavailable',
  ERR_MFA_CONFIG: 'invalid-argument',
  // A deployment's configuration to fix (install the package), not a runtime outage.
  ERR_MFA_DEPENDENCY: 'invalid-argument',
} as const

/** The error codes raised by `@safeguards/mfa`. Stable: match on them, never on messages. */
export type MfaErrorCode = keyof typeof categories

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof MfaError) log.error({ code: e.code })
 * ```
 */
export class MfaError<C extends MfaErrorCode = MfaErrorCode> extends CodedError<C> {
  /** The {@link ErrorCategory} of each code, read by every subclass (the type keeps it complete). */
  static override readonly categories: typeof categories = categories
}

/**
 * A sealed TOTP secret could not be opened: wrong key, wrong user or credential (the context is
 * bound into the ciphertext), or tampering. Always the same message, whatever the cause.
 *
 * @example
 * ```ts
 * await sealer.decrypt(sealed, { purpose: 'totp', user: 'u-2', credential }) // throws MfaSealError
 * ```
 */
export class MfaSealError extends MfaError<'ERR_MFA_SEAL'> {
  static override readonly code = 'ERR_MFA_SEAL'
  /** @param options - the cause (kept for debugging; the message is always the same). */
  constructor(options?: { cause?: unknown }) {
    super('sealed secret could not be opened', options)
  }
}

/**
 * The store holds data this package did not write (corrupted or tampered), or could not complete
 * an atomic update after many retries.
 *
 * @example
 * ```ts
 * // a credential record replaced by garbage in Redis
 * await mfa.verify('u-1', code) // throws MfaStoreError (ERR_MFA_STORE)
 * ```
 */
export class MfaStoreError extends MfaError<'ERR_MFA_STORE'> {
  static override readonly code = 'ERR_MFA_STORE'
}

/**
 * Options are invalid: an unknown option (a typo never falls back to a default), a window above
 * ±2 steps, a throttle policy that allows more than 100 consecutive failures, a sealing key that is
 * not AES-256 (for example a short or empty environment variable). Messages name the option, never
 * a key.
 *
 * @example
 * ```ts
 * createTotpVerifier({ window: 5 }) // throws MfaConfigError (ERR_MFA_CONFIG)
 * ```
 */
export class MfaConfigError extends MfaError<'ERR_MFA_CONFIG'> {
  static override readonly code = 'ERR_MFA_CONFIG'
}

/**
 * An optional dependency the requested feature needs is not installed: recovery codes hash with
 * argon2id through `@safeguards/password` (and its native `argon2`), which TOTP alone does not
 * need. Install the package named by {@link MfaDependencyError.dependency}, or pass your own
 * `recoveryHasher`.
 *
 * @example
 * ```ts
 * // an app that installed @safeguards/mfa without @safeguards/password
 * await mfa.generateRecoveryCodes('u-1') // throws MfaDependencyError (ERR_MFA_DEPENDENCY)
 * ```
 */
export class MfaDependencyError extends MfaError<'ERR_MFA_DEPENDENCY'> {
  static override readonly code = 'ERR_MFA_DEPENDENCY'
  /** The package to install. */
  readonly dependency: string
  /** @param dependency - the npm package to install; @param cause - the resolution failure. */
  constructor(dependency: string, cause?: unknown) {
    super(
      `recovery codes need ${dependency} (argon2id), which is not installed: npm install ${dependency}, or pass recoveryHasher`,
      cause === undefined ? undefined : { cause },
    )
    this.dependency = dependency
  }
}
