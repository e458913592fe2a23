/**
 * The errors `@safeguards/session-redis` raises. It adds no code of its own: the store is one
 * implementation of `@safeguards/session`'s `SessionStore` contract, so it fails the way that
 * contract says. A Redis that is down, times out, or answers with something the store's scripts
 * did not write raises {@link SessionStoreUnavailableError} (`ERR_SESSION_STORE_UNAVAILABLE`),
 * which the session manager treats as "no session" (fail closed). Options are checked when the
 * store is created: `TypeError` for a wrong type, `RangeError` for a bad prefix or duration.
 *
 * HIPAA: 164.312(b) audit controls (stable codes; messages name the operation, never a token).
 *
 * @example
 * ```ts
 * import { SessionStoreUnavailableError } from '@safeguards/session-redis'
 *
 * try { await sessions.validate(token) } catch (e) {
 *   if (e instanceof SessionStoreUnavailableError) reply(503)
 * }
 * ```
 *
 * @module
 */
export {
  type SessionErrorCode,
  SessionStoreUnavailableError,
} from '@safeguards/session'
