/**
 * Typed errors of `@safeguards/http`. A refused request is not an error: it is a reply with a
 * reason code ({@link HttpReply}). These are misuse (a bad option, a key too short) and a shared
 * throttle store that cannot be reached.
 *
 * HIPAA: 164.312(b) audit controls (stable codes; messages name options, never tokens or PHI).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The error codes raised by `@safeguards/http`. Stable: match on them, never on messages. */
export type HttpErrorCode = 'ERR_HTTP_CONFIG' | 'ERR_HTTP_THROTTLE_STORE'

/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * ```ts
 * if (e instanceof HttpError) console.error(e.code)
 * ```
 */
export class HttpError<C extends HttpErrorCode = HttpErrorCode> extends CodedError<C> {
  static override readonly categories: Readonly<Record<HttpErrorCode, ErrorCategory>> = {
    ERR_HTTP_CONFIG: 'invalid-argument',
    ERR_HTTP_THROTTLE_STORE: 'unavailable',
  }
}

/**
 * An option is malformed or would weaken the defaults: a cookie name without the `__Host-`
 * prefix, a CSRF key shorter than 32 bytes, a throttle limit that is not a positive integer, an
 * unknown option name.
 *
 * @example
 * ```ts
 * createCsrf(new Uint8Array(8)) // throws HttpConfigError (ERR_HTTP_CONFIG)
 * ```
 */
export class HttpConfigError extends HttpError<'ERR_HTTP_CONFIG'> {
  static override readonly code = 'ERR_HTTP_CONFIG'
}

/**
 * The sign-in throttle's store failed. The sign-in must be refused (503): an attempt that cannot
 * be counted is not allowed (fail closed).
 *
 * @example
 * ```ts
 * try { await throttle.attempt(account, address) } catch (e) { if (e instanceof HttpThrottleStoreError) reply(503) }
 * ```
 */
export class HttpThrottleStoreError extends HttpError<'ERR_HTTP_THROTTLE_STORE'> {
  static override readonly code = 'ERR_HTTP_THROTTLE_STORE'
}
