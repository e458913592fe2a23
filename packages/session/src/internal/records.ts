/**
 * The pure half of the session manager (see `manager.ts`): argument checks, the records a login
 * and a rotation write (their idle and absolute deadlines), the public view of a record, and the
 * fields of a session event. No store, clock or sink here: the manager passes the time in.
 *
 * HIPAA: 164.312(a)(2)(iii) automatic logoff (the deadlines), 164.312(d) (reauthentication resets
 * the absolute deadline, a plain rotation never extends it).
 *
 * @module
 */
import { assertString } from '@safeguards/core'
import { ReauthRequiredError, SessionStoreUnavailableError } from '../errors.js'
import type { Session, SessionTimeLeft } from '../manager.js'
import type { RoleTimeouts } from '../policy.js'
import type { SessionDataCodec } from '../session-data.js'
import type { SessionRecord } from '../store.js'

const MAX_USER_ID = 256
const ROLE_RE = /^[A-Za-z0-9_.:-]{1,64}$/
const SOURCE = '@safeguards/session'

/** @throws {TypeError} unless a string; @throws {RangeError} when empty or over 256 characters. */
export function checkUserId(userId: unknown): void {
  assertString(userId, 'userId', MAX_USER_ID)
  if (userId.length === 0) throw new RangeError('"userId" must not be empty')
}

/** Accepts `null`/`undefined` (no role). @throws {RangeError} outside 1-64 of `A-Za-z0-9_.:-`. */
export function checkRole(role: unknown): void {
  if (role === null || role === undefined) return
  assertString(role, 'role', 64)
  if (!ROLE_RE.test(role)) throw new RangeError('"role" expected 1-64 of A-Z a-z 0-9 _ . : -')
}

/** The fields every session event has: the session by its id (the token's SHA-256), never the token. */
export function fields(
  r: SessionRecord,
  at: number,
): { at: number; source: string; outcome: 'success'; actor: string; sessionId: string; role: string | null } {
  return { at, source: SOURCE, outcome: 'success', actor: r.userId, sessionId: r.id, role: r.role }
}

/** `e` as the store error of `operation` (kept as is when it already is one). */
export function storeError(operation: string, e: unknown): SessionStoreUnavailableError {
  return e instanceof SessionStoreUnavailableError
    ? e
    : new SessionStoreUnavailableError(operation, { cause: e })
}

/** The public view of a record: its deadlines computed, its data decoded. */
export function viewOf(r: SessionRecord, codec: SessionDataCodec): Session<never> {
  const idle = r.lastActivityAt + r.idleTimeoutMs
  const base = {
    id: r.id,
    userId: r.userId,
    role: r.role,
    createdAt: r.createdAt,
    authAt: r.authAt,
    lastActivityAt: r.lastActivityAt,
    idleTimeoutMs: r.idleTimeoutMs,
    absoluteExpiresAt: r.absoluteExpiresAt,
    idleExpiresAt: idle,
    expiresAt: Math.min(idle, r.absoluteExpiresAt),
  }
  return r.data === undefined ? base : { ...base, data: codec.decode(r.data) as never }
}

/** The record of a login at `at`: authenticated, active and created now. */
export function loginRecord(
  id: string,
  userId: string,
  role: string | null,
  t: Readonly<RoleTimeouts>,
  at: number,
  data: string | undefined,
): SessionRecord {
  return {
    id,
    userId,
    role,
    createdAt: at,
    authAt: at,
    lastActivityAt: at,
    idleTimeoutMs: t.idleTimeoutMs,
    absoluteExpiresAt: at + t.absoluteTimeoutMs,
    ...(data === undefined ? {} : { data }),
  }
}

/**
 * The record that replaces `old` under the new id: a reauthentication restarts the absolute
 * deadline; a rotation or privilege change keeps it, capped by the new role's absolute timeout.
 *
 * @throws {ReauthRequiredError} when that cap has already passed (the new role needs a fresh login).
 */
export function rotatedRecord(
  old: SessionRecord,
  id: string,
  role: string | null,
  t: Readonly<RoleTimeouts>,
  at: number,
  reauth: boolean,
): SessionRecord {
  const absoluteExpiresAt = reauth
    ? at + t.absoluteTimeoutMs
    : Math.min(old.absoluteExpiresAt, old.authAt + t.absoluteTimeoutMs)
  if (absoluteExpiresAt <= at) throw new ReauthRequiredError(t.absoluteTimeoutMs)
  return {
    id,
    userId: old.userId,
    role,
    createdAt: old.createdAt,
    authAt: reauth ? at : old.authAt,
    lastActivityAt: at,
    idleTimeoutMs: t.idleTimeoutMs,
    absoluteExpiresAt,
    ...(old.data === undefined ? {} : { data: old.data }),
  }
}

/** The idle, absolute and overall time left of `session` at `at` (never negative). */
export function timeLeftOf(session: Session<unknown>, at: number): SessionTimeLeft {
  const idleRemainingMs = Math.max(0, session.idleExpiresAt - at)
  const absoluteRemainingMs = Math.max(0, session.absoluteExpiresAt - at)
  return {
    idleRemainingMs,
    absoluteRemainingMs,
    remainingMs: Math.min(idleRemainingMs, absoluteRemainingMs),
  }
}
