/**
 * Typed errors of `@safeguards/password`. A wrong password is not an error (`verifyPassword`
 * resolves to `{ valid: false }`); these are misuse, corrupted stored data and overload.
 *
 * HIPAA: 164.312(b) audit controls (stable codes, never passwords or hashes in messages).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_PASSWORD_TOO_LARGE: 'invalid-input',
  ERR_PASSWORD_INVALID_TEXT: 'invalid-input',
  ERR_PASSWORD_HASH_FORMAT: 'invalid-input',
  ERR_PASSWORD_PEPPER_UNKNOWN: 'key-unavailable',
  ERR_PASSWORD_BUSY: 'unavailable',
  ERR_PASSWORD_CONFIG: 'invalid-argument',
} as const

/** The error codes raised by `@safeguards/password`. Stable: match on them, never on messages. */
export type PasswordErrorCode = keyof typeof categories

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof PasswordError) log.warn({ code: e.code })
 * ```
 */
export class PasswordError<C extends PasswordErrorCode = PasswordErrorCode> extends CodedError<C> {
  /** The {@link ErrorCategory} of each code, read by every subclass (the type keeps it complete). */
  static override readonly categories: typeof categories = categories
}

/**
 * The password is longer than the byte cap (1 KiB of UTF-8 by default). Raised before any hashing,
 * so an attacker cannot make the server spend memory or time on huge inputs.
 *
 * @example
 * ```ts
 * await hashPassword('x'.repeat(2000)) // throws PasswordTooLargeError (ERR_PASSWORD_TOO_LARGE)
 * ```
 */
export class PasswordTooLargeError extends PasswordError<'ERR_PASSWORD_TOO_LARGE'> {
  static override readonly code = 'ERR_PASSWORD_TOO_LARGE'
  /** @param maxBytes - the cap that was exceeded. */
  constructor(maxBytes: number) {
    super(`password exceeds ${maxBytes} bytes`)
  }
}

/**
 * The password contains an unpaired UTF-16 surrogate, which has no UTF-8 form (two different
 * inputs would otherwise hash the same).
 *
 * @example
 * ```ts
 * await hashPassword('\ud800abc') // throws PasswordInvalidTextError (ERR_PASSWORD_INVALID_TEXT)
 * ```
 */
export class PasswordInvalidTextError extends PasswordError<'ERR_PASSWORD_INVALID_TEXT'> {
  static override readonly code = 'ERR_PASSWORD_INVALID_TEXT'
  constructor() {
    super('password is not well-formed Unicode')
  }
}

/**
 * A stored hash is not a PHC string this package can verify (corrupted or foreign data).
 *
 * @example
 * ```ts
 * await verifyPassword('not-a-hash', pw) // throws PasswordHashFormatError (ERR_PASSWORD_HASH_FORMAT)
 * ```
 */
export class PasswordHashFormatError extends PasswordError<'ERR_PASSWORD_HASH_FORMAT'> {
  static override readonly code = 'ERR_PASSWORD_HASH_FORMAT'
  /** @param detail - which part is malformed (never the hash itself); @param options - the cause. */
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`malformed password hash: ${detail}`, options)
  }
}

/**
 * A stored hash names a pepper key id that the hasher does not have. Verification fails closed:
 * it never falls back to verifying without the pepper.
 *
 * @example
 * ```ts
 * // hash made with pepper key "k1", hasher configured with "k2" only
 * await hasher.verify(hash, pw) // throws PepperKeyMissingError (ERR_PASSWORD_PEPPER_UNKNOWN)
 * ```
 */
export class PepperKeyMissingError extends PasswordError<'ERR_PASSWORD_PEPPER_UNKNOWN'> {
  static override readonly code = 'ERR_PASSWORD_PEPPER_UNKNOWN'
  constructor() {
    super('the pepper key named by the hash is not configured')
  }
}

/**
 * Too many hashes are queued: the hasher refuses new work instead of letting memory grow. Answer
 * the request with 503 and a retry hint.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof PasswordHasherBusyError) return reply.code(503).send() }
 * ```
 */
export class PasswordHasherBusyError extends PasswordError<'ERR_PASSWORD_BUSY'> {
  static override readonly code = 'ERR_PASSWORD_BUSY'
  /** @param queued - how many calls were already waiting. */
  constructor(queued: number) {
    super(`password hasher busy (${queued} queued)`)
  }
}

/**
 * The hasher or policy options are invalid or below the security floor.
 *
 * @example
 * ```ts
 * createPasswordHasher({ memoryCost: 1024 }) // throws PasswordConfigError (ERR_PASSWORD_CONFIG)
 * ```
 */
export class PasswordConfigError extends PasswordError<'ERR_PASSWORD_CONFIG'> {
  static override readonly code = 'ERR_PASSWORD_CONFIG'
}
