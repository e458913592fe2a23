/**
 * Record helpers of the session manager: event fields, store-error wrapping, the public view.
 *
 * @module
 */
import { SessionStoreUnavailableError } from '../errors.js'
import type { Session } from '../manager.js'
import type { SessionDataCodec } from '../session-data.js'
import type { SessionRecord } from '../store.js'

const SOURCE = '@safeguards/session'

/** The fields every session event has: the session by its id (the token's SHA-256), never the token. */
export function fields(
  r: SessionRecord,
  at: number,
): { at: number; source: string; outcome: 'success'; actor: string; sessionId: string; role: string | null } {
  return { at, source: SOURCE, outcome: 'success', actor: r.userId, sessionId: r.id, role: r.role }
}

/** The store's failure as a SessionStoreUnavailableError (kept as the cause). */
export function storeError(operation: string, e: unknown): SessionStoreUnavailableError {
  return e instanceof SessionStoreUnavailableError
    ? e
    : new SessionStoreUnavailableError(operation, { cause: e })
}

/** The public view of a record, with computed deadlines and decoded data. */
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
