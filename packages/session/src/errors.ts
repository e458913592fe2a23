/**
 * Typed errors of `@safeguards/session`. Codes are stable; messages are safe to log (they carry
 * codes, counts and option names, never tokens, token hashes, user ids or PHI).
 *
 * A normal "no" (an unknown, expired, revoked, malformed or oversized token) is a `null` return
 * value, not an error. Errors are for misconfiguration, a refused policy decision the caller must
 * handle (the concurrent-session cap, a step-up requirement) and a store that cannot answer (which
 * fails closed: no session is granted).
 *
 * HIPAA: 164.312(b) audit controls (codes can be written to an audit record as they are).
 *
 * @module
 */
import { CodedError, type ErrorCategory } from '@safeguards/core'

/** The {@link ErrorCategory} of each code this package's base class covers: the one table of its codes. */
const categories = {
  ERR_SESSION_CONFIG: 'invalid-argument',
  ERR_SESSION_STORE_UNAVAILABLE: 'unavailable',
  ERR_SESSION_LIMIT: 'limit',
  ERR_SESSION_REAUTH_REQUIRED: 'conflict',
  ERR_SESSION_DATA: 'invalid-argument',
} as const

/** Every code `@safeguards/session` (and its stores) can throw. */
export type SessionErrorCode = keyof typeof categories

/**
 * The base of this package's coded errors (not exported): it holds the {@link ErrorCategory} of
 * each code, so that each class declares its code only.
 *
 * @internal
 */
class SessionCodedError<C extends SessionErrorCode> extends CodedError<C> {
  static override readonly categories: typeof categories = categories
}

/**
 * Invalid options: timeouts out of range, idle longer than absolute, an unknown role, a weak or
 * mismatched JWT key. The message names the option path, never its value.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (a timeout policy that cannot be met is refused at
 * start-up rather than silently replaced).
 *
 * @example
 * ```ts
 * createSessionManager({ idleTimeoutMs: 0 }) // throws SessionConfigError (ERR_SESSION_CONFIG)
 * ```
 */
export class SessionConfigError extends SessionCodedError<'ERR_SESSION_CONFIG'> {
  static override readonly code = 'ERR_SESSION_CONFIG'
}

/**
 * The session store did not answer (down, timed out, returned something unexpected). The caller
 * must treat the request as unauthenticated: the manager never grants a session it could not
 * check. The underlying client error is kept as `cause` for debugging and is never serialised.
 *
 * HIPAA: 164.312(a)(1) access control (fail closed: no access when sessions cannot be checked).
 *
 * @example
 * ```ts
 * try {
 *   session = await sessions.validate(token)
 * } catch (e) {
 *   if (isSafeguardsError(e, 'ERR_SESSION_STORE_UNAVAILABLE')) return reply.code(503).send()
 *   throw e
 * }
 * ```
 */
export class SessionStoreUnavailableError extends SessionCodedError<'ERR_SESSION_STORE_UNAVAILABLE'> {
  static override readonly code = 'ERR_SESSION_STORE_UNAVAILABLE'
  /** @param operation - the store operation that failed, for example `touch`; @param options - the cause. */
  constructor(operation: string, options?: { cause?: unknown }) {
    super(`session store unavailable during ${operation}`, options)
  }
}

/**
 * `create` was refused because the user already has the maximum number of concurrent sessions
 * and the policy is `reject` (with `evict-oldest`, the oldest session is revoked instead).
 *
 * HIPAA: 164.312(a)(1) access control (a bounded number of live sessions per user).
 *
 * @example
 * ```ts
 * // maxSessionsPerUser: 3, onSessionLimit: 'reject'
 * await sessions.create('u-1') // the fourth: throws SessionLimitError (ERR_SESSION_LIMIT)
 * ```
 */
export class SessionLimitError extends SessionCodedError<'ERR_SESSION_LIMIT'> {
  static override readonly code = 'ERR_SESSION_LIMIT'
  /** The configured maximum. */
  readonly max: number
  /** @param max - the configured cap. */
  constructor(max: number) {
    super(`concurrent session limit reached (max ${max})`)
    this.max = max
  }
}

/**
 * A sensitive action needs a recent (re)authentication and the session's last one is older than
 * allowed. Answer with a step-up challenge, then call `reauthenticate`.
 *
 * HIPAA: 164.312(d) person or entity authentication (step-up before sensitive actions).
 *
 * @example
 * ```ts
 * sessions.requireRecentAuth(session, 5 * 60_000) // throws ReauthRequiredError after 5 minutes
 * ```
 */
export class ReauthRequiredError extends SessionCodedError<'ERR_SESSION_REAUTH_REQUIRED'> {
  static override readonly code = 'ERR_SESSION_REAUTH_REQUIRED'
  /** The maximum authentication age that was required, in ms. */
  readonly maxAgeMs: number
  /** @param maxAgeMs - the required maximum age. */
  constructor(maxAgeMs: number) {
    super(`reauthentication required (max age ${maxAgeMs} ms)`)
    this.maxAgeMs = maxAgeMs
  }
}

/**
 * Session data was refused: it failed the app's schema, has no JSON form, or is over the size
 * cap. The message names the failing paths and the sizes, never a value (data may be sensitive).
 *
 * HIPAA: 164.312(a)(1) access control (a session carries only what the app declared).
 *
 * @example
 * ```ts
 * await sessions.update(token, { tenant: 42 }) // schema wants a string: throws SessionDataError (ERR_SESSION_DATA)
 * ```
 */
export class SessionDataError extends SessionCodedError<'ERR_SESSION_DATA'> {
  static override readonly code = 'ERR_SESSION_DATA'
}
