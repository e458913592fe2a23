/**
 * Session events for the audit trail. Each carries what an audit record needs (who, which session,
 * when, why) and no secrets: the session is named by its id (SHA-256 of the token), never by the
 * token.
 *
 * @module
 */

/** Fields every event has. */
export interface SessionEventBase {
  /** The session id (SHA-256 of the token, hex). Safe to log; not usable as a token. */
  readonly sessionId: string
  /** The user. */
  readonly userId: string
  /** The role, or `null`. */
  readonly role: string | null
  /** When it happened (ms since the epoch, manager clock). */
  readonly at: number
}

/** A session was created at login. */
export interface SessionCreatedEvent extends SessionEventBase {
  readonly type: 'session.created'
}

/** The token was rotated: `previousSessionId` is dead, `sessionId` replaces it. */
export interface SessionRotatedEvent extends SessionEventBase {
  readonly type: 'session.rotated'
  readonly previousSessionId: string
  /** `rotate` (explicit), `privilege-change` (role changed) or `reauthentication`. */
  readonly reason: 'rotate' | 'privilege-change' | 'reauthentication'
}

/** The session reached a deadline; reported once, by the validation that found it. */
export interface SessionExpiredEvent extends SessionEventBase {
  readonly type: 'session.expired'
  readonly reason: 'idle' | 'absolute'
}

/** The session was revoked. */
export interface SessionRevokedEvent extends SessionEventBase {
  readonly type: 'session.revoked'
  /**
   * `logout` (revoke), `revoke-all` (log out everywhere), `evicted` (the concurrent-session cap),
   * `login` (replaced by a new login on the same client: fixation defence).
   */
  readonly reason: 'logout' | 'revoke-all' | 'evicted' | 'login'
}

/** Every session event. */
export type SessionEvent =
  | SessionCreatedEvent
  | SessionRotatedEvent
  | SessionExpiredEvent
  | SessionRevokedEvent

/** The event hook. It may be async; its result is not awaited and its errors go to `onEventError`. */
export type SessionEventHook = (event: SessionEvent) => void | Promise<void>
